//! The response bodies the benchmarks decode, built here from our types.
//!
//! Every field the service documents is set, with realistic sizes and
//! values, and no string needs a JSON escape, so that the zero-copy structs
//! of [`crate::borrowed`] can borrow every one of them.
//!
//! [`service_list`] builds its objects as `serde_json::Value`s following the
//! spec's `Service` schema, so that no type of ours shapes the bytes every
//! contender reads.

use chrono::{Duration, TimeZone, Utc};
use clickhouse_cloud_types::{
    Activity, ActivityType, ActorType, ApiKey, ApiKeyState, AssignedRole, Envelope,
    IpAccessListEntry, KeyUpdateType, LegacyRole, RoleType, Timestamp,
};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

/// A deterministic UUID for item `i` of stream `salt`.
pub fn uuid(salt: u64, i: u64) -> Uuid {
    let high = salt.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i.rotate_left(17);
    let low = i.wrapping_mul(0xBF58_476D_1CE4_E5B9) ^ salt;
    // Version 4, RFC 4122 variant, like the service's IDs.
    let mut bytes = (u128::from(high) << 64 | u128::from(low)).to_be_bytes();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Uuid::from_bytes(bytes)
}

fn base_time() -> Timestamp {
    Timestamp(
        Utc.with_ymd_and_hms(2025, 3, 14, 9, 26, 53)
            .single()
            .unwrap_or_default(),
    )
}

/// `{"status":200,"requestId":...,"result":[...]}` around `items`.
pub fn envelope<T: Serialize>(items: Vec<T>) -> Vec<u8> {
    let envelope = Envelope {
        status: Some(200),
        request_id: Some(uuid(0, 0).to_string()),
        result: Some(items),
        limit: None,
        total_count: None,
        next_cursor: None,
    };
    serde_json::to_vec(&envelope).unwrap_or_default()
}

/// Page `page` (from 0) of `pages` of a key list, `per_page` keys each;
/// every page but the last names the next one's cursor (`p1`, `p2`, ...).
pub fn key_page(page: u64, pages: u64, per_page: u64) -> Vec<u8> {
    let first = page * per_page;
    let envelope = Envelope {
        status: Some(200),
        request_id: Some(uuid(0, page).to_string()),
        result: Some((first..first + per_page).map(api_key).collect::<Vec<_>>()),
        limit: Some(per_page as i64),
        total_count: Some((pages * per_page) as i64),
        next_cursor: (page + 1 < pages).then(|| format!("p{}", page + 1)),
    };
    serde_json::to_vec(&envelope).unwrap_or_default()
}

/// One API key as the service lists it, every field set.
pub fn api_key(i: u64) -> ApiKey {
    let created = base_time() + Duration::minutes(i as i64 * 7);
    let roles = [
        (LegacyRole::Admin, "Admin"),
        (LegacyRole::Developer, "Developer"),
        (LegacyRole::QueryEndpoints, "Query endpoints"),
    ];
    let (role, role_name) = roles[(i % 3) as usize].clone();
    ApiKey {
        id: Some(uuid(1, i)),
        name: Some(format!("ci-deploy-key-{i:05}")),
        state: Some(if i.is_multiple_of(5) {
            ApiKeyState::Disabled
        } else {
            ApiKeyState::Enabled
        }),
        roles: Some(vec![role]),
        assigned_roles: Some(vec![AssignedRole {
            role_id: Some(uuid(2, i % 3)),
            role_name: Some(role_name.to_owned()),
            role_type: Some(RoleType::System),
        }]),
        key_suffix: Some(format!("{:04X}", (i * 2654435761) % 0xFFFF)),
        created_at: Some(created),
        expire_at: if i.is_multiple_of(4) {
            None
        } else {
            Some(created + Duration::days(365))
        },
        used_at: Some(created + Duration::hours(30)),
        ip_access_list: Some(vec![
            IpAccessListEntry {
                source: Some(format!("203.0.113.{}/32", i % 250)),
                description: Some("office VPN egress".to_owned()),
            },
            IpAccessListEntry {
                source: Some(format!("198.51.100.{}/32", (i * 7) % 250)),
                description: Some("CI runners".to_owned()),
            },
        ]),
    }
}

/// The keys list response with `count` keys.
pub fn key_list(count: u64) -> Vec<u8> {
    envelope((0..count).map(api_key).collect())
}

/// One audit-log entry, every field set.
pub fn activity(i: u64) -> Activity {
    let kinds = [
        (
            ActivityType::from("openapi_key_update"),
            Some(KeyUpdateType::StateChanged),
        ),
        (
            ActivityType::from("openapi_key_create"),
            Some(KeyUpdateType::Created),
        ),
        (ActivityType::ServiceUpdateBackupConfiguration, None),
        (ActivityType::OrganizationMemberJoin, None),
    ];
    let (kind, key_update) = kinds[(i % 4) as usize].clone();
    let actors = [ActorType::Api, ActorType::User, ActorType::System];
    Activity {
        id: Some(format!("act_{i:08}")),
        created_at: Some(base_time() + Duration::seconds(i as i64 * 13)),
        r#type: Some(kind),
        actor_type: Some(actors[(i % 3) as usize].clone()),
        actor_id: Some(format!("ABCD1234EFGH{:04}", i % 97)),
        actor_details: Some(format!("ci-deploy-key-{:05}", i % 97)),
        actor_ip_address: Some(format!("203.0.113.{}", i % 250)),
        organization_id: Some(uuid(3, 0).to_string()),
        service_id: Some(uuid(4, i % 20).to_string()),
        user_agent: Some("clickhouse-cloud-client/0.1.0 reqwest/0.12".to_owned()),
        target_key_id: key_update.as_ref().map(|_| uuid(1, i % 97).to_string()),
        key_update_type: key_update,
        ..Activity::default()
    }
}

