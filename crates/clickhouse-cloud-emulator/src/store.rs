//! The emulator's state: organizations, their keys and activities, the clock
//! and the rate-limit windows. Everything happens under one lock.

use std::collections::HashMap;
use std::net::IpAddr;
use std::str::FromStr;

use chrono::{DateTime, TimeDelta, Utc};
use clickhouse_cloud_auth::{AuthorizationHeader, Credentials, sha256_base64, usable_at};
use clickhouse_cloud_types::{
    Activity, ActivityType, ActorType, ApiKey, ApiKeyState, IpAccessListEntry, KeyUpdateType,
    Organization, Timestamp,
};
use ipnet::IpNet;
use subtle::ConstantTimeEq as _;
use uuid::Uuid;

use crate::RateLimit;
use crate::error::ApiError;
use crate::roles::{Permission, RoleSet};

/// The state behind every request.
pub(crate) struct Store {
    orgs: HashMap<Uuid, Org>,
    /// `sha256_base64(key ID)` to (organization, key UUID).
    index: HashMap<String, (Uuid, Uuid)>,
    windows: HashMap<Uuid, Window>,
    clock_offset: TimeDelta,
    next_activity: u64,
    pub(crate) key_limit: usize,
    rate_limit: Option<RateLimit>,
}

/// One organization and what it owns.
pub(crate) struct Org {
    pub(crate) info: Organization,
    pub(crate) keys: HashMap<Uuid, KeyRecord>,
    pub(crate) activities: Vec<Activity>,
}

/// A stored key: hashes only, never the key ID or secret.
#[derive(Clone)]
pub(crate) struct KeyRecord {
    pub(crate) id: Uuid,
    pub(crate) name: String,
    pub(crate) enabled: bool,
    pub(crate) roles: RoleSet,
    pub(crate) key_suffix: String,
    pub(crate) created_at: Timestamp,
    pub(crate) expire_at: Option<Timestamp>,
    pub(crate) used_at: Option<Timestamp>,
    pub(crate) ip_access_list: Vec<IpAccessListEntry>,
    /// `sha256_base64(key ID)`.
    pub(crate) id_hash: String,
    /// `sha256_base64(key secret)`.
    pub(crate) secret_hash: String,
}

impl KeyRecord {
    /// The key as the API shows it.
    pub(crate) fn to_api(&self) -> ApiKey {
        ApiKey {
            id: Some(self.id),
            name: Some(self.name.clone()),
            state: Some(if self.enabled {
                ApiKeyState::Enabled
            } else {
                ApiKeyState::Disabled
            }),
            roles: Some(self.roles.legacy()),
            assigned_roles: Some(self.roles.assigned()),
            key_suffix: Some(self.key_suffix.clone()),
            created_at: Some(self.created_at),
            expire_at: self.expire_at,
            used_at: self.used_at,
            ip_access_list: Some(self.ip_access_list.clone()),
        }
    }
}

/// The identified key behind a request.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) org: Uuid,
    pub(crate) key: Uuid,
    pub(crate) key_name: String,
    pub(crate) permission: Permission,
}

/// A key's fixed rate-limit window.
struct Window {
    start: Timestamp,
    count: u32,
}

/// Where a key stands in its rate-limit window, for the response headers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RateInfo {
    pub(crate) limit: u32,
    pub(crate) remaining: u32,
    /// Seconds until the window resets.
    pub(crate) reset: f64,
    /// Window length in seconds.
    pub(crate) window: f64,
    pub(crate) exceeded: bool,
}

/// The IP access list every key gets when none is given.
pub(crate) fn open_access_list() -> Vec<IpAccessListEntry> {
    vec![
        IpAccessListEntry::new("0.0.0.0/0"),
        IpAccessListEntry::new("::/0"),
    ]
}

/// Parses an access-list source: an IP address or a CIDR.
pub(crate) fn parse_source(source: &str) -> Option<IpNet> {
    let source = source.trim();
    IpNet::from_str(source)
        .ok()
        .or_else(|| IpAddr::from_str(source).ok().map(IpNet::from))
}

/// Whether `peer` matches an entry of `list` (an empty list admits nobody).
pub(crate) fn ip_allowed(list: &[IpAccessListEntry], peer: IpAddr) -> bool {
    let peer = peer.to_canonical();
    list.iter()
        .filter_map(|entry| parse_source(entry.source.as_deref()?))
        .any(|net| net.contains(&peer))
}

/// `now` truncated to the minute, as `usedAt` is reported.
fn to_minute(now: Timestamp) -> Timestamp {
    let seconds = now.timestamp();
    DateTime::from_timestamp(seconds - seconds.rem_euclid(60), 0).map_or(now, Timestamp)
}

