//! Services: create, list (filtered by tag), get, update, scale, change
//! the password, start, stop, wake and delete, on a state machine whose
//! delays are real time divided by the clock's speed.
//!
//! A state is computed on read from the time it began: a service created
//! at `t` is `provisioning` until `t + 120 s / speed`, then `running`.

use std::time::Duration;

use axum::http::Uri;
use clickhouse_cloud_types::ops::{
    InstanceCreate, InstanceDelete, InstanceGet, InstanceGetList, InstanceGetListQuery,
    InstancePasswordUpdate, InstanceReplicaScalingUpdate, InstanceScalingUpdate,
    InstanceStateUpdate, InstanceUpdate, OrganizationPath, ServicePath,
};
use clickhouse_cloud_types::{
    Activity, ActivityType, AutoscalingMode, CurrentScaling,
    CurrentScalingEffectiveAutoscalingMode, IpAccessListEntry, Region, ResourceTagsV1, SecretValue,
    Service, ServiceEndpoint, ServiceEndpointChange, ServiceEndpointChangeProtocol,
    ServiceEndpointProtocol, ServicePasswordPatchRequest, ServicePasswordPatchResponse,
    ServicePatchRequest, ServicePostRequest, ServicePostResponse, ServiceProvider,
    ServiceReleaseChannel, ServiceReplicaScalingPatchRequest, ServiceScalingPatchRequest,
    ServiceScalingPatchResponse, ServiceState, ServiceStatePatchRequest,
    ServiceStatePatchRequestCommand, ServiceTier, Timestamp,
};
use uuid::Uuid;

use crate::auth::{check_ip_list, parse_source};
use crate::clock::Clock;
use crate::error::{ApiError, ServiceHold};
use crate::pipeline::{Answer, Context, Handle};
use crate::roles::Access;
use crate::world::{Org, World};

/// How long each transitional state lasts at speed 1.
pub(crate) const PROVISIONING: Duration = Duration::from_secs(120);
/// `starting` to `running`.
pub(crate) const STARTING: Duration = Duration::from_secs(60);
/// `stopping` to `stopped`.
pub(crate) const STOPPING: Duration = Duration::from_secs(60);
/// `awaking` to `running`.
pub(crate) const AWAKING: Duration = Duration::from_secs(30);
/// `terminating` to gone.
pub(crate) const TERMINATING: Duration = Duration::from_secs(30);

const DEFAULT_IDLE_MINUTES: f64 = 15.0;
const MIN_IDLE_MINUTES: f64 = 5.0;
const MAX_NAME_CHARS: usize = 50;
const CLICKHOUSE_VERSION: &str = "25.8";

/// Operations (answered from examples) that need the service running:
/// they answer `424` while it is not.
pub(crate) const NEED_RUNNING: [&str; 8] = [
    "udfAttach",
    "udfDetach",
    "clickPipeCreate",
    "clickPipeSchemaDiscovery",
    "serviceClickhouseSettingsListGet",
    "serviceClickhouseSettingsUpdate",
    "serviceClickhouseSettingGet",
    "serviceClickhouseSettingDelete",
];

/// Where a service is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Provisioning,
    Starting,
    Running,
    Stopping,
    Stopped,
    Idle,
    Awaking,
    Terminating,
    Degraded,
    Failed,
    /// Terminated: dropped at the next settle.
    Gone,
}

impl Phase {
    fn wire(self) -> ServiceState {
        match self {
            Phase::Provisioning => ServiceState::Provisioning,
            Phase::Starting => ServiceState::Starting,
            Phase::Running => ServiceState::Running,
            Phase::Stopping => ServiceState::Stopping,
            Phase::Stopped => ServiceState::Stopped,
            Phase::Idle => ServiceState::Idle,
            Phase::Awaking => ServiceState::Awaking,
            Phase::Terminating => ServiceState::Terminating,
            Phase::Degraded => ServiceState::Degraded,
            Phase::Failed => ServiceState::Failed,
            Phase::Gone => ServiceState::Terminated,
        }
    }

    fn name(self) -> String {
        self.wire().as_str().to_owned()
    }

    /// What a transitional state becomes, and after how long.
    fn next(self) -> Option<(Duration, Phase)> {
        match self {
            Phase::Provisioning => Some((PROVISIONING, Phase::Running)),
            Phase::Starting => Some((STARTING, Phase::Running)),
            Phase::Stopping => Some((STOPPING, Phase::Stopped)),
            Phase::Awaking => Some((AWAKING, Phase::Running)),
            Phase::Terminating => Some((TERMINATING, Phase::Gone)),
            _ => None,
        }
    }

    /// States a delete is accepted in.
    fn deletable(self) -> bool {
        matches!(
            self,
            Phase::Provisioning
                | Phase::Starting
                | Phase::Awaking
                | Phase::Idle
                | Phase::Stopped
                | Phase::Degraded
                | Phase::Failed
        )
    }
}

/// A stored service.
struct ServiceRecord {
    /// Everything but `state`, as the API shows it.
    api: Service,
    id: Uuid,
    phase: Phase,
    since: Timestamp,
    /// The last call that needed the service running (idling counts from it).
    last_used: Timestamp,
}

impl ServiceRecord {
    fn to_api(&self) -> Service {
        Service {
            state: Some(self.phase.wire()),
            ..self.api.clone()
        }
    }

