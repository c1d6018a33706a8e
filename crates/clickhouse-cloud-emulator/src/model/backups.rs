//! Backups and snapshots: each service that has run gets them on its
//! schedule, read from its backup and snapshot configuration, on the
//! scaled clock.
//!
//! Nothing runs in the background: whenever a service is read or used,
//! the slots of its schedules that have come since are turned into items
//! of the generic store at `.../services/{id}/backups` and
//! `.../snapshots`, so they live and go with the service (a deleted
//! service takes them along) and are kept in a state file. Each item's ID
//! is derived from the service's ID, the series and the slot's number, so
//! the same slot always has the same ID.
//!
//! - Backups: every `backupPeriodInHours` (24 when not set; 24 as well
//!   once `backupStartTime` is set, whose time of day is not modelled),
//!   counted from when the service first became running; each is kept for
//!   `backupRetentionPeriodInHours` (24 when not set) as it was when the
//!   backup was taken (a later change applies to later ones). The first of every
//!   seven is `full`, the others `incremental`.
//! - Snapshots: while `enabled` (the default), every `gap` minutes (60),
//!   each kept `timeFrame` minutes (1440, as it was when taken), counted
//!   from when the service
//!   first ran or from when they were enabled again.
//! - A slot that comes while the service is stopped (or stopping) makes
//!   nothing. A backup or snapshot takes 5 minutes (scaled): until then it
//!   is `in_progress`, without `finishedAt`, then `done`.
//! - Sizes are made up: a full copy is 1 GiB plus 16 MiB per slot before
//!   it, an incremental backup a sixteenth of that.

use std::time::Duration;

use chrono::TimeDelta;
use clickhouse_cloud_types::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::model::clock::Clock;
use crate::model::services::Phase;
use crate::model::shapes::{Shape, table};
use crate::model::store::{Item, Store};
use crate::model::world::Org;

/// Hours between backups when the configuration does not say.
pub(crate) const BACKUP_PERIOD_HOURS: u32 = 24;
/// Hours a backup is kept when the configuration does not say.
pub(crate) const BACKUP_RETENTION_HOURS: u32 = 24;
/// Minutes between snapshots when the configuration does not say.
pub(crate) const SNAPSHOT_GAP_MINUTES: u32 = 60;
/// Minutes a snapshot is kept when the configuration does not say.
pub(crate) const SNAPSHOT_TIME_FRAME_MINUTES: u32 = 1440;
/// How long taking one lasts at speed 1.
pub(crate) const TAKING: Duration = Duration::from_secs(300);
/// Most items kept per service and series, newest first.
pub(crate) const KEPT_AT_MOST: u64 = 500;

/// The longest interval or retention taken from a configuration: about
/// a hundred years (larger numbers count as this).
const LONGEST_SECS: f64 = 100.0 * 365.0 * 86_400.0;

/// The field of a stored item saying until when it is kept (the
/// retention in force when it was taken); never shown.
const KEPT_UNTIL: &str = "emulatorKeptUntil";

const GIB: u64 = 1 << 30;
const MIB: u64 = 1 << 20;

/// The two series a service has, and the one a Postgres service has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Series {
    Backups,
    Snapshots,
    /// A Postgres service's base backups: on the default backup schedule
    /// (it has no backup configuration), each `{key, status, lastModified}`.
    Postgres,
}

impl Series {
    /// The path segment of its list under a service.
    pub(crate) fn segment(self) -> &'static str {
        match self {
            Series::Backups | Series::Postgres => "backups",
            Series::Snapshots => "snapshots",
        }
    }

    /// The operation that reads its configuration, and the path segment
    /// of that configuration; `None` when it has none.
    fn config(self) -> Option<(&'static str, &'static str)> {
        match self {
            Series::Backups => Some(("backupConfigurationGet", "backupConfiguration")),
            Series::Snapshots => Some(("snapshotConfigurationGet", "snapshotConfiguration")),
            Series::Postgres => None,
        }
    }

    /// Its interval and how long each is kept, at speed 1; `None` when
    /// turned off.
    fn schedule(self, config: &Value) -> Option<(Duration, Duration)> {
        let number = |field: &str, default: f64| {
            config
                .get(field)
                .and_then(Value::as_f64)
                .filter(|n| n.is_finite() && *n > 0.0)
                .unwrap_or(default)
        };
        let span = |seconds: f64| {
            Duration::try_from_secs_f64(seconds.min(LONGEST_SECS)).unwrap_or(Duration::ZERO)
        };
        match self {
            Series::Backups | Series::Postgres => {
                let start_time = config
                    .get("backupStartTime")
                    .and_then(Value::as_str)
                    .is_some_and(|text| !text.is_empty());
                let period = if start_time {
                    BACKUP_PERIOD_HOURS.into()
                } else {
                    number("backupPeriodInHours", BACKUP_PERIOD_HOURS.into())
                };
                let kept = number(
                    "backupRetentionPeriodInHours",
                    BACKUP_RETENTION_HOURS.into(),
                );
                Some((span(period * 3600.0), span(kept * 3600.0)))
            }
            Series::Snapshots => {
                if config.get("enabled") == Some(&Value::Bool(false)) {
                    return None;
                }
                let gap = number("gap", SNAPSHOT_GAP_MINUTES.into());
                let kept = number("timeFrame", SNAPSHOT_TIME_FRAME_MINUTES.into());
                Some((span(gap * 60.0), span(kept * 60.0)))
            }
        }
    }
}