impl Store {
    pub(crate) fn new(key_limit: usize, rate_limit: Option<RateLimit>) -> Self {
        Self {
            orgs: HashMap::new(),
            index: HashMap::new(),
            windows: HashMap::new(),
            clock_offset: TimeDelta::zero(),
            next_activity: 1,
            key_limit,
            rate_limit,
        }
    }

    /// Emulator time: real time plus the offset, to the millisecond.
    pub(crate) fn now(&self) -> Timestamp {
        let now = Utc::now()
            .checked_add_signed(self.clock_offset)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let millis = now.timestamp_millis();
        Timestamp(DateTime::from_timestamp_millis(millis).unwrap_or(now))
    }

    pub(crate) fn advance_clock(&mut self, by: std::time::Duration) {
        let by = TimeDelta::from_std(by).unwrap_or(TimeDelta::MAX);
        self.clock_offset = self.clock_offset.checked_add(&by).unwrap_or(TimeDelta::MAX);
    }

    /// Adds an organization with one enabled admin key for `credentials`.
    pub(crate) fn add_organization(
        &mut self,
        id: Uuid,
        name: String,
        credentials: &Credentials,
    ) -> Result<(), String> {
        if self.orgs.contains_key(&id) {
            return Err(format!("organization {id} is configured twice"));
        }
        let id_hash = sha256_base64(credentials.key_id().as_str());
        if self.index.contains_key(&id_hash) {
            return Err(format!(
                "key ID {} is used by two organizations",
                credentials.key_id()
            ));
        }
        let now = self.now();
        self.orgs.insert(
            id,
            Org {
                info: Organization {
                    id: Some(id),
                    created_at: Some(now),
                    name: Some(name),
                    private_endpoints: Some(Vec::new()),
                    byoc_config: Some(Vec::new()),
                    enable_core_dumps: Some(false),
                    capabilities: None,
                },
                keys: HashMap::new(),
                activities: Vec::new(),
            },
        );
        self.insert_key(
            id,
            KeyRecord {
                id: Uuid::new_v4(),
                name: "Bootstrap key".to_owned(),
                enabled: true,
                roles: RoleSet::admin(),
                key_suffix: credentials.key_id().suffix().to_owned(),
                created_at: now,
                expire_at: None,
                used_at: None,
                ip_access_list: open_access_list(),
                id_hash,
                secret_hash: sha256_base64(credentials.key_secret().expose()),
            },
        );
        Ok(())
    }

    pub(crate) fn org(&self, id: Uuid) -> Option<&Org> {
        self.orgs.get(&id)
    }

    pub(crate) fn org_mut(&mut self, id: Uuid) -> Option<&mut Org> {
        self.orgs.get_mut(&id)
    }

    /// Whether a key ID hash already belongs to a key.
    pub(crate) fn id_hash_in_use(&self, id_hash: &str) -> bool {
        self.index.contains_key(id_hash)
    }

    pub(crate) fn insert_key(&mut self, org: Uuid, key: KeyRecord) {
        if let Some(entry) = self.orgs.get_mut(&org) {
            self.index.insert(key.id_hash.clone(), (org, key.id));
            entry.keys.insert(key.id, key);
        }
    }

    pub(crate) fn remove_key(&mut self, org: Uuid, key: Uuid) -> Option<KeyRecord> {
        let removed = self.orgs.get_mut(&org)?.keys.remove(&key)?;
        self.index.remove(&removed.id_hash);
        self.windows.remove(&key);
        Some(removed)
    }

    /// Appends an activity to `org`'s log, giving it an ID and a time.
    pub(crate) fn record(&mut self, org: Uuid, mut activity: Activity) {
        activity.id = Some(format!("act_{}", self.next_activity));
        self.next_activity += 1;
        activity.created_at = Some(self.now());
        activity.organization_id = Some(org.to_string());
        activity.actor_type = Some(ActorType::Api);
        if let Some(entry) = self.orgs.get_mut(&org) {
            entry.activities.push(activity);
        }
    }