    /// Brings the state up to `now`.
    fn settle(&mut self, now: Timestamp, clock: &Clock) {
        loop {
            if let Some((delay, next)) = self.phase.next() {
                let end = self.since + clock.scaled(delay);
                if now < end {
                    return;
                }
                self.phase = next;
                self.since = end;
                if next == Phase::Running {
                    self.last_used = end;
                }
                continue;
            }
            if self.phase == Phase::Running && self.api.idle_scaling == Some(true) {
                let minutes = self
                    .api
                    .idle_timeout_minutes
                    .unwrap_or(DEFAULT_IDLE_MINUTES);
                let timeout = Duration::try_from_secs_f64(minutes * 60.0).unwrap_or(Duration::MAX);
                let start = self.since.max(self.last_used);
                let end = start + clock.scaled(timeout);
                if now >= end {
                    self.phase = Phase::Idle;
                    self.since = end;
                }
            }
            return;
        }
    }

    fn enter(&mut self, phase: Phase, now: Timestamp) {
        self.phase = phase;
        self.since = now;
        if phase == Phase::Running {
            self.last_used = now;
        }
    }

    /// Why an operation that needs the service running cannot run now.
    fn hold(&self) -> Option<ServiceHold> {
        let state = self.phase.name();
        match self.phase {
            Phase::Running => None,
            Phase::Idle => Some(ServiceHold::needs_running("SERVICE_IDLE", state, true)),
            Phase::Stopped | Phase::Stopping => {
                Some(ServiceHold::needs_running("SERVICE_STOPPED", state, false))
            }
            _ => Some(ServiceHold::needs_running(
                "SERVICE_NOT_RUNNING",
                state,
                false,
            )),
        }
    }
}

/// One organization's services, oldest first.
#[derive(Default)]
pub(crate) struct Services {
    list: Vec<ServiceRecord>,
}

impl Services {
    /// Brings every state up to `now` and drops terminated services.
    fn settle(&mut self, now: Timestamp, clock: &Clock) {
        for service in &mut self.list {
            service.settle(now, clock);
        }
        self.list.retain(|service| service.phase != Phase::Gone);
    }

    fn get(&self, id: Uuid) -> Result<&ServiceRecord, ApiError> {
        self.list
            .iter()
            .find(|service| service.id == id)
            .ok_or_else(|| service_not_found(id))
    }

    fn get_mut(&mut self, id: Uuid) -> Result<&mut ServiceRecord, ApiError> {
        self.list
            .iter_mut()
            .find(|service| service.id == id)
            .ok_or_else(|| service_not_found(id))
    }

    /// Sets a settled service's state (an emulator-only knob). Only states
    /// that last (`running`, `idle`, `stopped`, `degraded`, `failed`).
    pub(crate) fn force(&mut self, id: Uuid, state: &ServiceState, clock: &Clock) -> bool {
        let now = clock.now();
        self.settle(now, clock);
        let phase = match state {
            ServiceState::Running => Phase::Running,
            ServiceState::Idle => Phase::Idle,
            ServiceState::Stopped => Phase::Stopped,
            ServiceState::Degraded => Phase::Degraded,
            ServiceState::Failed => Phase::Failed,
            _ => return false,
        };
        match self.list.iter_mut().find(|service| service.id == id) {
            Some(service) => {
                service.enter(phase, now);
                true
            }
            None => false,
        }
    }
}

impl ServiceHold {
    fn needs_running(reason: &'static str, state: String, can_wake: bool) -> Self {
        Self {
            reason: Some(reason),
            state,
            can_wake: Some(can_wake),
        }
    }
}

fn service_not_found(id: Uuid) -> ApiError {
    ApiError::not_found(format_args!("service {id} not found"))
}

/// The caller's organization with its services settled to now.
fn settled<'a>(world: &'a mut World, cx: &Context) -> Result<&'a mut Org, ApiError> {
    let clock = world.clock.clone();
    let org = world.org_mut(cx.caller.org)?;
    org.services.settle(cx.now, &clock);
    Ok(org)
}

/// For operations answered from examples that sit under a service: the
/// service must exist, and be running for those in [`NEED_RUNNING`]
/// (which then count as use, so the service does not idle).
pub(crate) fn check_service(
    world: &mut World,
    cx: &Context,
    id: Uuid,
    operation: &str,
) -> Result<(), ApiError> {
    let org = settled(world, cx)?;
    let service = org.services.get_mut(id)?;
    if NEED_RUNNING.contains(&operation) {
        if let Some(hold) = service.hold() {
            let message = match hold.reason {
                Some("SERVICE_IDLE") => format!(
                    "service {id} is idle; wake it (command awake) and try {operation} again"
                ),
                _ => format!(
                    "service {id} is {}; {operation} needs it running",
                    hold.state
                ),
            };
            return Err(ApiError::service_held(hold, message));
        }
        service.last_used = cx.now;
    }
    Ok(())
}

fn service_activity(cx: &Context, kind: ActivityType, id: Uuid) -> Activity {
    Activity {
        service_id: Some(id.to_string()),
        target_resource_ids: Some(vec![id.to_string()]),
        ..cx.activity(kind)
    }
}

fn record(org: &mut Org, cx: &Context, kind: ActivityType, id: Uuid) {
    org.activities.record(cx, service_activity(cx, kind, id));
}

fn check_name(name: &str) -> Result<String, ApiError> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(ApiError::bad_request("name must not be blank"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::bad_request(format_args!(
            "name must be at most {MAX_NAME_CHARS} characters"
        )));
    }
    Ok(name.to_owned())
}

