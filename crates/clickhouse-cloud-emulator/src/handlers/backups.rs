//! A service's backups and snapshots: those its schedules made
//! ([`crate::model::backups`]), read back.

use clickhouse_cloud_types::ops::{
    BackupGet, BackupGetList, BackupPath, ServicePath, SnapshotGet, SnapshotGetList,
    SnapshotGetListQuery, SnapshotPath,
};
use clickhouse_cloud_types::{Backup, Snapshot};
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use crate::model::access::{Access, Context};
use crate::model::backups::{Series, list, view};
use crate::model::error::ApiError;
use crate::model::paging;
use crate::model::services::settled;
use crate::model::store::{Item, sort_key};
use crate::model::world::World;
use crate::pipeline::{Answer, Handle};

/// The items of `series` of the service, which must exist, as they read now.
fn items(
    world: &mut World,
    cx: &Context,
    service: Uuid,
    series: Series,
) -> Result<Vec<Item>, ApiError> {
    let org = settled(world, cx)?;
    org.services.get(service)?;
    Ok(list(&org.store, cx.caller.org, service, series)
        .iter()
        .map(|item| Item {
            seq: item.seq,
            value: view(&item.value, cx.now),
        })
        .collect())
}

fn typed<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    serde_json::from_value(value).map_err(ApiError::internal)
}

fn one(
    world: &mut World,
    cx: &Context,
    service: Uuid,
    series: Series,
    id: Uuid,
) -> Result<Value, ApiError> {
    let wanted = id.to_string();
    items(world, cx, service, series)?
        .into_iter()
        .map(|item| item.value)
        .find(|value| value.get("id").and_then(Value::as_str) == Some(wanted.as_str()))
        .ok_or_else(|| {
            let what = match series {
                Series::Backups | Series::Postgres => "backup",
                Series::Snapshots => "snapshot",
            };
            ApiError::not_found(format_args!("{what} {id} of service {service} not found"))
        })
}

impl Handle for BackupGetList {
    const ACCESS: Access = Access::Read;

    fn run(
        world: &mut World,
        cx: &Context,
        path: ServicePath,
        _: (),
        _: (),
    ) -> Result<Answer<Vec<Backup>>, ApiError> {
        let values = items(world, cx, path.service_id, Series::Backups)?
            .into_iter()
            .map(|item| item.value)
            .collect();
        Ok(typed::<Vec<Backup>>(Value::Array(values))?.into())
    }
}

impl Handle for BackupGet {
    const ACCESS: Access = Access::Read;

    fn run(
        world: &mut World,
        cx: &Context,
        path: BackupPath,
        _: (),
        _: (),
    ) -> Result<Answer<Backup>, ApiError> {
        let value = one(world, cx, path.service_id, Series::Backups, path.backup_id)?;
        Ok(typed::<Backup>(value)?.into())
    }
}

impl Handle for SnapshotGetList {
    const ACCESS: Access = Access::Read;

    fn run(
        world: &mut World,
        cx: &Context,
        path: ServicePath,
        query: SnapshotGetListQuery,
        _: (),
    ) -> Result<Answer<Vec<Snapshot>>, ApiError> {
        let items = items(world, cx, path.service_id, Series::Snapshots)?;
        let (page, meta) = paging::page(items, sort_key, query.limit, query.cursor.as_deref())?;
        let values = page.into_iter().map(|item| item.value).collect();
        Ok(Answer {
            result: typed::<Vec<Snapshot>>(Value::Array(values))?,
            page: Some(meta),
        })
    }
}

impl Handle for SnapshotGet {
    const ACCESS: Access = Access::Read;

    fn run(
        world: &mut World,
        cx: &Context,
        path: SnapshotPath,
        _: (),
        _: (),
    ) -> Result<Answer<Snapshot>, ApiError> {
        let value = one(
            world,
            cx,
            path.service_id,
            Series::Snapshots,
            path.snapshot_id,
        )?;
        Ok(typed::<Snapshot>(value)?.into())
    }
}
