//! The reports computed from state rather than kept: the organization's
//! quotas (limits and what counts against them), the usage cost of its
//! services over a range of days, and how far a BYOC infrastructure's
//! provisioning has come.

use chrono::{NaiveDate, TimeDelta};
use clickhouse_cloud_types::{
    ByocInfrastructureProgress, ByocInfrastructureProgressStage, ByocInfrastructureProgressStatus,
    OrganizationQuota, OrganizationQuotaQuotaCode, OrganizationQuotaScope, Timestamp, UsageCost,
    UsageCostMetrics, UsageCostRecord, UsageCostRecordEntityType,
};
use uuid::Uuid;

use crate::model::clock::Clock;
use crate::model::error::ApiError;
use crate::model::lifecycles;
use crate::model::services::TagFilter;
use crate::model::store::{Store, id_text};
use crate::model::world::Org;

/// Services an organization may have (reported, not enforced).
pub(crate) const SERVICE_LIMIT: i64 = 20;
/// Postgres services an organization may have (reported, not enforced).
pub(crate) const POSTGRES_LIMIT: i64 = 10;
/// Replicas per warehouse (reported, not enforced; no usage).
pub(crate) const REPLICA_LIMIT: i64 = 20;
/// What an hour of a `running` service costs, in ClickHouse Credits.
pub(crate) const CHC_PER_RUNNING_HOUR: f64 = 0.5;
/// The longest usage range, in days after `from_date`.
pub(crate) const MAX_RANGE_DAYS: i64 = 30;
/// The stages of a BYOC infrastructure's provisioning, in order; each
/// takes an equal share of its `infra-provisioning` time.
pub(crate) const BYOC_STAGES: [&str; 5] =
    ["vpc", "subnets", "kubernetes", "load-balancers", "storage"];

/// Every quota of the organization `org_id`, with what counts against it.
pub(crate) fn quotas(org: &Org, org_id: Uuid, key_limit: usize) -> Vec<OrganizationQuota> {
    let postgres = org
        .store
        .list(&format!("/v1/organizations/{org_id}/postgres"))
        .len();
    let count = |n: usize| Some(i64::try_from(n).unwrap_or(i64::MAX));
    let quota = |code, name: &str, description: &str, scope, value, usage| OrganizationQuota {
        quota_code: Some(code),
        name: Some(name.to_owned()),
        description: Some(description.to_owned()),
        scope: Some(scope),
        value: Some(value),
        usage,
        adjustable: Some(true),
    };
    vec![
        quota(
            OrganizationQuotaQuotaCode::ServicesPerOrganization,
            "Services per organization",
            "ClickHouse services the organization may have at once.",
            OrganizationQuotaScope::Organization,
            SERVICE_LIMIT,
            count(org.services.list.len()),
        ),
        quota(
            OrganizationQuotaQuotaCode::PostgresServicesPerOrganization,
            "Postgres services per organization",
            "Postgres services (read replicas included) the organization may have at once.",
            OrganizationQuotaScope::Organization,
            POSTGRES_LIMIT,
            count(postgres),
        ),
        quota(
            OrganizationQuotaQuotaCode::ReplicasPerWarehouse,
            "Replicas per warehouse",
            "Replicas each warehouse may have, counted per warehouse.",
            OrganizationQuotaScope::Warehouse,
            REPLICA_LIMIT,
            None,
        ),
        quota(
            OrganizationQuotaQuotaCode::ApiKeysPerOrganization,
            "API keys per organization",
            "API keys the organization may have at once.",
            OrganizationQuotaScope::Organization,
            i64::try_from(key_limit).unwrap_or(i64::MAX),
            count(org.keys.len()),
        ),
    ]
}

/// The quota `code`, `404` when there is none.
pub(crate) fn quota(
    org: &Org,
    org_id: Uuid,
    key_limit: usize,
    code: &str,
) -> Result<OrganizationQuota, ApiError> {
    quotas(org, org_id, key_limit)
        .into_iter()
        .find(|quota| {
            quota
                .quota_code
                .as_ref()
                .is_some_and(|c| c.as_str() == code)
        })
        .ok_or_else(|| ApiError::not_found(format_args!("quota {code:?} not found")))
}

fn midnight(date: NaiveDate) -> Timestamp {
    Timestamp(date.and_time(chrono::NaiveTime::MIN).and_utc())
}