/// The provider a region belongs to.
fn provider_of(region: &Region) -> Option<ServiceProvider> {
    let name = region.as_str();
    let gcp = [
        "us-east1",
        "us-central1",
        "europe-west2",
        "europe-west4",
        "asia-southeast1",
        "asia-northeast1",
    ];
    let azure = [
        "eastus",
        "eastus2",
        "westus3",
        "germanywestcentral",
        "centralus",
    ];
    if region.is_unknown() {
        None
    } else if gcp.contains(&name) {
        Some(ServiceProvider::Gcp)
    } else if azure.contains(&name) {
        Some(ServiceProvider::Azure)
    } else {
        Some(ServiceProvider::Aws)
    }
}

fn check_idle_minutes(minutes: f64) -> Result<f64, ApiError> {
    if !minutes.is_finite() || minutes < MIN_IDLE_MINUTES {
        return Err(ApiError::bad_request(format_args!(
            "idleTimeoutMinutes must be at least {MIN_IDLE_MINUTES}"
        )));
    }
    Ok(minutes)
}

fn check_replicas(field: &str, count: i64) -> Result<i64, ApiError> {
    if !(1..=50).contains(&count) {
        return Err(ApiError::bad_request(format_args!(
            "{field} must be from 1 to 50"
        )));
    }
    Ok(count)
}

fn check_memory(field: &str, gb: f64) -> Result<f64, ApiError> {
    if !(8.0..=356.0).contains(&gb) || gb % 4.0 != 0.0 {
        return Err(ApiError::bad_request(format_args!(
            "{field} must be a multiple of 4 from 8 to 356"
        )));
    }
    Ok(gb)
}

fn check_tags(tags: Vec<ResourceTagsV1>) -> Result<Vec<ResourceTagsV1>, ApiError> {
    if tags
        .iter()
        .any(|tag| tag.key.as_deref().is_none_or(|key| key.trim().is_empty()))
    {
        return Err(ApiError::bad_request("tags: every tag needs a key"));
    }
    Ok(tags)
}

/// `effective*` mirrors the configuration (no schedule is modelled).
fn current_scaling(api: &Service) -> CurrentScaling {
    CurrentScaling {
        effective_autoscaling_mode: api
            .autoscaling_mode
            .as_ref()
            .map(|mode| CurrentScalingEffectiveAutoscalingMode::from(mode.as_str())),
        effective_min_replica_memory_gb: api.min_replica_memory_gb,
        effective_max_replica_memory_gb: api.max_replica_memory_gb,
        effective_min_replicas: api.min_replicas,
        effective_max_replicas: api.max_replicas,
        effective_idle_scaling: api.idle_scaling,
        effective_idle_timeout_minutes: api.idle_timeout_minutes.map(|m| m.round() as i64),
        active_entry_id: None,
    }
}

fn endpoints(
    id: Uuid,
    provider: &ServiceProvider,
    region: &Region,
    mysql: bool,
) -> Vec<ServiceEndpoint> {
    let short = id.simple().to_string()[..10].to_owned();
    let host = format!(
        "{short}.{}.{}.clickhouse.cloud",
        region.as_str(),
        provider.as_str()
    );
    let endpoint = |protocol, port: u16, username: String| ServiceEndpoint {
        protocol: Some(protocol),
        host: Some(host.clone()),
        port: Some(f64::from(port)),
        username: Some(username),
    };
    let mut list = vec![
        endpoint(ServiceEndpointProtocol::Https, 8443, "default".into()),
        endpoint(
            ServiceEndpointProtocol::Nativesecure,
            9440,
            "default".into(),
        ),
    ];
    if mysql {
        list.push(endpoint(
            ServiceEndpointProtocol::Mysql,
            3306,
            format!("mysql4{short}"),
        ));
    }
    list
}

/// Whether an endpoint change list asks for MySQL, if it says.
fn mysql_wanted(changes: &[ServiceEndpointChange]) -> Result<Option<bool>, ApiError> {
    let mut wanted = None;
    for change in changes {
        match &change.protocol {
            Some(ServiceEndpointChangeProtocol::Mysql) => {
                wanted = Some(change.enabled.unwrap_or(true))
            }
            other => {
                return Err(ApiError::bad_request(format_args!(
                    "endpoints: only mysql can be changed, not {}",
                    other.as_ref().map_or("nothing", |p| p.as_str())
                )));
            }
        }
    }
    Ok(wanted)
}

/// A fresh service password: 16 characters, letters, digits and a symbol.
fn generate_password() -> String {
    const LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = fastrand::Rng::new();
    let mut password: String = (0..15)
        .map(|_| char::from(LETTERS[rng.usize(..LETTERS.len())]))
        .collect();
    password.insert(
        rng.usize(..=password.len()),
        ['~', '.', '_', '-'][rng.usize(..4)],
    );
    password
}

/// `tag:KEY=VALUE` or `tag:KEY`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TagFilter {
    key: String,
    value: Option<String>,
}

impl TagFilter {
    fn parse(text: &str) -> Result<Self, ApiError> {
        let rest = text.strip_prefix("tag:").ok_or_else(|| {
            ApiError::bad_request(format_args!(
                "filter {text:?}: only tag:KEY=VALUE and tag:KEY are supported"
            ))
        })?;
        let (key, value) = match rest.split_once('=') {
            Some((key, value)) => (key, Some(value.to_owned())),
            None => (rest, None),
        };
        if key.is_empty() {
            return Err(ApiError::bad_request(format_args!(
                "filter {text:?}: empty tag key"
            )));
        }
        Ok(Self {
            key: key.to_owned(),
            value,
        })
    }

