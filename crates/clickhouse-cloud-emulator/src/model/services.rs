//! Services: create, list (filtered by tag), get, update, scale, change
//! the password, start, stop, wake and delete, on a state machine whose
//! delays are real time divided by the clock's speed.
//!
//! A state is computed on read from the time it began: a service created
//! at `t` is `provisioning` until `t + 120 s / speed`, then `running`.

use std::time::Duration;

use clickhouse_cloud_types::{
    Activity, ActivityType, CurrentScaling, CurrentScalingEffectiveAutoscalingMode, Region,
    ResourceTagsV1, Service, ServiceEndpoint, ServiceEndpointChange, ServiceEndpointChangeProtocol,
    ServiceEndpointProtocol, ServiceProvider, ServiceState, Timestamp,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::access::Context;
use crate::model::clock::Clock;
use crate::model::error::{ApiError, ServiceHold};
use crate::model::world::{Org, World};

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

pub(crate) const DEFAULT_IDLE_MINUTES: f64 = 15.0;
pub(crate) const MIN_IDLE_MINUTES: f64 = 5.0;
pub(crate) const MAX_NAME_CHARS: usize = 50;
pub(crate) const CLICKHOUSE_VERSION: &str = "25.8";

/// Operations (stored, or answered from examples) that need the service
/// running: they answer `424` while it is not.
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Phase {
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
    pub(crate) fn wire(self) -> ServiceState {
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

    pub(crate) fn name(self) -> String {
        self.wire().as_str().to_owned()
    }

    /// What a transitional state becomes, and after how long.
    pub(crate) fn next(self) -> Option<(Duration, Phase)> {
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
    pub(crate) fn deletable(self) -> bool {
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
#[derive(Serialize, Deserialize)]
pub(crate) struct ServiceRecord {
    /// Everything but `state`, as the API shows it.
    pub(crate) api: Service,
    pub(crate) id: Uuid,
    pub(crate) phase: Phase,
    pub(crate) since: Timestamp,
    /// The last call that needed the service running (idling counts from it).
    pub(crate) last_used: Timestamp,
    /// When it first ran: its backup schedule counts from then.
    #[serde(default)]
    pub(crate) first_running: Option<Timestamp>,
    /// The spans it has been `running`, oldest first; the last is open
    /// while it runs (what the usage cost report charges for).
    #[serde(default)]
    pub(crate) runs: Vec<Run>,
}

/// One span a service was `running`: from `start` to `end` (still
/// running when `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Run {
    pub(crate) start: Timestamp,
    pub(crate) end: Option<Timestamp>,
}

impl ServiceRecord {
    pub(crate) fn to_api(&self) -> Service {
        Service {
            state: Some(self.phase.wire()),
            ..self.api.clone()
        }
    }

    /// Brings the state up to `now`.
    pub(crate) fn settle(&mut self, now: Timestamp, clock: &Clock) {
        loop {
            if let Some((delay, next)) = self.phase.next() {
                let end = self.since + clock.scaled(delay);
                if now < end {
                    return;
                }
                self.moved(next, end);
                self.since = end;
                if next == Phase::Running {
                    self.last_used = end;
                    self.first_running.get_or_insert(end);
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
                    self.moved(Phase::Idle, end);
                    self.since = end;
                }
            }
            return;
        }
    }

    /// Changes the phase at `at`, opening or closing a run.
    fn moved(&mut self, phase: Phase, at: Timestamp) {
        let was = self.phase == Phase::Running;
        let is = phase == Phase::Running;
        if was && !is {
            if let Some(run) = self.runs.last_mut().filter(|run| run.end.is_none()) {
                run.end = Some(at);
            }
        } else if is && self.runs.last().is_none_or(|run| run.end.is_some()) {
            self.runs.push(Run {
                start: at,
                end: None,
            });
        }
        self.phase = phase;
    }

    /// How long it has been `running` between `from` and `to`.
    pub(crate) fn running_within(&self, from: Timestamp, to: Timestamp) -> chrono::TimeDelta {
        self.runs
            .iter()
            .map(|run| {
                let start = run.start.max(from);
                let end = run.end.unwrap_or(to).min(to);
                (end - start).max(chrono::TimeDelta::zero())
            })
            .sum()
    }

    pub(crate) fn enter(&mut self, phase: Phase, now: Timestamp) {
        self.moved(phase, now);
        self.since = now;
        if phase == Phase::Running {
            self.last_used = now;
            self.first_running.get_or_insert(now);
        }
    }

    /// Why an operation that needs the service running cannot run now.
    pub(crate) fn hold(&self) -> Option<ServiceHold> {
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
#[derive(Default, Serialize, Deserialize)]
pub(crate) struct Services {
    pub(crate) list: Vec<ServiceRecord>,
}

impl Services {
    /// Brings every state up to `now` and drops terminated services.
    pub(crate) fn settle(&mut self, now: Timestamp, clock: &Clock) {
        for service in &mut self.list {
            service.settle(now, clock);
        }
        self.list.retain(|service| service.phase != Phase::Gone);
    }

    pub(crate) fn get(&self, id: Uuid) -> Result<&ServiceRecord, ApiError> {
        self.list
            .iter()
            .find(|service| service.id == id)
            .ok_or_else(|| service_not_found(id))
    }

    pub(crate) fn get_mut(&mut self, id: Uuid) -> Result<&mut ServiceRecord, ApiError> {
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
    pub(crate) fn needs_running(reason: &'static str, state: String, can_wake: bool) -> Self {
        Self {
            reason: Some(reason),
            state,
            can_wake: Some(can_wake),
        }
    }
}

pub(crate) fn service_not_found(id: Uuid) -> ApiError {
    ApiError::not_found(format_args!("service {id} not found"))
}

/// The caller's organization with its services settled to now.
pub(crate) fn settled<'a>(world: &'a mut World, cx: &Context) -> Result<&'a mut Org, ApiError> {
    let clock = world.clock.clone();
    let org = world.org_mut(cx.caller.org)?;
    org.services.settle(cx.now, &clock);
    crate::model::backups::settle(org, cx.caller.org, &clock, cx.now);
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

pub(crate) fn service_activity(cx: &Context, kind: ActivityType, id: Uuid) -> Activity {
    Activity {
        service_id: Some(id.to_string()),
        target_resource_ids: Some(vec![id.to_string()]),
        ..cx.activity(kind)
    }
}

pub(crate) fn record(org: &mut Org, cx: &Context, kind: ActivityType, id: Uuid) {
    org.activities.record(cx, service_activity(cx, kind, id));
}

pub(crate) fn check_name(name: &str) -> Result<String, ApiError> {
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
pub(crate) fn provider_of(region: &Region) -> Option<ServiceProvider> {
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

pub(crate) fn check_idle_minutes(minutes: f64) -> Result<f64, ApiError> {
    if !minutes.is_finite() || minutes < MIN_IDLE_MINUTES {
        return Err(ApiError::bad_request(format_args!(
            "idleTimeoutMinutes must be at least {MIN_IDLE_MINUTES}"
        )));
    }
    Ok(minutes)
}

pub(crate) fn check_replicas(field: &str, count: i64) -> Result<i64, ApiError> {
    if !(1..=50).contains(&count) {
        return Err(ApiError::bad_request(format_args!(
            "{field} must be from 1 to 50"
        )));
    }
    Ok(count)
}

pub(crate) fn check_memory(field: &str, gb: f64) -> Result<f64, ApiError> {
    if !(8.0..=356.0).contains(&gb) || gb % 4.0 != 0.0 {
        return Err(ApiError::bad_request(format_args!(
            "{field} must be a multiple of 4 from 8 to 356"
        )));
    }
    Ok(gb)
}

pub(crate) fn check_tags(tags: Vec<ResourceTagsV1>) -> Result<Vec<ResourceTagsV1>, ApiError> {
    if tags
        .iter()
        .any(|tag| tag.key.as_deref().is_none_or(|key| key.trim().is_empty()))
    {
        return Err(ApiError::bad_request("tags: every tag needs a key"));
    }
    Ok(tags)
}

/// `effective*` mirrors the configuration (no schedule is modelled).
pub(crate) fn current_scaling(api: &Service) -> CurrentScaling {
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

pub(crate) fn endpoints(
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
pub(crate) fn mysql_wanted(changes: &[ServiceEndpointChange]) -> Result<Option<bool>, ApiError> {
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
pub(crate) fn generate_password() -> String {
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
pub(crate) struct TagFilter {
    pub(crate) key: String,
    pub(crate) value: Option<String>,
}

impl TagFilter {
    pub(crate) fn parse(text: &str) -> Result<Self, ApiError> {
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

    pub(crate) fn matches(&self, service: &Service) -> bool {
        service.tags.iter().flatten().any(|tag| {
            tag.key.as_deref() == Some(self.key.as_str())
                && self
                    .value
                    .as_deref()
                    .is_none_or(|value| tag.value.as_deref() == Some(value))
        })
    }
}

pub(crate) fn record_activity_create(org: &mut Org, cx: &Context, id: Uuid) {
    record(org, cx, ActivityType::ServiceCreate, id);
}

/// Refuses changes to a service on its way out.
pub(crate) fn check_changeable(service: &ServiceRecord) -> Result<(), ApiError> {
    if service.phase == Phase::Terminating {
        return Err(ApiError::service_conflict(
            service.phase.name(),
            format_args!("service {} is terminating", service.id),
        ));
    }
    Ok(())
}

/// Applies idle settings; says whether they changed.
pub(crate) fn apply_idle(
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    pub(crate) fn secs(n: i64) -> TimeDelta {
        TimeDelta::seconds(n)
    }

    pub(crate) fn record(at: Timestamp) -> ServiceRecord {
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
            first_running: None,
            runs: Vec::new(),
        }
    }

    #[test]
    fn running_time_is_counted_between_its_changes() {
        let clock = Clock::new(60.0);
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut service = record(t0);
        service.api.idle_scaling = Some(false);
        // Provisioning 2 s at 60x, then running until stopped at 12 s.
        service.settle(t0 + secs(5), &clock);
        assert_eq!(service.phase, Phase::Running);
        service.enter(Phase::Stopping, t0 + secs(12));
        service.settle(t0 + secs(100), &clock);
        assert_eq!(service.phase, Phase::Stopped);
        assert_eq!(service.running_within(t0, t0 + secs(100)), secs(10));
        assert_eq!(service.running_within(t0 + secs(4), t0 + secs(6)), secs(2));
        assert_eq!(
            service.running_within(t0 + secs(20), t0 + secs(30)),
            secs(0)
        );
        service.enter(Phase::Running, t0 + secs(200));
        assert_eq!(service.running_within(t0, t0 + secs(210)), secs(20));
    }

    #[test]
    pub(crate) fn states_follow_timestamps_at_the_clock_speed() {
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
    pub(crate) fn tag_filters() {
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
    pub(crate) fn regions_belong_to_providers() {
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
    pub(crate) fn passwords_are_fresh_and_mixed() {
        let a = generate_password();
        assert_eq!(a.chars().count(), 16);
        assert!(a.chars().any(|c| "~._-".contains(c)));
        assert_ne!(a, generate_password());
    }
}