/// What a configuration reads before anything is set: the defaults above.
pub(crate) fn default_config(read_operation: &str) -> Option<Value> {
    match read_operation {
        "backupConfigurationGet" => Some(json!({
            "backupPeriodInHours": BACKUP_PERIOD_HOURS,
            "backupRetentionPeriodInHours": BACKUP_RETENTION_HOURS,
        })),
        "snapshotConfigurationGet" => Some(json!({
            "enabled": true,
            "gap": SNAPSHOT_GAP_MINUTES,
            "timeFrame": SNAPSHOT_TIME_FRAME_MINUTES,
        })),
        _ => None,
    }
}

/// Where one series of one service stands.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Schedule {
    /// When the next slot comes.
    next: Timestamp,
    /// Slots counted so far (the next one's number).
    slots: u64,
    /// Turned off: the next slot is counted again from when it is back on.
    #[serde(default)]
    paused: bool,
}

/// `.../services/{service}` of organization `org`.
pub(crate) fn service_path(org: Uuid, service: Uuid) -> String {
    format!("/v1/organizations/{org}/services/{service}")
}

/// The ID of slot `slot` of `series` of `service`: the same every time.
pub(crate) fn item_id(service: Uuid, series: Series, slot: u64) -> Uuid {
    let salt: u128 = match series {
        Series::Backups => 0x9e37_79b9_7f4a_7c15,
        Series::Snapshots => 0xc2b2_ae3d_27d4_eb4f,
        Series::Postgres => 0x1656_67b1_9e37_79f9,
    };
    let mut x = service.as_u128() ^ (salt << 64) ^ u128::from(slot).wrapping_mul(salt | 1);
    // Two rounds of a 128-bit mix, so that neighbouring slots differ widely.
    for _ in 0..2 {
        x ^= x >> 67;
        x = x.wrapping_mul(0x2545_f491_4f6c_dd1d_9e37_79b9_7f4a_7c15);
        x ^= x >> 59;
    }
    uuid::Builder::from_random_bytes(x.to_be_bytes()).into_uuid()
}

/// `at + delta`, or the last instant there is.
fn later(at: Timestamp, delta: TimeDelta) -> Timestamp {
    Timestamp(
        at.0.checked_add_signed(delta)
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC),
    )
}

fn stamp(at: Timestamp) -> Value {
    serde_json::to_value(at).unwrap_or(Value::Null)
}

/// The field of a Postgres backup holding when it started; never shown.
const STARTED: &str = "emulatorStartedAt";

fn item(service: Uuid, series: Series, slot: u64, at: Timestamp, clock: &Clock) -> Value {
    if series == Series::Postgres {
        let finished = later(at, clock.scaled(TAKING));
        return json!({
            "key": format!("basebackups_005/00000001{:016X}_backup_stop_sentinel.json", slot + 1),
            "status": "done",
            "lastModified": stamp(finished),
            STARTED: stamp(at),
        });
    }
    let full = series == Series::Snapshots || slot.is_multiple_of(7);
    let whole = GIB + slot.min(1 << 20) * 16 * MIB;
    let size = if full { whole } else { whole / 16 };
    let finished = later(at, clock.scaled(TAKING));
    let seconds = (finished - at).num_milliseconds() as f64 / 1000.0;
    let short = &service.simple().to_string()[..8];
    json!({
        "id": item_id(service, series, slot).to_string(),
        "status": "done",
        "serviceId": service.to_string(),
        "startedAt": stamp(at),
        "finishedAt": stamp(finished),
        "sizeInBytes": size,
        "durationInSeconds": seconds,
        "type": if full { "full" } else { "incremental" },
        "backupName": format!("{}-{short}-{slot:06}", &series.segment()[..series.segment().len() - 1]),
    })
}

fn started_at(value: &Value) -> Option<Timestamp> {
    serde_json::from_value(value.get("startedAt")?.clone()).ok()
}