    fn matches(&self, service: &Service) -> bool {
        service.tags.iter().flatten().any(|tag| {
            tag.key.as_deref() == Some(self.key.as_str())
                && self
                    .value
                    .as_deref()
                    .is_none_or(|value| tag.value.as_deref() == Some(value))
        })
    }
}

impl Handle for InstanceGetList {
    const ACCESS: Access = Access::Read;

    /// `filter=` and `filter[]=`, each repeatable.
    fn query(uri: &Uri) -> Result<InstanceGetListQuery, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(uri.query().unwrap_or(""))
            .map_err(|error| ApiError::bad_request(format_args!("query: {error}")))?;
        let filters: Vec<String> = pairs
            .into_iter()
            .filter(|(name, _)| name == "filter" || name == "filter[]")
            .map(|(_, value)| value)
            .collect();
        Ok(InstanceGetListQuery {
            filter: (!filters.is_empty()).then_some(filters),
        })
    }

    fn run(
        world: &mut World,
        cx: &Context,
        _: OrganizationPath,
        query: InstanceGetListQuery,
        _: (),
    ) -> Result<Answer<Vec<Service>>, ApiError> {
        let filters = query
            .filter
            .unwrap_or_default()
            .iter()
            .map(|text| TagFilter::parse(text))
            .collect::<Result<Vec<_>, _>>()?;
        let org = settled(world, cx)?;
        Ok(org
            .services
            .list
            .iter()
            .map(ServiceRecord::to_api)
            .filter(|service| filters.iter().all(|filter| filter.matches(service)))
            .collect::<Vec<_>>()
            .into())
    }
}

impl Handle for InstanceGet {
    const ACCESS: Access = Access::Read;

    fn run(
        world: &mut World,
        cx: &Context,
        path: ServicePath,
        _: (),
        _: (),
    ) -> Result<Answer<Service>, ApiError> {
        let org = settled(world, cx)?;
        Ok(org.services.get(path.service_id)?.to_api().into())
    }
}

impl Handle for InstanceCreate {
    const ACCESS: Access = Access::Write;

