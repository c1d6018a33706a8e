//! Who is calling: HTTP Basic against stored hashes, key state and expiry,
//! the key's IP access list, and the per-key fixed rate-limit window.

use std::collections::HashMap;
use std::net::IpAddr;
use std::str::FromStr;

use chrono::{DateTime, TimeDelta, Utc};
use clickhouse_cloud_auth::{AuthorizationHeader, sha256_base64, usable_at};
use clickhouse_cloud_types::{IpAccessListEntry, Timestamp};
use ipnet::IpNet;
use subtle::ConstantTimeEq as _;
use uuid::Uuid;

use crate::model::access::Caller;
use crate::model::error::ApiError;
use crate::model::world::RateLimit;
use crate::model::world::World;

/// The key index and the rate-limit windows of every key.
pub(crate) struct Gate {
    /// `sha256_base64(key ID)` to (organization, key UUID).
    index: HashMap<String, (Uuid, Uuid)>,
    windows: HashMap<Uuid, Window>,
    rate_limit: Option<RateLimit>,
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

/// Checks every entry of an access list has a valid source.
pub(crate) fn check_ip_list(
    field: &str,
    list: Vec<IpAccessListEntry>,
) -> Result<Vec<IpAccessListEntry>, ApiError> {
    for entry in &list {
        let source = entry.source.as_deref().ok_or_else(|| {
            ApiError::bad_request(format_args!("{field}: every entry needs a source"))
        })?;
        if parse_source(source).is_none() {
            return Err(ApiError::bad_request(format_args!(
                "{field}: {source:?} is not an IP address or CIDR"
            )));
        }
    }
    Ok(list)
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

impl Gate {
    pub(crate) fn new(rate_limit: Option<RateLimit>) -> Self {
        Self {
            index: HashMap::new(),
            windows: HashMap::new(),
            rate_limit,
        }
    }

    /// Whether a key ID hash already belongs to a key.
    pub(crate) fn knows(&self, id_hash: &str) -> bool {
        self.index.contains_key(id_hash)
    }

    pub(crate) fn admit(&mut self, id_hash: String, org: Uuid, key: Uuid) {
        self.index.insert(id_hash, (org, key));
    }

    pub(crate) fn forget(&mut self, id_hash: &str, key: Uuid) {
        self.index.remove(id_hash);
        self.windows.remove(&key);
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
}

/// Identifies the key behind an `Authorization` header, counts the request
/// against its rate limit and checks the peer address. The rate
/// information is there whenever a usable key was identified.
pub(crate) fn authenticate(
    world: &mut World,
    authorization: Option<&str>,
    peer: IpAddr,
) -> (Result<Caller, ApiError>, Option<RateInfo>) {
    let now = world.clock.now();
    let Some(credentials) = authorization.and_then(AuthorizationHeader::parse) else {
        return (Err(ApiError::key_not_found()), None);
    };
    let id_hash = sha256_base64(credentials.key_id().as_str());
    let Some(&(org_id, key_id)) = world.gate.index.get(&id_hash) else {
        return (Err(ApiError::key_not_found()), None);
    };
    let Some(org) = world.orgs.get(&org_id) else {
        return (Err(ApiError::key_not_found()), None);
    };
    let Some(key) = org.keys.get(key_id) else {
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
        org: org_id,
        key: key_id,
        key_name: key.name.clone(),
        grade: org.roles.grade(&key.roles),
    };
    let allowed = ip_allowed(&key.ip_access_list, peer);
    let rate = world.gate.count_request(key_id, now);
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
    if let Some(key) = world
        .orgs
        .get_mut(&org_id)
        .and_then(|org| org.keys.get_mut(key_id))
    {
        key.used_at = Some(to_minute(now));
    }
    (Ok(caller), rate)
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
        let mut gate = Gate::new(Some(RateLimit {
            requests: 2,
            window: std::time::Duration::from_secs(10),
        }));
        let key = Uuid::new_v4();
        let now = crate::model::clock::Clock::new(1.0).now();
        let first = gate.count_request(key, now).unwrap();
        assert_eq!((first.remaining, first.exceeded), (1, false));
        assert!((first.reset - 10.0).abs() < 1e-9);
        let later = now + TimeDelta::milliseconds(6750);
        assert_eq!(gate.count_request(key, later).unwrap().remaining, 0);
        let third = gate.count_request(key, later).unwrap();
        assert!(third.exceeded);
        assert!((third.reset - 3.25).abs() < 1e-9);
        let next = gate
            .count_request(key, now + TimeDelta::seconds(10))
            .unwrap();
        assert_eq!((next.remaining, next.exceeded), (1, false));
    }
}