/// A configuration as it reads now (what was set, or the default).
fn config(store: &Store, series: Series, path: &str) -> Value {
    let Some((read, segment)) = series.config() else {
        return Value::Null;
    };
    match table().shape(read) {
        Some(Shape::Read(singleton)) => store.read(singleton, &format!("{path}/{segment}")),
        _ => default_config(read).unwrap_or(Value::Null),
    }
}

/// Makes the items every schedule of organization `org_id`'s services
/// owes up to `now`, and drops those past their retention.
pub(crate) fn settle(org: &mut Org, org_id: Uuid, clock: &Clock, now: Timestamp) {
    for service in &org.services.list {
        let Some(first) = service.first_running else {
            continue;
        };
        if matches!(service.phase, Phase::Terminating | Phase::Gone) {
            continue;
        }
        let taking = !matches!(service.phase, Phase::Stopped | Phase::Stopping);
        let path = service_path(org_id, service.id);
        for series in [Series::Backups, Series::Snapshots] {
            settle_series(
                &mut org.store,
                &path,
                service.id,
                series,
                first,
                taking,
                clock,
                now,
            );
        }
    }
    for (path, id, first) in crate::model::lifecycles::postgres_that_ran(&org.store) {
        let Ok(id) = Uuid::parse_str(&id) else {
            continue;
        };
        settle_series(
            &mut org.store,
            &path,
            id,
            Series::Postgres,
            first,
            true,
            clock,
            now,
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn settle_series(
    store: &mut Store,
    service_path: &str,
    service: Uuid,
    series: Series,
    first: Timestamp,
    taking: bool,
    clock: &Clock,
    now: Timestamp,
) {
    let list = format!("{service_path}/{}", series.segment());
    drop_expired(store, &list, now);
    let schedule = series.schedule(&config(store, series, service_path));
    let Some((every, kept)) = schedule else {
        if let Some(current) = store.schedules.get_mut(&list) {
            current.paused = true;
        }
        return;
    };
    let every = clock.scaled(every).max(TimeDelta::milliseconds(1));
    let kept = clock.scaled(kept);
    let mut current = store.schedules.remove(&list).unwrap_or(Schedule {
        next: later(first, every),
        slots: 0,
        paused: false,
    });
    if current.paused {
        current = Schedule {
            next: later(now, every),
            slots: current.slots,
            paused: false,
        };
    }
    // A shorter interval than the one the next slot was set with counts
    // from now.
    current.next = current.next.min(later(now, every));
    // Slots too old to be kept are counted, not made.
    let behind = (now - current.next).num_milliseconds();
    if behind > 0 {
        let owed = (behind / every.num_milliseconds().max(1)) as u64 + 1;
        let within = (kept.num_milliseconds() / every.num_milliseconds().max(1)) as u64 + 1;
        let skipped = owed.saturating_sub(within.min(KEPT_AT_MOST));
        if skipped > 0 {
            let jump = i64::try_from(skipped)
                .unwrap_or(i64::MAX)
                .saturating_mul(every.num_milliseconds());
            current.next = later(
                current.next,
                TimeDelta::try_milliseconds(jump).unwrap_or(TimeDelta::MAX),
            );
            current.slots += skipped;
        }
    }
    while current.next <= now {
        if taking {
            let mut value = item(service, series, current.slots, current.next, clock);
            if let Value::Object(map) = &mut value {
                map.insert(KEPT_UNTIL.into(), stamp(later(current.next, kept)));
            }
            store.insert(&list, value);
        }
        current.slots += 1;
        current.next = later(current.next, every);
    }
    drop_expired(store, &list, now);
    let count = store.list(&list).len() as u64;
    if count > KEPT_AT_MOST {
        let mut drop = count - KEPT_AT_MOST;
        store.retain(&list, |_| {
            let keep = drop == 0;
            drop = drop.saturating_sub(1);
            keep
        });
    }
    store.schedules.insert(list, current);
}

/// Drops the items of the list at `list` kept until before `now`.
fn drop_expired(store: &mut Store, list: &str, now: Timestamp) {
    store.retain(list, |item: &Item| {
        let until: Option<Timestamp> = item
            .value
            .get(KEPT_UNTIL)
            .and_then(|at| serde_json::from_value(at.clone()).ok());
        until.is_some_and(|until| until >= now)
    });
}

/// An item as it reads at `now`: still `in_progress` (with the time
/// since it started, and no `finishedAt`) until it finishes.
pub(crate) fn view(value: &Value, now: Timestamp) -> Value {
    let mut value = value.clone();
    let mut started_postgres = None;
    if let Value::Object(map) = &mut value {
        map.remove(KEPT_UNTIL);
        started_postgres = map.remove(STARTED);
    }
    if let Some(started) = started_postgres {
        // A Postgres backup: `lastModified` is when it finished, or when
        // it started while it is still being taken.
        let finished: Option<Timestamp> = value
            .get("lastModified")
            .and_then(|at| serde_json::from_value(at.clone()).ok());
        if let (Some(finished), Value::Object(map)) = (finished, &mut value)
            && now < finished
        {
            map.insert("status".into(), json!("in_progress"));
            map.insert("lastModified".into(), started);
        }
        return value;
    }
    let finished: Option<Timestamp> = value
        .get("finishedAt")
        .and_then(|at| serde_json::from_value(at.clone()).ok());
    if let (Some(finished), Some(started), Value::Object(map)) =
        (finished, started_at(&value), &mut value)
        && now < finished
    {
        map.remove("finishedAt");
        map.insert("status".into(), json!("in_progress"));
        let seconds = (now - started).num_milliseconds().max(0) as f64 / 1000.0;
        map.insert("durationInSeconds".into(), json!(seconds));
    }
    value
}

/// The items of `series` of service `service`, oldest first.
pub(crate) fn list(store: &Store, org: Uuid, service: Uuid, series: Series) -> &[Item] {
    store.list(&format!(
        "{}/{}",
        service_path(org, service),
        series.segment()
    ))
}

/// The backup `id` of any service of organization `org`, with its
/// service.
pub(crate) fn find_backup(store: &Store, org: Uuid, id: Uuid) -> Option<(Uuid, Value)> {
    let prefix = format!("/v1/organizations/{org}/services/");
    let wanted = id.to_string();
    store
        .collections_like(&prefix, "/backups")
        .flat_map(|(_, items)| items.iter())
        .find(|item| item.value.get("id").and_then(Value::as_str) == Some(wanted.as_str()))
        .and_then(|item| {
            let service = item.value.get("serviceId")?.as_str()?.parse().ok()?;
            Some((service, item.value.clone()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_distinct_and_uuids() {
        let service = Uuid::new_v4();
        let a = item_id(service, Series::Backups, 0);
        assert_eq!(a, item_id(service, Series::Backups, 0));
        assert_ne!(a, item_id(service, Series::Backups, 1));
        assert_ne!(a, item_id(service, Series::Snapshots, 0));
        assert_ne!(a, item_id(Uuid::new_v4(), Series::Backups, 0));
        assert_eq!(a.get_version_num(), 4);
    }

    #[test]
    fn schedules_read_the_configuration_or_the_defaults() {
        let day = Duration::from_secs(86_400);
        assert_eq!(Series::Backups.schedule(&json!({})), Some((day, day)));
        assert_eq!(
            Series::Backups
                .schedule(&json!({"backupPeriodInHours": 6, "backupRetentionPeriodInHours": 48})),
            Some((day / 4, day * 2))
        );
        assert_eq!(
            Series::Backups
                .schedule(&json!({"backupPeriodInHours": 6, "backupStartTime": "03:00"})),
            Some((day, day))
        );
        assert_eq!(
            Series::Backups.schedule(&json!({"backupPeriodInHours": -1})),
            Some((day, day))
        );
        assert_eq!(Series::Snapshots.schedule(&json!({"enabled": false})), None);
        assert_eq!(
            Series::Snapshots.schedule(&json!({"enabled": true, "gap": 30, "timeFrame": 120})),
            Some((Duration::from_secs(1800), Duration::from_secs(7200)))
        );
    }

    #[test]
    fn an_item_is_in_progress_until_it_finishes() {
        let clock = Clock::new(1.0);
        let at: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let made = item(Uuid::new_v4(), Series::Backups, 1, at, &clock);
        assert_eq!(made["type"], "incremental");
        let early = view(&made, at + TimeDelta::seconds(60));
        assert_eq!(early["status"], "in_progress");
        assert!(early.get("finishedAt").is_none());
        assert_eq!(early["durationInSeconds"], 60.0);
        let late = view(&made, at + TimeDelta::seconds(300));
        assert_eq!(late["status"], "done");
        assert_eq!(late["durationInSeconds"], 300.0);
    }

    #[test]
    fn a_postgres_backup_shows_when_it_started_until_it_is_done() {
        let clock = Clock::new(1.0);
        let at: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let made = item(Uuid::new_v4(), Series::Postgres, 0, at, &clock);
        let early = view(&made, at + TimeDelta::seconds(60));
        assert_eq!(early["status"], "in_progress");
        assert_eq!(early["lastModified"], "2026-01-01T00:00:00Z");
        assert!(early.get(STARTED).is_none());
        let late = view(&made, at + TimeDelta::seconds(300));
        assert_eq!(late["status"], "done");
        assert_eq!(late["lastModified"], "2026-01-01T00:05:00Z");
        assert_eq!(
            late.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["key", "lastModified", "status"]
        );
    }
}