    fn run(
        world: &mut World,
        cx: &Context,
        _: OrganizationPath,
        _: (),
        body: ServicePostRequest,
    ) -> Result<Answer<ServicePostResponse>, ApiError> {
        let name = check_name(
            body.name
                .as_deref()
                .ok_or_else(|| ApiError::bad_request("name is required"))?,
        )?;
        let provider = body
            .provider
            .clone()
            .filter(|provider| !provider.is_unknown())
            .ok_or_else(|| ApiError::bad_request("provider must be aws, gcp or azure"))?;
        let region = body
            .region
            .clone()
            .ok_or_else(|| ApiError::bad_request("region is required"))?;
        match provider_of(&region) {
            None => {
                return Err(ApiError::bad_request(format_args!(
                    "region {} is not one the API knows",
                    region.as_str()
                )));
            }
            Some(owner) if owner != provider => {
                return Err(ApiError::bad_request(format_args!(
                    "region {} is not a {} region",
                    region.as_str(),
                    provider.as_str()
                )));
            }
            Some(_) => {}
        }
        let ip_access_list = check_ip_list(
            "ipAccessList",
            body.ip_access_list
                .clone()
                .ok_or_else(|| ApiError::bad_request("ipAccessList is required"))?,
        )?;
        let mode = body
            .autoscaling_mode
            .clone()
            .unwrap_or(AutoscalingMode::Vertical);
        if mode.is_unknown() {
            return Err(ApiError::bad_request(
                "autoscalingMode must be vertical or horizontal",
            ));
        }
        let horizontal = mode == AutoscalingMode::Horizontal;
        let min_memory = check_memory(
            "minReplicaMemoryGb",
            body.min_replica_memory_gb.unwrap_or(16.0),
        )?;
        let max_memory = check_memory(
            "maxReplicaMemoryGb",
            body.max_replica_memory_gb.unwrap_or(if horizontal {
                min_memory
            } else {
                120.0_f64.max(min_memory)
            }),
        )?;
        if min_memory > max_memory {
            return Err(ApiError::bad_request(
                "minReplicaMemoryGb must not exceed maxReplicaMemoryGb",
            ));
        }
        let (min_replicas, max_replicas) =
            match (body.min_replicas, body.max_replicas, body.num_replicas) {
                (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => {
                    return Err(ApiError::bad_request(
                        "numReplicas and minReplicas/maxReplicas exclude each other",
                    ));
                }
                (Some(min), Some(max), None) => {
                    let (min, max) = (
                        check_replicas("minReplicas", min)?,
                        check_replicas("maxReplicas", max)?,
                    );
                    if min > max {
                        return Err(ApiError::bad_request(
                            "minReplicas must not exceed maxReplicas",
                        ));
                    }
                    (min, max)
                }
                (Some(_), None, None) | (None, Some(_), None) => {
                    return Err(ApiError::bad_request(
                        "minReplicas and maxReplicas come together",
                    ));
                }
                (None, None, count) => {
                    let count = check_replicas("numReplicas", count.unwrap_or(3))?;
                    (count, count)
                }
            };
        let idle_minutes =
            check_idle_minutes(body.idle_timeout_minutes.unwrap_or(DEFAULT_IDLE_MINUTES))?;
        let tags = check_tags(body.tags.clone().unwrap_or_default())?;
        let mysql = mysql_wanted(body.endpoints.as_deref().unwrap_or_default())?.unwrap_or(false);
        if body
            .release_channel
            .as_ref()
            .is_some_and(ServiceReleaseChannel::is_unknown)
        {
            return Err(ApiError::bad_request(
                "releaseChannel must be slow, default or fast",
            ));
        }
        let org = settled(world, cx)?;
        let warehouse = match body.data_warehouse_id.as_deref() {
            Some(warehouse) => {
                let known = org
                    .services
                    .list
                    .iter()
                    .any(|service| service.api.data_warehouse_id.as_deref() == Some(warehouse));
                if !known {
                    return Err(ApiError::bad_request(format_args!(
                        "dataWarehouseId {warehouse} is not a warehouse of this organization"
                    )));
                }
                Some(warehouse.to_owned())
            }
            None => None,
        };
        if body.is_readonly == Some(true) && warehouse.is_none() {
            return Err(ApiError::bad_request("isReadonly needs a dataWarehouseId"));
        }

        let id = Uuid::new_v4();
        let mut api = Service {
            id: Some(id),
            name: Some(name),
            provider: Some(provider.clone()),
            region: Some(region.clone()),
            clickhouse_version: Some(CLICKHOUSE_VERSION.to_owned()),
            endpoints: Some(endpoints(id, &provider, &region, mysql)),
            tier: body
                .tier
                .as_ref()
                .map(|tier| ServiceTier::from(tier.as_str())),
            min_replica_memory_gb: Some(min_memory),
            max_replica_memory_gb: Some(max_memory),
            num_replicas: Some(max_replicas),
            min_replicas: Some(min_replicas),
            max_replicas: Some(max_replicas),
            autoscaling_mode: Some(mode),
            idle_scaling: Some(body.idle_scaling.unwrap_or(true)),
            idle_timeout_minutes: Some(idle_minutes),
            ip_access_list: Some(ip_access_list),
            created_at: Some(cx.now),
            private_endpoint_ids: Some(body.private_endpoint_ids.clone().unwrap_or_default()),
            available_private_endpoint_ids: Some(Vec::new()),
            is_primary: Some(warehouse.is_none()),
            data_warehouse_id: Some(warehouse.unwrap_or_else(|| id.to_string())),
            is_readonly: Some(body.is_readonly.unwrap_or(false)),
            release_channel: Some(
                body.release_channel
                    .clone()
                    .unwrap_or(ServiceReleaseChannel::Default),
            ),
            byoc_id: body.byoc_id.clone(),
            has_transparent_data_encryption: Some(
                body.has_transparent_data_encryption.unwrap_or(false),
            ),
            profile: body.profile.clone(),
            compliance_type: body.compliance_type.clone(),
            tags: Some(tags),
            enable_core_dumps: Some(body.enable_core_dumps.unwrap_or(false)),
            ..Service::default()
        };
        api.current_scaling = Some(current_scaling(&api));
        let record = ServiceRecord {
            api,
            id,
            phase: Phase::Provisioning,
            since: cx.now,
            last_used: cx.now,
        };
        let service = record.to_api();
        org.services.list.push(record);
        record_activity_create(org, cx, id);
        Ok(ServicePostResponse {
            service: Some(service),
            password: Some(SecretValue::new(generate_password())),
        }
        .into())
    }
}

fn record_activity_create(org: &mut Org, cx: &Context, id: Uuid) {
    record(org, cx, ActivityType::ServiceCreate, id);
}

/// Refuses changes to a service on its way out.
fn check_changeable(service: &ServiceRecord) -> Result<(), ApiError> {
    if service.phase == Phase::Terminating {
        return Err(ApiError::service_conflict(
            service.phase.name(),
            format_args!("service {} is terminating", service.id),
        ));
    }
    Ok(())
}

impl Handle for InstanceUpdate {
    const ACCESS: Access = Access::Write;