/// The activities list response with `count` entries.
pub fn activity_list(count: u64) -> Vec<u8> {
    envelope((0..count).map(activity).collect())
}

/// One service, following the spec's `Service` schema, built as JSON.
pub fn service(i: u64) -> serde_json::Value {
    let id = uuid(5, i);
    let host = format!(
        "{}.us-east-1.aws.clickhouse.cloud",
        &id.simple().to_string()[..10]
    );
    let created = base_time() + Duration::hours(i as i64);
    json!({
        "id": id,
        "name": format!("analytics-{i:04}"),
        "provider": "aws",
        "region": "us-east-1",
        "state": if i.is_multiple_of(7) { "idle" } else { "running" },
        "clickhouseVersion": "25.8.1.8702",
        "endpoints": [
            { "protocol": "nativesecure", "host": host, "port": 9440, "username": "default" },
            { "protocol": "https", "host": host, "port": 8443, "username": "default" },
            { "protocol": "mysql", "host": host, "port": 3306, "username": format!("mysql4{i}") },
        ],
        "minReplicaMemoryGb": 8,
        "maxReplicaMemoryGb": 120,
        "numReplicas": 3,
        "idleScaling": true,
        "idleTimeoutMinutes": 15,
        "ipAccessList": [
            { "source": format!("203.0.113.{}/32", i % 250), "description": "office VPN egress" },
            { "source": "0.0.0.0/0", "description": "anywhere" },
        ],
        "createdAt": created,
        "encryptionKey": "",
        "encryptionAssumedRoleIdentifier": "",
        "iamRole": format!("arn:aws:iam::123456789012:role/CH-S3-{i:04}-Role"),
        "privateEndpointIds": [],
        "availablePrivateEndpointIds": [],
        "dataWarehouseId": uuid(6, i / 4),
        "isPrimary": i.is_multiple_of(4),
        "isReadonly": false,
        "releaseChannel": "default",
        "byocId": "",
        "hasTransparentDataEncryption": false,
        "transparentDataEncryptionKeyId": "",
        "encryptionRoleId": "",
        "profile": "v1-default",
        "complianceType": "hipaa",
        "tags": [ { "key": "team", "value": "data" }, { "key": "env", "value": "prod" } ],
        "enableCoreDumps": false,
        "minReplicas": 2,
        "maxReplicas": 6,
    })
}

/// The services list response with `count` services.
pub fn service_list(count: u64) -> Vec<u8> {
    envelope((0..count).map(service).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::borrowed;

    fn bodies() -> [(&'static str, Vec<u8>, usize); 3] {
        [
            ("keys", key_list(50), 50),
            ("activities", activity_list(50), 50),
            ("services", service_list(20), 20),
        ]
    }

    #[test]
    fn bodies_need_no_escapes_and_zero_copy_decodes_them() {
        for (name, body, _) in bodies() {
            assert!(!body.contains(&b'\\'), "{name} has an escape");
        }
        let keys = key_list(50);
        let decoded: borrowed::Envelope<borrowed::ApiKey<'_>> =
            serde_json::from_slice(&keys).unwrap();
        assert_eq!(decoded.result.unwrap().len(), 50);
        let activities = activity_list(50);
        let decoded: borrowed::Envelope<borrowed::Activity<'_>> =
            serde_json::from_slice(&activities).unwrap();
        assert_eq!(decoded.result.unwrap().len(), 50);
        let services = service_list(20);
        let decoded: borrowed::Envelope<borrowed::Service<'_>> =
            serde_json::from_slice(&services).unwrap();
        assert_eq!(
            decoded.result.unwrap()[3].endpoints.as_ref().unwrap().len(),
            3
        );
    }

    #[test]
    fn our_types_decode_back_what_they_wrote() {
        let keys: Envelope<Vec<ApiKey>> = serde_json::from_slice(&key_list(10)).unwrap();
        assert_eq!(keys.result.unwrap()[7], api_key(7));
        let activities: Envelope<Vec<Activity>> =
            serde_json::from_slice(&activity_list(10)).unwrap();
        assert_eq!(activities.result.unwrap()[5], activity(5));
    }

    #[test]
    fn sizes_are_realistic() {
        // About 400 bytes a key, as the probe measured.
        let per_key = key_list(1000).len() / 1000;
        assert!((300..600).contains(&per_key), "{per_key}");
    }

    #[cfg(feature = "official")]
    #[test]
    fn the_official_types_decode_every_body() {
        use clickhouse_cloud_api::models as official;
        let keys: official::ApiResponse<Vec<official::ApiKey>> =
            serde_json::from_slice(&key_list(10)).unwrap();
        let key = &keys.result.unwrap()[1];
        assert_eq!(key.id, api_key(1).id);
        assert!(key.expire_at.is_some() && key.ip_access_list.is_some());
        let activities: official::ApiResponse<Vec<official::Activity>> =
            serde_json::from_slice(&activity_list(10)).unwrap();
        assert_eq!(activities.result.unwrap().len(), 10);
        let services: official::ApiResponse<Vec<official::Service>> =
            serde_json::from_slice(&service_list(10)).unwrap();
        let services = services.result.unwrap();
        assert_eq!(services[2].endpoints.as_ref().unwrap().len(), 3);
        assert!(services[2].created_at.is_some() && services[2].id.is_some());
    }
}