    /// Identifies the key behind an `Authorization` header, counts the request
    /// against its rate limit and checks the peer address. The rate
    /// information is there whenever a usable key was identified.
    pub(crate) fn authenticate(
        &mut self,
        authorization: Option<&str>,
        peer: IpAddr,
    ) -> (Result<Caller, ApiError>, Option<RateInfo>) {
        let now = self.now();
        let Some(credentials) = authorization.and_then(AuthorizationHeader::parse) else {
            return (Err(ApiError::key_not_found()), None);
        };
        let id_hash = sha256_base64(credentials.key_id().as_str());
        let Some(&(org, key_id)) = self.index.get(&id_hash) else {
            return (Err(ApiError::key_not_found()), None);
        };
        let Some(key) = self.orgs.get(&org).and_then(|o| o.keys.get(&key_id)) else {
            return (Err(ApiError::key_not_found()), None);
        };
        let secret_hash = sha256_base64(credentials.key_secret().expose());
        if !bool::from(secret_hash.as_bytes().ct_eq(key.secret_hash.as_bytes())) {
            return (Err(ApiError::key_not_found()), None);
        }
        if !usable_at(key.enabled, key.expire_at, now) {
            return (Err(ApiError::key_not_active()), None);
        }
        let caller = Caller {
            org,
            key: key_id,
            key_name: key.name.clone(),
            permission: key.roles.permission(),
        };
        let allowed = ip_allowed(&key.ip_access_list, peer);
        let rate = self.count_request(key_id, now);
        if rate.is_some_and(|rate| rate.exceeded) {
            return (Err(ApiError::rate_limited()), rate);
        }
        if !allowed {
            let message = format!(
                "IP address {} is not allowed for this key",
                peer.to_canonical()
            );
            return (Err(ApiError::forbidden(message)), rate);
        }
        if let Some(key) = self
            .orgs
            .get_mut(&org)
            .and_then(|o| o.keys.get_mut(&key_id))
        {
            key.used_at = Some(to_minute(now));
        }
        (Ok(caller), rate)
    }

    /// Counts one request in the key's fixed window.
    fn count_request(&mut self, key: Uuid, now: Timestamp) -> Option<RateInfo> {
        let limit = self.rate_limit?;
        let length = TimeDelta::from_std(limit.window).unwrap_or(TimeDelta::MAX);
        let window = self.windows.entry(key).or_insert(Window {
            start: now,
            count: 0,
        });
        let end = window.start.checked_add_signed(length);
        if now < window.start || end.is_none_or(|end| *now >= end) {
            *window = Window {
                start: now,
                count: 0,
            };
        }
        window.count = window.count.saturating_add(1);
        let end = window
            .start
            .checked_add_signed(length)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let reset = (end - *now).num_milliseconds().max(0) as f64 / 1000.0;
        Some(RateInfo {
            limit: limit.requests,
            remaining: limit.requests.saturating_sub(window.count),
            reset,
            window: limit.window.as_secs_f64(),
            exceeded: window.count > limit.requests,
        })
    }

    /// Records one `openapi_key_update` activity per changed aspect.
    pub(crate) fn record_key_updates(
        &mut self,
        caller: &Caller,
        base: &Activity,
        target: Uuid,
        changes: &[KeyUpdateType],
    ) {
        for change in changes {
            let activity = Activity {
                r#type: Some(ActivityType::OpenapiKeyUpdate),
                target_key_id: Some(target.to_string()),
                key_update_type: Some(change.clone()),
                ..base.clone()
            };
            self.record(caller.org, activity);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_lists_match_addresses_and_networks() {
        let list = vec![
            IpAccessListEntry::new("10.0.0.0/8"),
            IpAccessListEntry::new("2001:db8::1"),
        ];
        assert!(ip_allowed(&list, "10.1.2.3".parse().unwrap()));
        assert!(ip_allowed(&list, "::ffff:10.1.2.3".parse().unwrap()));
        assert!(ip_allowed(&list, "2001:db8::1".parse().unwrap()));
        assert!(!ip_allowed(&list, "2001:db8::2".parse().unwrap()));
        assert!(!ip_allowed(&list, "127.0.0.1".parse().unwrap()));
        assert!(!ip_allowed(&[], "127.0.0.1".parse().unwrap()));
        assert!(ip_allowed(&open_access_list(), "::1".parse().unwrap()));
        assert!(parse_source("300.1.1.1").is_none());
        assert!(parse_source("10.0.0.0/33").is_none());
    }

    #[test]
    fn used_at_is_truncated_to_the_minute() {
        let at: Timestamp = "2026-03-04T05:06:07.891Z".parse().unwrap();
        assert_eq!(to_minute(at).to_rfc3339(), "2026-03-04T05:06:00+00:00");
    }

    #[test]
    fn fixed_window_counts_and_resets() {
        let mut store = Store::new(
            100,
            Some(RateLimit {
                requests: 2,
                window: std::time::Duration::from_secs(10),
            }),
        );
        let key = Uuid::new_v4();
        let now = store.now();
        let first = store.count_request(key, now).unwrap();
        assert_eq!((first.remaining, first.exceeded), (1, false));
        assert!((first.reset - 10.0).abs() < 1e-9);
        let later = now + TimeDelta::milliseconds(6750);
        assert_eq!(store.count_request(key, later).unwrap().remaining, 0);
        let third = store.count_request(key, later).unwrap();
        assert!(third.exceeded);
        assert!((third.reset - 3.25).abs() < 1e-9);
        let next = store
            .count_request(key, now + TimeDelta::seconds(10))
            .unwrap();
        assert_eq!((next.remaining, next.exceeded), (1, false));
    }
}