    fn run(
        world: &mut World,
        cx: &Context,
        path: ServicePath,
        _: (),
        body: ServicePatchRequest,
    ) -> Result<Answer<Service>, ApiError> {
        let org = settled(world, cx)?;
        let service = org.services.get(path.service_id)?;
        check_changeable(service)?;
        let mut api = service.api.clone();
        let mut changes = Vec::new();
        if let Some(name) = body.name.as_deref() {
            let name = check_name(name)?;
            if api.name.as_deref() != Some(name.as_str()) {
                api.name = Some(name);
                changes.push(ActivityType::ServiceUpdateName);
            }
        }
        if let Some(patch) = body.ip_access_list {
            let mut list = api.ip_access_list.take().unwrap_or_default();
            let before = list.clone();
            for removed in check_ip_list("ipAccessList.remove", patch.remove.unwrap_or_default())? {
                let net = removed.source.as_deref().and_then(parse_source);
                list.retain(|entry| entry.source.as_deref().and_then(parse_source) != net);
            }
            for added in check_ip_list("ipAccessList.add", patch.add.unwrap_or_default())? {
                let net = added.source.as_deref().and_then(parse_source);
                list.retain(|entry: &IpAccessListEntry| {
                    entry.source.as_deref().and_then(parse_source) != net
                });
                list.push(added);
            }
            if list != before {
                changes.push(ActivityType::ServiceUpdateIpAccessList);
            }
            api.ip_access_list = Some(list);
        }
        if let Some(patch) = body.private_endpoint_ids {
            let mut list = api.private_endpoint_ids.take().unwrap_or_default();
            let before = list.clone();
            let removed = patch.remove.unwrap_or_default();
            list.retain(|id| !removed.contains(id));
            for added in patch.add.unwrap_or_default() {
                if !list.contains(&added) {
                    list.push(added);
                }
            }
            if list != before {
                changes.push(ActivityType::ServiceUpdatePrivateEndpoints);
            }
            api.private_endpoint_ids = Some(list);
        }
        if let Some(channel) = body.release_channel {
            if channel.is_unknown() {
                return Err(ApiError::bad_request(
                    "releaseChannel must be slow, default or fast",
                ));
            }
            if api.release_channel.as_ref() != Some(&channel) {
                api.release_channel = Some(channel);
                changes.push(ActivityType::ServiceUpdateReleaseChannel);
            }
        }
        if let Some(changes_asked) = body.endpoints.as_deref() {
            if let Some(mysql) = mysql_wanted(changes_asked)? {
                let had = api
                    .endpoints
                    .iter()
                    .flatten()
                    .any(|e| e.protocol == Some(ServiceEndpointProtocol::Mysql));
                if had != mysql {
                    let (provider, region) = (
                        api.provider.clone().unwrap_or(ServiceProvider::Aws),
                        api.region.clone().unwrap_or(Region::UsEast1),
                    );
                    api.endpoints = Some(endpoints(path.service_id, &provider, &region, mysql));
                    changes.push(ActivityType::ServiceUpdateMysqlInterface);
                }
            }
        }
        if let Some(patch) = body.tags {
            let mut tags = api.tags.take().unwrap_or_default();
            for removed in check_tags(patch.remove.unwrap_or_default())? {
                tags.retain(|tag| {
                    tag.key != removed.key
                        || (removed.value.is_some() && tag.value != removed.value)
                });
            }
            for added in check_tags(patch.add.unwrap_or_default())? {
                tags.retain(|tag| tag.key != added.key);
                tags.push(added);
            }
            api.tags = Some(tags);
        }
        if let Some(flag) = body.enable_core_dumps {
            if api.enable_core_dumps != Some(flag) {
                api.enable_core_dumps = Some(flag);
                changes.push(ActivityType::ServiceUpdateCoreDump);
            }
        }
        if let Some(key) = body.transparent_data_encryption_key_id {
            api.transparent_data_encryption_key_id = Some(key);
        }
        let service = org.services.get_mut(path.service_id)?;
        service.api = api;
        let answer = service.to_api();
        for kind in changes {
            record(org, cx, kind, path.service_id);
        }
        Ok(answer.into())
    }
}

/// Applies idle settings; says whether they changed.
fn apply_idle(
    api: &mut Service,
    scaling: Option<bool>,
    minutes: Option<f64>,
) -> Result<bool, ApiError> {
    let before = (api.idle_scaling, api.idle_timeout_minutes);
    if let Some(flag) = scaling {
        api.idle_scaling = Some(flag);
    }
    if let Some(minutes) = minutes {
        api.idle_timeout_minutes = Some(check_idle_minutes(minutes)?);
    }
    Ok(before != (api.idle_scaling, api.idle_timeout_minutes))
}

impl Handle for InstanceScalingUpdate {
    const ACCESS: Access = Access::Write;

    fn run(
        world: &mut World,
        cx: &Context,
        path: ServicePath,
        _: (),
        body: ServiceScalingPatchRequest,
    ) -> Result<Answer<Service>, ApiError> {
        let org = settled(world, cx)?;
        let service = org.services.get(path.service_id)?;
        check_changeable(service)?;
        let mut api = service.api.clone();
        let mut changes = Vec::new();
        if body.min_total_memory_gb.is_some() || body.max_total_memory_gb.is_some() {
            api.min_total_memory_gb = body.min_total_memory_gb.or(api.min_total_memory_gb);
            api.max_total_memory_gb = body.max_total_memory_gb.or(api.max_total_memory_gb);
            if let (Some(min), Some(max)) = (api.min_total_memory_gb, api.max_total_memory_gb) {
                if min > max {
                    return Err(ApiError::bad_request(
                        "minTotalMemoryGb must not exceed maxTotalMemoryGb",
                    ));
                }
            }
            changes.push(ActivityType::ServiceUpdateAutoscalingMemory);
        }
        if let Some(count) = body.num_replicas {
            let count = check_replicas("numReplicas", count)?;
            api.num_replicas = Some(count);
            api.min_replicas = Some(count);
            api.max_replicas = Some(count);
            changes.push(ActivityType::ServiceUpdateAutoscalingReplicas);
        }
        if apply_idle(&mut api, body.idle_scaling, body.idle_timeout_minutes)? {
            changes.push(ActivityType::ServiceUpdateAutoscalingIdling);
        }
        api.current_scaling = Some(current_scaling(&api));
        let service = org.services.get_mut(path.service_id)?;
        service.api = api;
        let answer = service.to_api();
        for kind in changes {
            record(org, cx, kind, path.service_id);
        }
        Ok(answer.into())
    }
}

impl Handle for InstanceReplicaScalingUpdate {
    const ACCESS: Access = Access::Write;

