//! The services operations.

use crate::model::access::Access;
use crate::model::access::Context;
use crate::model::backups::find_backup;
use crate::model::error::ApiError;
use crate::model::gate::{check_ip_list, parse_source};
use crate::model::services::*;
use crate::model::world::World;
use crate::pipeline::{Answer, Handle};
use axum::http::Uri;
use clickhouse_cloud_types::ops::{
    InstanceCreate, InstanceDelete, InstanceGet, InstanceGetList, InstanceGetListQuery,
    InstancePasswordUpdate, InstancePrivateEndpointCreate, InstanceReplicaScalingUpdate,
    InstanceScalingUpdate, InstanceStateUpdate, InstanceUpdate, OrganizationPath, ServicePath,
};
use clickhouse_cloud_types::{
    ActivityType, AutoscalingMode, CloudProvider, InstancePrivateEndpoint, IpAccessListEntry,
    OrganizationPrivateEndpoint, Region, SecretValue, ServicPrivateEndpointePostRequest, Service,
    ServiceEndpointProtocol, ServicePasswordPatchRequest, ServicePasswordPatchResponse,
    ServicePatchRequest, ServicePostRequest, ServicePostResponse, ServiceProvider,
    ServiceReleaseChannel, ServiceReplicaScalingPatchRequest, ServiceScalingPatchRequest,
    ServiceScalingPatchResponse, ServiceStatePatchRequest, ServiceStatePatchRequestCommand,
    ServiceTier,
};
use uuid::Uuid;

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
        // A restore starts from a backup of a service of this organization,
        // in the same region.
        if let Some(backup) = body.backup_id {
            let (source, _) = find_backup(&org.store, cx.caller.org, backup)
                .ok_or_else(|| ApiError::not_found(format_args!("backup {backup} not found")))?;
            let from = org.services.get(source)?;
            if from.api.region.as_ref() != Some(&region) {
                return Err(ApiError::bad_request(format_args!(
                    "backup {backup} is in region {}: a restore must be in the same region",
                    from.api.region.as_ref().map_or("unknown", |r| r.as_str())
                )));
            }
        }
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
            first_running: None,
            runs: Vec::new(),
        };
        let service = record.to_api();
        org.services.list.push(record);
        record_activity_create(org, cx, id);
        if body.backup_id.is_some() {
            crate::model::services::record(org, cx, ActivityType::ServiceRestoreBackup, id);
        }
        Ok(ServicePostResponse {
            service: Some(service),
            password: Some(SecretValue::new(generate_password())),
        }
        .into())
    }
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
        if let Some(changes_asked) = body.endpoints.as_deref()
            && let Some(mysql) = mysql_wanted(changes_asked)?
        {
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
        if let Some(flag) = body.enable_core_dumps
            && api.enable_core_dumps != Some(flag)
        {
            api.enable_core_dumps = Some(flag);
            changes.push(ActivityType::ServiceUpdateCoreDump);
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
            if let (Some(min), Some(max)) = (api.min_total_memory_gb, api.max_total_memory_gb)
                && min > max
            {
                return Err(ApiError::bad_request(
                    "minTotalMemoryGb must not exceed maxTotalMemoryGb",
                ));
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
            let hash = hash.expose();
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

/// A private endpoint made for a service: the organization knows it
/// (`privateEndpoints`, in the service's cloud and region) and the service
/// accepts it (`privateEndpointIds`). The same endpoint made again for the
/// same service is `409`; for another service in the same region it is
/// added to that one too. An endpoint the organization has in another
/// region or cloud is `400`.
impl Handle for InstancePrivateEndpointCreate {
    const ACCESS: Access = Access::Write;

    fn run(
        world: &mut World,
        cx: &Context,
        path: ServicePath,
        _: (),
        body: ServicPrivateEndpointePostRequest,
    ) -> Result<Answer<InstancePrivateEndpoint>, ApiError> {
        let id = body
            .id
            .map(|id| id.trim().to_owned())
            .filter(|id| !id.is_empty())
            .ok_or_else(|| ApiError::bad_request("id is required"))?;
        let org = settled(world, cx)?;
        let service = org.services.get_mut(path.service_id)?;
        check_changeable(service)?;
        let region = service.api.region.clone();
        let provider = service
            .api
            .provider
            .as_ref()
            .map(|provider| CloudProvider::from(provider.as_str()));
        let ids = service
            .api
            .private_endpoint_ids
            .get_or_insert_with(Vec::new);
        if ids.contains(&id) {
            return Err(ApiError::conflict(format_args!(
                "private endpoint {id} is already on service {}",
                path.service_id
            )));
        }
        let known = org
            .profile
            .info
            .private_endpoints
            .get_or_insert_with(Vec::new);
        let existing = known
            .iter()
            .find(|endpoint| endpoint.id.as_deref() == Some(id.as_str()));
        if let Some(existing) = existing
            && (existing.region != region || existing.cloud_provider != provider)
        {
            return Err(ApiError::bad_request(format_args!(
                "private endpoint {id} belongs to another cloud region than service {}",
                path.service_id
            )));
        }
        let endpoint = match existing {
            Some(existing) => existing.clone(),
            None => {
                let made = OrganizationPrivateEndpoint {
                    id: Some(id.clone()),
                    description: body.description.clone(),
                    cloud_provider: provider.clone(),
                    region: region.clone(),
                };
                known.push(made.clone());
                org.activities.record(
                    cx,
                    cx.activity(ActivityType::OrganizationUpdatePrivateEndpoints),
                );
                made
            }
        };
        ids.push(id);
        record(
            org,
            cx,
            ActivityType::ServiceUpdatePrivateEndpoints,
            path.service_id,
        );
        Ok(InstancePrivateEndpoint {
            id: endpoint.id,
            description: endpoint.description,
            cloud_provider: endpoint.cloud_provider,
            region: endpoint.region,
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
        // What lives under the service goes with it, and so do the
        // functions' attachments to it.
        org.store.remove_under(&format!(
            "/v1/organizations/{}/services/{}",
            cx.caller.org, path.service_id
        ));
        org.store
            .remove_keyed("serviceId", &path.service_id.to_string());
        record(org, cx, ActivityType::ServiceDelete, path.service_id);
        Ok(().into())
    }
}