/// Rounds to a ten-thousandth of a credit.
fn credits(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

/// The usage cost from `from` to `to` (both included, at most
/// [`MAX_RANGE_DAYS`] apart): one record per service that matches every
/// filter and per day it existed up to `now`, charging its `running` time
/// that day at [`CHC_PER_RUNNING_HOUR`]. Days before today are locked.
pub(crate) fn usage_cost(
    org: &Org,
    from: NaiveDate,
    to: NaiveDate,
    filters: &[TagFilter],
    now: Timestamp,
) -> Result<UsageCost, ApiError> {
    if from > to {
        return Err(ApiError::bad_request("from_date must not be after to_date"));
    }
    if (to - from).num_days() > MAX_RANGE_DAYS {
        return Err(ApiError::bad_request(format_args!(
            "to_date must be at most {MAX_RANGE_DAYS} days after from_date"
        )));
    }
    let today = now.0.date_naive();
    let mut costs = Vec::new();
    let mut total = 0.0;
    for day in from.iter_days().take_while(|day| *day <= to.min(today)) {
        let start = midnight(day);
        let end = day.succ_opt().map_or(now, midnight).min(now);
        for service in &org.services.list {
            let api = service.to_api();
            let existed = api.created_at.is_none_or(|created| created < end);
            if !existed || !filters.iter().all(|filter| filter.matches(&api)) {
                continue;
            }
            let hours = service.running_within(start, end).num_milliseconds() as f64 / 3_600_000.0;
            let cost = credits(hours * CHC_PER_RUNNING_HOUR);
            total += cost;
            costs.push(UsageCostRecord {
                data_warehouse_id: api
                    .data_warehouse_id
                    .as_deref()
                    .and_then(|id| Uuid::parse_str(id).ok()),
                date: Some(day),
                entity_id: Some(service.id),
                entity_name: api.name.clone(),
                entity_type: Some(UsageCostRecordEntityType::Service),
                locked: Some(day < today),
                metrics: Some(UsageCostMetrics {
                    compute_chc: Some(cost),
                    ..UsageCostMetrics::default()
                }),
                service_id: Some(service.id),
                total_chc: Some(cost),
            });
        }
    }
    Ok(UsageCost {
        costs: Some(costs),
        grand_total_chc: Some(credits(total)),
    })
}

/// How far BYOC infrastructure `id` of organization `org_id` has come:
/// [`BYOC_STAGES`] one after another while it is `infra-provisioning`,
/// all `ready` once it is `infra-ready`. `404` when there is no such
/// infrastructure. The store must be settled.
pub(crate) fn byoc_progress(
    store: &Store,
    clock: &Clock,
    org_id: Uuid,
    id: &str,
    now: Timestamp,
) -> Result<ByocInfrastructureProgress, ApiError> {
    let collection = format!("/v1/organizations/{org_id}/byocInfrastructure");
    let item = store
        .list(&collection)
        .iter()
        .find(|item| item.value.get("id").and_then(id_text).as_deref() == Some(id))
        .ok_or_else(|| ApiError::not_found(format_args!("byocInfrastructureId {id} not found")))?;
    let stage = |name: &str, status, at: Timestamp, message: Option<String>| {
        ByocInfrastructureProgressStage {
            name: Some(name.to_owned()),
            status: Some(status),
            updated_at: Some(at),
            message,
            sub_stages: None,
        }
    };
    let n = BYOC_STAGES.len();
    let (status, updated, stages) = match lifecycles::state_of(store, clock, &collection, id) {
        Some((state, since, Some(lasts))) if state == "infra-provisioning" => {
            let share = lasts / i32::try_from(n).unwrap_or(1);
            let elapsed = now - since;
            let done = if share <= TimeDelta::zero() {
                n
            } else {
                let ratio = elapsed.num_milliseconds() / share.num_milliseconds().max(1);
                usize::try_from(ratio.max(0)).unwrap_or(n).min(n)
            };
            let mut at = since;
            let stages = BYOC_STAGES
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    use ByocInfrastructureProgressStatus as S;
                    if i < done {
                        at = at + share;
                        stage(name, S::Ready, at, None)
                    } else if i == done {
                        let message = format!("{done} of {n} stages done");
                        stage(name, S::InProgress, at, Some(message))
                    } else {
                        stage(name, S::Pending, since, None)
                    }
                })
                .collect();
            let status = if done >= n {
                ByocInfrastructureProgressStatus::Ready
            } else {
                ByocInfrastructureProgressStatus::InProgress
            };
            (status, since, stages)
        }
        other => {
            // Ready, or kept without a lifecycle (an older state file):
            // as the item shows it, since its state began.
            let since = other.map_or(now, |(_, since, _)| since);
            let ready = item.value.get("state").and_then(|s| s.as_str()) == Some("infra-ready");
            let status = if ready {
                ByocInfrastructureProgressStatus::Ready
            } else {
                ByocInfrastructureProgressStatus::Pending
            };
            let stages = BYOC_STAGES
                .iter()
                .map(|name| stage(name, status.clone(), since, None))
                .collect();
            (status, since, stages)
        }
    };
    Ok(ByocInfrastructureProgress {
        id: Some(id.to_owned()),
        status: Some(status),
        updated_at: Some(updated),
        stages: Some(stages),
    })
}