    fn run(
        world: &mut World,
        cx: &Context,
        path: ServicePath,
        _: (),
        body: ServiceReplicaScalingPatchRequest,
    ) -> Result<Answer<ServiceScalingPatchResponse>, ApiError> {
        let org = settled(world, cx)?;
        let service = org.services.get(path.service_id)?;
        check_changeable(service)?;
        let mut api = service.api.clone();
        let mut changes = Vec::new();
        if let Some(mode) = body.autoscaling_mode {
            if mode.is_unknown() {
                return Err(ApiError::bad_request(
                    "autoscalingMode must be vertical or horizontal",
                ));
            }
            api.autoscaling_mode = Some(mode);
            changes.push(ActivityType::ServiceUpdateAutoscalingReplicas);
        }
        if body.min_replica_memory_gb.is_some() || body.max_replica_memory_gb.is_some() {
            let min = check_memory(
                "minReplicaMemoryGb",
                body.min_replica_memory_gb
                    .or(api.min_replica_memory_gb)
                    .unwrap_or(16.0),
            )?;
            let max = check_memory(
                "maxReplicaMemoryGb",
                body.max_replica_memory_gb
                    .or(api.max_replica_memory_gb)
                    .unwrap_or(120.0),
            )?;
            if min > max {
                return Err(ApiError::bad_request(
                    "minReplicaMemoryGb must not exceed maxReplicaMemoryGb",
                ));
            }
            api.min_replica_memory_gb = Some(min);
            api.max_replica_memory_gb = Some(max);
            changes.push(ActivityType::ServiceUpdateAutoscalingMemory);
        }
        match (body.min_replicas, body.max_replicas, body.num_replicas) {
            (None, None, None) => {}
            (None, None, Some(count)) => {
                let count = check_replicas("numReplicas", count)?;
                (api.num_replicas, api.min_replicas, api.max_replicas) =
                    (Some(count), Some(count), Some(count));
                changes.push(ActivityType::ServiceUpdateAutoscalingReplicas);
            }
            (Some(min), Some(max), None) => {
                let (min, max) = (
                    check_replicas("minReplicas", min)?,
                    check_replicas("maxReplicas", max)?,
                );
                if min > max {
                    return Err(ApiError::bad_request(
                        "minReplicas must not exceed maxReplicas",
                    ));
                }
                (api.min_replicas, api.max_replicas, api.num_replicas) =
                    (Some(min), Some(max), Some(max));
                changes.push(ActivityType::ServiceUpdateAutoscalingReplicas);
            }
            _ => {
                return Err(ApiError::bad_request(
                    "give numReplicas, or minReplicas with maxReplicas",
                ));
            }
        }
        if apply_idle(&mut api, body.idle_scaling, body.idle_timeout_minutes)? {
            changes.push(ActivityType::ServiceUpdateAutoscalingIdling);
        }
        api.current_scaling = Some(current_scaling(&api));
        let service = org.services.get_mut(path.service_id)?;
        service.api = api;
        let answer = service.to_api();
        changes.dedup();
        for kind in changes {
            record(org, cx, kind, path.service_id);
        }
        let value = serde_json::to_value(answer).map_err(ApiError::internal)?;
        serde_json::from_value::<ServiceScalingPatchResponse>(value)
            .map(Answer::from)
            .map_err(ApiError::internal)
    }
}

impl Handle for InstancePasswordUpdate {
    const ACCESS: Access = Access::Write;

    fn run(
        world: &mut World,
        cx: &Context,
        path: ServicePath,
        _: (),
        body: ServicePasswordPatchRequest,
    ) -> Result<Answer<ServicePasswordPatchResponse>, ApiError> {
        if let Some(hash) = &body.new_password_hash {
            let bytes = base64::Engine::decode(
                &base64::engine::general_purpose::STANDARD,
                hash.expose().trim(),
            )
            .ok();
            if bytes.is_none_or(|bytes| bytes.len() != 32) {
                return Err(ApiError::bad_request(
                    "newPasswordHash: Not a base64 sha256sum",
                ));
            }
        }
        if let Some(hash) = &body.new_double_sha_1_hash {
            if hash.len() != 40 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(ApiError::bad_request(
                    "newDoubleSha1Hash: Not a hex sha1sum",
                ));
            }
        }
        let org = settled(world, cx)?;
        check_changeable(org.services.get(path.service_id)?)?;
        record(
            org,
            cx,
            ActivityType::ServiceUpdatePassword,
            path.service_id,
        );
        let generated = body.new_password_hash.is_none() && body.new_double_sha_1_hash.is_none();
        Ok(ServicePasswordPatchResponse {
            password: generated.then(|| SecretValue::new(generate_password())),
        }
        .into())
    }
}

impl Handle for InstanceStateUpdate {
    /// Waking needs only reading; start and stop need writing (checked in `run`).
    const ACCESS: Access = Access::Read;

