//! The reports computed from state ([`crate::model::reports`]): quotas,
//! usage cost and BYOC infrastructure progress.

use axum::http::Uri;
use chrono::NaiveDate;
use clickhouse_cloud_types::ops::{
    ByocInfrastructurePath, OrganizationByocInfrastructureProgressGet, OrganizationPath,
    OrganizationQuotaGet, OrganizationQuotasGetList, QuotaCodePath, UsageCostGet,
    UsageCostGetQuery,
};
use clickhouse_cloud_types::{ByocInfrastructureProgress, OrganizationQuota, UsageCost};

use crate::model::access::{Access, Context};
use crate::model::error::ApiError;
use crate::model::lifecycles;
use crate::model::reports;
use crate::model::services::{TagFilter, settled};
use crate::model::world::World;
use crate::pipeline::{Answer, Handle};

impl Handle for OrganizationQuotasGetList {
    const ACCESS: Access = Access::Read;

    fn run(
        world: &mut World,
        cx: &Context,
        _: OrganizationPath,
        _: (),
        _: (),
    ) -> Result<Answer<Vec<OrganizationQuota>>, ApiError> {
        let key_limit = world.settings.key_limit;
        let org = settled(world, cx)?;
        Ok(reports::quotas(org, cx.caller.org, key_limit).into())
    }
}

impl Handle for OrganizationQuotaGet {
    const ACCESS: Access = Access::Read;

    fn run(
        world: &mut World,
        cx: &Context,
        path: QuotaCodePath,
        _: (),
        _: (),
    ) -> Result<Answer<OrganizationQuota>, ApiError> {
        let key_limit = world.settings.key_limit;
        let org = settled(world, cx)?;
        reports::quota(org, cx.caller.org, key_limit, &path.quota_code).map(Answer::from)
    }
}

impl Handle for UsageCostGet {
    const ACCESS: Access = Access::Read;

    /// `from_date` and `to_date` (required), `filter=` and `filter[]=`
    /// (repeatable).
    fn query(uri: &Uri) -> Result<UsageCostGetQuery, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(uri.query().unwrap_or(""))
            .map_err(|error| ApiError::bad_request(format_args!("query: {error}")))?;
        let date = |name: &str| {
            let text = pairs
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
                .ok_or_else(|| ApiError::bad_request(format_args!("{name} is required")))?;
            NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
                ApiError::bad_request(format_args!("{name} is not a date (YYYY-MM-DD): {text:?}"))
            })
        };
        let filters: Vec<String> = pairs
            .iter()
            .filter(|(name, _)| name == "filter" || name == "filter[]")
            .map(|(_, value)| value.clone())
            .collect();
        Ok(UsageCostGetQuery {
            from_date: date("from_date")?,
            to_date: date("to_date")?,
            filter: (!filters.is_empty()).then_some(filters),
        })
    }

    fn run(
        world: &mut World,
        cx: &Context,
        _: OrganizationPath,
        query: UsageCostGetQuery,
        _: (),
    ) -> Result<Answer<UsageCost>, ApiError> {
        let filters = query
            .filter
            .unwrap_or_default()
            .iter()
            .map(|text| TagFilter::parse(text))
            .collect::<Result<Vec<_>, _>>()?;
        let org = settled(world, cx)?;
        reports::usage_cost(org, query.from_date, query.to_date, &filters, cx.now).map(Answer::from)
    }
}

impl Handle for OrganizationByocInfrastructureProgressGet {
    const ACCESS: Access = Access::Read;

    fn run(
        world: &mut World,
        cx: &Context,
        path: ByocInfrastructurePath,
        _: (),
        _: (),
    ) -> Result<Answer<ByocInfrastructureProgress>, ApiError> {
        let clock = world.clock.clone();
        let org = world.org_mut(cx.caller.org)?;
        lifecycles::settle(&mut org.store, &clock, cx.now);
        let id = path.byoc_infrastructure_id.to_string();
        reports::byoc_progress(&org.store, &clock, cx.caller.org, &id, cx.now).map(Answer::from)
    }
}