    fn run(
        world: &mut World,
        cx: &Context,
        path: ServicePath,
        _: (),
        body: ServiceStatePatchRequest,
    ) -> Result<Answer<Service>, ApiError> {
        let command = body
            .command
            .ok_or_else(|| ApiError::bad_request("command is required (start, stop or awake)"))?;
        if command != ServiceStatePatchRequestCommand::Awake {
            cx.require(Access::Write, "the start and stop commands")?;
        }
        let org = settled(world, cx)?;
        let service = org.services.get_mut(path.service_id)?;
        let phase = service.phase;
        let refuse = |why: &str| {
            Err(ApiError::service_conflict(
                phase.name(),
                format_args!(
                    "cannot {} service {}: it is {}{why}",
                    command.as_str(),
                    path.service_id,
                    phase.name()
                ),
            ))
        };
        let (next, kind) = match (&command, phase) {
            (ServiceStatePatchRequestCommand::Start, Phase::Stopped) => {
                (Some(Phase::Starting), ActivityType::ServiceStart)
            }
            (ServiceStatePatchRequestCommand::Start, Phase::Idle) => {
                (Some(Phase::Awaking), ActivityType::ServiceStart)
            }
            (
                ServiceStatePatchRequestCommand::Start,
                Phase::Running | Phase::Starting | Phase::Awaking,
            ) => (None, ActivityType::ServiceStart),
            (
                ServiceStatePatchRequestCommand::Stop,
                Phase::Running | Phase::Idle | Phase::Degraded,
            ) => (Some(Phase::Stopping), ActivityType::ServiceStop),
            (ServiceStatePatchRequestCommand::Stop, Phase::Stopped | Phase::Stopping) => {
                (None, ActivityType::ServiceStop)
            }
            (ServiceStatePatchRequestCommand::Awake, Phase::Idle) => {
                (Some(Phase::Awaking), ActivityType::ServiceAwaken)
            }
            (ServiceStatePatchRequestCommand::Awake, Phase::Running | Phase::Awaking) => {
                (None, ActivityType::ServiceAwaken)
            }
            (ServiceStatePatchRequestCommand::Awake, Phase::Stopped | Phase::Stopping) => {
                return refuse("; awake does not start a stopped service, start does");
            }
            (
                ServiceStatePatchRequestCommand::Start
                | ServiceStatePatchRequestCommand::Stop
                | ServiceStatePatchRequestCommand::Awake,
                _,
            ) => {
                return refuse("");
            }
            (other, _) => {
                return Err(ApiError::bad_request(format_args!(
                    "command must be start, stop or awake, not {}",
                    other.as_str()
                )));
            }
        };
        if let Some(next) = next {
            service.enter(next, cx.now);
        }
        let answer = service.to_api();
        if next.is_some() {
            record(org, cx, kind, path.service_id);
        }
        Ok(answer.into())
    }
}

impl Handle for InstanceDelete {
    const ACCESS: Access = Access::Write;

    fn run(
        world: &mut World,
        cx: &Context,
        path: ServicePath,
        _: (),
        _: (),
    ) -> Result<Answer<()>, ApiError> {
        let org = settled(world, cx)?;
        let service = org.services.get_mut(path.service_id)?;
        match service.phase {
            Phase::Terminating => return Ok(().into()),
            phase if phase.deletable() => service.enter(Phase::Terminating, cx.now),
            phase => {
                return Err(ApiError::service_conflict(
                    phase.name(),
                    format_args!(
                        "service {} is {}: stop it and wait for stopped before deleting",
                        path.service_id,
                        phase.name()
                    ),
                ));
            }
        }
        record(org, cx, ActivityType::ServiceDelete, path.service_id);
        Ok(().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    fn secs(n: i64) -> TimeDelta {
        TimeDelta::seconds(n)
    }

    fn record(at: Timestamp) -> ServiceRecord {
        ServiceRecord {
            api: Service {
                idle_scaling: Some(true),
                idle_timeout_minutes: Some(5.0),
                ..Service::default()
            },
            id: Uuid::new_v4(),
            phase: Phase::Provisioning,
            since: at,
            last_used: at,
        }
    }

    #[test]
    fn states_follow_timestamps_at_the_clock_speed() {
        let clock = Clock::new(60.0);
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut service = record(t0);
        service.settle(t0 + secs(1), &clock);
        assert_eq!(service.phase, Phase::Provisioning);
        service.settle(t0 + secs(2), &clock);
        assert_eq!(service.phase, Phase::Running);
        assert_eq!(service.since, t0 + secs(2));
        // Idle 5 minutes (5 s at 60x) after the last use.
        service.last_used = t0 + secs(4);
        service.settle(t0 + secs(8), &clock);
        assert_eq!(service.phase, Phase::Running);
        service.settle(t0 + secs(9), &clock);
        assert_eq!(service.phase, Phase::Idle);
        assert_eq!(service.since, t0 + secs(9));
        service.enter(Phase::Awaking, t0 + secs(10));
        service.settle(t0 + TimeDelta::milliseconds(10_500), &clock);
        assert_eq!(service.phase, Phase::Running);
    }

    #[test]
    fn tag_filters() {
        let service = Service {
            tags: Some(vec![ResourceTagsV1 {
                key: Some("env".into()),
                value: Some("ci".into()),
            }]),
            ..Service::default()
        };
        assert!(TagFilter::parse("tag:env=ci").unwrap().matches(&service));
        assert!(TagFilter::parse("tag:env").unwrap().matches(&service));
        assert!(!TagFilter::parse("tag:env=prod").unwrap().matches(&service));
        assert!(!TagFilter::parse("tag:team").unwrap().matches(&service));
        assert!(TagFilter::parse("name:x").is_err());
        assert!(TagFilter::parse("tag:").is_err());
    }

    #[test]
    fn regions_belong_to_providers() {
        assert_eq!(
            provider_of(&Region::from("us-east-1")),
            Some(ServiceProvider::Aws)
        );
        assert_eq!(
            provider_of(&Region::from("us-east1")),
            Some(ServiceProvider::Gcp)
        );
        assert_eq!(
            provider_of(&Region::from("eastus2")),
            Some(ServiceProvider::Azure)
        );
        assert_eq!(provider_of(&Region::from("mars-1")), None);
    }

    #[test]
    fn passwords_are_fresh_and_mixed() {
        let a = generate_password();
        assert_eq!(a.chars().count(), 16);
        assert!(a.chars().any(|c| "~._-".contains(c)));
        assert_ne!(a, generate_password());
    }
}
