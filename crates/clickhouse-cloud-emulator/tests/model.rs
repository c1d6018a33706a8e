//! Roles, keys, members, invitations, whoami, the activity log, pages and
//! example answers, over real loopback HTTP.

mod common;

use std::time::Duration;

use clickhouse_cloud_emulator::{
    EXAMPLE_HEADER, Emulator, Fault, FaultPlan, MemberSpec, RateLimit,
};
use common::Api;
use reqwest::Method;
use serde_json::{Value, json};

fn names(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| item[field].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn system_roles_are_listed_with_stable_ids() {
    let api = Api::start(Emulator::builder()).await;
    let roles = api.ok(Method::GET, &api.at("/roles"), None).await;
    let listed = names(&roles, "name");
    for expected in [
        "Admin",
        "Developer",
        "Billing",
        "Member",
        "Service Admin",
        "Query Endpoints",
    ] {
        assert!(
            listed.iter().any(|name| name == expected),
            "{expected} in {listed:?}"
        );
    }
    assert!(
        roles
            .as_array()
            .unwrap()
            .iter()
            .all(|role| role["type"] == "system")
    );
    let admin = &roles[0];
    assert_eq!(admin["name"], "Admin");
    assert_eq!(
        admin["id"],
        clickhouse_cloud_emulator::ADMIN_ROLE_ID.to_string()
    );
    // The bootstrap key and the owner hold Admin.
    let actors: Vec<&str> = admin["actors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|actor| actor.as_str().unwrap().split('/').next().unwrap())
        .collect();
    assert_eq!(actors, ["apiKey", "user"]);

    // The same IDs in another emulator (another organization).
    let other = Api::start(Emulator::builder()).await;
    assert_eq!(
        other.role_id("Developer").await,
        api.role_id("Developer").await
    );
    let one = api
        .ok(
            Method::GET,
            &api.at(&format!("/roles/{}", api.role_id("Billing").await)),
            None,
        )
        .await;
    assert_eq!(one["name"], "Billing");
    let missing = api
        .call(
            Method::GET,
            &api.at(&format!("/roles/{}", uuid::Uuid::new_v4())),
            None,
        )
        .await;
    assert_eq!(missing.status, 404);
}

/// The console's key flow over raw HTTP: create (with `roles` as given),
/// use the new key, rename, clear the expiry, disable, see it refused,
/// delete, see 404.
async fn key_flow(api: &Api, create: Value, expect_roles: &[&str], can_read: bool) {
    let expiry = (chrono::Utc::now() + chrono::TimeDelta::days(30)).to_rfc3339();
    let mut body = create;
    body["expireAt"] = json!(expiry);
    let (id, credentials, key) = api.create_key(body).await;
    let assigned = names(&key["assignedRoles"], "roleName");
    assert_eq!(assigned, expect_roles);
    let path = api.at(&format!("/keys/{id}"));

    // Use it: it says who it is, and reads what its roles allow.
    let me = api
        .send(Method::GET, "/v1/whoami", Some(&credentials), None)
        .await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.result()["keyId"], id.as_str());
    assert_eq!(
        names(&me.result()["assignedRoles"], "roleName"),
        expect_roles
    );
    let read = api.send(Method::GET, &path, Some(&credentials), None).await;
    assert_eq!(
        read.status,
        if can_read { 200 } else { 403 },
        "{}",
        read.body
    );

    let renamed = api
        .ok(Method::PATCH, &path, Some(json!({"name": "renamed"})))
        .await;
    assert_eq!(renamed["name"], "renamed");
    assert!(renamed["expireAt"].is_string());
    let cleared = api
        .ok(Method::PATCH, &path, Some(json!({"expireAt": null})))
        .await;
    assert!(
        cleared.get("expireAt").is_none_or(Value::is_null),
        "{cleared}"
    );
    let disabled = api
        .ok(Method::PATCH, &path, Some(json!({"state": "disabled"})))
        .await;
    assert_eq!(disabled["state"], "disabled");
    let refused = api
        .send(Method::GET, "/v1/whoami", Some(&credentials), None)
        .await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.error(), "UNAUTHORIZED: Key is not active");
    api.ok(Method::DELETE, &path, None).await;
    let gone = api.call(Method::GET, &path, None).await;
    assert_eq!(gone.status, 404);
    let gone = api
        .send(Method::GET, "/v1/whoami", Some(&credentials), None)
        .await;
    assert_eq!(gone.error(), "UNAUTHORIZED: Key is not found");
}

#[tokio::test]
async fn the_key_flow_with_role_ids_from_the_roles_list() {
    let api = Api::start(Emulator::builder()).await;
    let developer = api.role_id("Developer").await;
    key_flow(
        &api,
        json!({"name": "ci", "assignedRoleIds": [developer]}),
        &["Developer"],
        true,
    )
    .await;
}

#[tokio::test]
async fn the_key_flow_with_deprecated_roles() {
    let api = Api::start(Emulator::builder()).await;
    key_flow(
        &api,
        json!({"name": "ci", "roles": ["developer"]}),
        &["Developer"],
        true,
    )
    .await;
}

#[tokio::test]
async fn the_key_flow_with_a_key_without_roles() {
    let api = Api::start(Emulator::builder()).await;
    key_flow(
        &api,
        json!({"name": "bare", "assignedRoleIds": []}),
        &[],
        false,
    )
    .await;
    key_flow(&api, json!({"name": "bare"}), &[], false).await;
    // The list shows it plainly: empty roles both ways.
    let (id, _, _) = api.create_key(json!({"name": "listed", "roles": []})).await;
    let keys = api.ok(Method::GET, &api.at("/keys"), None).await;
    let key = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["id"] == id.as_str())
        .unwrap();
    assert_eq!(
        (&key["roles"], &key["assignedRoles"]),
        (&json!([]), &json!([]))
    );
}

#[tokio::test]
async fn custom_roles_are_created_assigned_changed_and_deleted() {
    let api = Api::start(Emulator::builder()).await;
    let (key_id, credentials, _) = api.create_key(json!({"name": "auditor"})).await;
    let create = json!({
        "name": "Auditor",
        "actors": [format!("apiKey/{key_id}")],
        "policies": [{"allowDeny": "ALLOW", "permissions": ["control-plane:organization:view"], "resources": ["organization/*"]}],
    });
    let role = api
        .ok(Method::POST, &api.at("/roles"), Some(create.clone()))
        .await;
    assert_eq!(
        (role["type"].as_str(), role["name"].as_str()),
        (Some("custom"), Some("Auditor"))
    );
    assert_eq!(role["actors"], json!([format!("apiKey/{key_id}")]));
    let role_id = role["id"].as_str().unwrap().to_owned();
    assert_eq!(role["policies"][0]["roleId"], role_id.as_str());

    // The key now has the role, and a view-only role lets it read, not write.
    let key = api
        .ok(Method::GET, &api.at(&format!("/keys/{key_id}")), None)
        .await;
    assert_eq!(
        key["assignedRoles"],
        json!([{"roleId": role_id, "roleName": "Auditor", "roleType": "custom"}])
    );
    assert_eq!(key["roles"], json!([]));
    let read = api
        .send(Method::GET, &api.at("/keys"), Some(&credentials), None)
        .await;
    assert_eq!(read.status, 200);
    let write = api
        .send(
            Method::POST,
            &api.at("/keys"),
            Some(&credentials),
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(write.status, 403);

    let duplicate = api
        .call(Method::POST, &api.at("/roles"), Some(create))
        .await;
    assert_eq!(duplicate.status, 409, "{}", duplicate.body);
    let missing_fields = api
        .call(Method::POST, &api.at("/roles"), Some(json!({"name": "x"})))
        .await;
    assert_eq!(missing_fields.error(), "BAD_REQUEST: actors is required");
    let stranger = api
        .call(
            Method::POST,
            &api.at("/roles"),
            Some(json!({"name": "y", "actors": ["apiKey/nope"], "policies": []})),
        )
        .await;
    assert_eq!(stranger.status, 400);

    // Keys take custom roles by ID too.
    let (_, _, other) = api
        .create_key(json!({"name": "other", "assignedRoleIds": [role_id]}))
        .await;
    assert_eq!(names(&other["assignedRoles"], "roleName"), ["Auditor"]);

    let role_path = api.at(&format!("/roles/{role_id}"));
    let patched = api
        .ok(
            Method::PATCH,
            &role_path,
            Some(json!({"name": "Auditors", "actors": []})),
        )
        .await;
    assert_eq!(
        (patched["name"].as_str(), &patched["actors"]),
        (Some("Auditors"), &json!([]))
    );
    let key = api
        .ok(Method::GET, &api.at(&format!("/keys/{key_id}")), None)
        .await;
    assert_eq!(key["assignedRoles"], json!([]));

    let admin_path = api.at(&format!("/roles/{}", api.role_id("Admin").await));
    assert_eq!(
        api.call(Method::DELETE, &admin_path, None).await.status,
        400
    );
    assert_eq!(
        api.call(Method::PATCH, &admin_path, Some(json!({"name": "Boss"})))
            .await
            .status,
        400
    );

    api.ok(Method::DELETE, &role_path, None).await;
    assert_eq!(api.call(Method::GET, &role_path, None).await.status, 404);
    let other_id = other["id"].as_str().unwrap();
    let other = api
        .ok(Method::GET, &api.at(&format!("/keys/{other_id}")), None)
        .await;
    assert_eq!(
        other["assignedRoles"],
        json!([]),
        "deleting a role takes it from its holders"
    );
    let types = api.activity_types().await;
    for expected in ["role_create", "role_update", "role_delete"] {
        assert!(
            types.iter().any(|t| t == expected),
            "{expected} in {types:?}"
        );
    }
}

#[tokio::test]
async fn whoami_answers_from_state() {
    let api = Api::start(Emulator::builder().organization_name("Acme")).await;
    let me = api
        .send(Method::GET, "/v1/whoami", Some(api.admin()), None)
        .await;
    assert_eq!(me.status, 200);
    assert!(me.headers.get(EXAMPLE_HEADER).is_none());
    let result = me.result();
    assert_eq!(result["actorType"], "apiKey");
    assert_eq!(result["name"], "Bootstrap key");
    assert_eq!(result["organizationId"], api.org().to_string());
    assert_eq!(result["organizationName"], "Acme");
    assert_eq!(result["keySuffix"], api.admin().key_id().suffix());
    assert_eq!(result["roles"], json!(["admin"]));
    let keys = api.ok(Method::GET, &api.at("/keys"), None).await;
    assert_eq!(result["keyId"], keys[0]["id"]);
    assert_eq!(
        api.send(Method::GET, "/v1/whoami", None, None).await.status,
        401
    );
}

#[tokio::test]
async fn members_from_the_command_line_can_be_read_changed_and_removed() {
    let builder = Emulator::builder()
        .member("Ada=ada@example.com:admin".parse::<MemberSpec>().unwrap())
        .member("Bob=bob@example.com".parse::<MemberSpec>().unwrap());
    let api = Api::start(builder).await;
    let members = api.emulator.members();
    assert_eq!(members.len(), 3);
    assert_eq!(members[0].email, "owner@example.com");
    assert_eq!(members[0].roles, ["Admin"]);
    let bob = members[2].user_id;
    assert_eq!(members[2].roles, ["Developer"]);

    let listed = api.ok(Method::GET, &api.at("/members"), None).await;
    assert_eq!(
        names(&listed, "email"),
        ["owner@example.com", "ada@example.com", "bob@example.com"]
    );
    let path = api.at(&format!("/members/{bob}"));
    let got = api.ok(Method::GET, &path, None).await;
    assert_eq!(
        (got["name"].as_str(), got["role"].as_str()),
        (Some("Bob"), Some("developer"))
    );

    let billing = api.role_id("Billing").await;
    let updated = api
        .ok(
            Method::PATCH,
            &path,
            Some(json!({"assignedRoleIds": [billing]})),
        )
        .await;
    assert_eq!(names(&updated["assignedRoles"], "roleName"), ["Billing"]);
    let updated = api
        .ok(Method::PATCH, &path, Some(json!({"role": "admin"})))
        .await;
    assert_eq!(updated["role"], "admin");
    let bad = api
        .call(
            Method::PATCH,
            &path,
            Some(json!({"assignedRoleIds": ["nope"]})),
        )
        .await;
    assert_eq!(bad.status, 400);
    let roleless = api
        .call(Method::PATCH, &path, Some(json!({"assignedRoleIds": []})))
        .await;
    assert_eq!(roleless.status, 400, "{}", roleless.body);
    assert!(
        roleless.error().contains("at least one role"),
        "{}",
        roleless.body
    );

    api.ok(Method::DELETE, &path, None).await;
    assert_eq!(api.call(Method::GET, &path, None).await.status, 404);
    assert_eq!(api.call(Method::DELETE, &path, None).await.status, 404);

    // The last Admin stays.
    let owner = api.at(&format!("/members/{}", members[0].user_id));
    let ada = api.at(&format!("/members/{}", members[1].user_id));
    api.ok(Method::DELETE, &ada, None).await;
    let last = api.call(Method::DELETE, &owner, None).await;
    assert_eq!(last.status, 409, "{}", last.body);
    let demote = api
        .call(Method::PATCH, &owner, Some(json!({"role": "developer"})))
        .await;
    assert_eq!(demote.status, 409);
    let types = api.activity_types().await;
    assert_eq!(
        types,
        [
            "organization_member_update_roles",
            "organization_member_update_role",
            "organization_member_delete",
            "organization_member_delete"
        ]
    );
}

#[tokio::test]
async fn invitations_are_created_listed_read_and_deleted() {
    let api = Api::start(Emulator::builder()).await;
    let developer = api.role_id("Developer").await;
    let invitation = api
        .ok(
            Method::POST,
            &api.at("/invitations"),
            Some(json!({"email": "New.Person@Example.com", "assignedRoleIds": [developer]})),
        )
        .await;
    assert_eq!(invitation["email"], "new.person@example.com");
    assert_eq!(
        names(&invitation["assignedRoles"], "roleName"),
        ["Developer"]
    );
    assert!(invitation["expireAt"].as_str() > invitation["createdAt"].as_str());
    let id = invitation["id"].as_str().unwrap();
    let listed = api.ok(Method::GET, &api.at("/invitations"), None).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let path = api.at(&format!("/invitations/{id}"));
    assert_eq!(api.ok(Method::GET, &path, None).await["id"], id);

    for (body, status) in [
        (json!({"email": "new.person@example.com"}), 409),
        (json!({"email": "owner@example.com"}), 409),
        (json!({"email": "not-an-address"}), 400),
        (json!({"role": "admin"}), 400),
    ] {
        let reply = api
            .call(Method::POST, &api.at("/invitations"), Some(body.clone()))
            .await;
        assert_eq!(reply.status, status, "{body}: {}", reply.body);
    }
    let by_role = api
        .ok(
            Method::POST,
            &api.at("/invitations"),
            Some(json!({"email": "a@example.com", "role": "admin"})),
        )
        .await;
    assert_eq!(names(&by_role["assignedRoles"], "roleName"), ["Admin"]);
    // What a client following the current spec sends without choosing a
    // role: no deprecated `role`, an empty `assignedRoleIds`.
    let no_role = api
        .ok(
            Method::POST,
            &api.at("/invitations"),
            Some(json!({"email": "b@example.com", "assignedRoleIds": []})),
        )
        .await;
    assert_eq!(names(&no_role["assignedRoles"], "roleName"), ["Developer"]);
    assert_eq!(no_role["role"], "developer");

    api.ok(Method::DELETE, &path, None).await;
    assert_eq!(api.call(Method::GET, &path, None).await.status, 404);
    assert_eq!(
        api.activity_types().await,
        [
            "organization_invite_create",
            "organization_invite_create",
            "organization_invite_create",
            "organization_invite_delete"
        ]
    );
}

#[tokio::test]
async fn activities_follow_every_change_at_once_and_filter_by_date() {
    let api = Api::start(Emulator::builder()).await;
    let before = chrono::Utc::now() - chrono::TimeDelta::seconds(1);
    let (id, _, _) = api
        .create_key(json!({"name": "k", "roles": ["developer"]}))
        .await;
    let first = api.activity_types().await;
    assert_eq!(first, ["key_create"]);
    let list = api.ok(Method::GET, &api.at("/activities"), None).await;
    let activity = &list[0];
    assert_eq!(activity["targetKeyId"], id.as_str());
    assert_eq!(activity["actorType"], "api");
    assert_eq!(activity["actorDetails"], "Bootstrap key");
    assert_eq!(activity["organizationId"], api.org().to_string());
    let at: chrono::DateTime<chrono::Utc> =
        activity["createdAt"].as_str().unwrap().parse().unwrap();
    assert!(at >= before && at <= chrono::Utc::now());

    api.emulator.advance_clock(Duration::from_secs(3600));
    api.ok(Method::PATCH, &api.at(""), Some(json!({"name": "Later"})))
        .await;
    let later = chrono::Utc::now() + chrono::TimeDelta::minutes(30);
    let query = |from: Option<String>, to: Option<String>| {
        let mut params = Vec::new();
        if let Some(from) = from {
            params.push(format!("from_date={}", from.replace('+', "%2B")));
        }
        if let Some(to) = to {
            params.push(format!("to_date={}", to.replace('+', "%2B")));
        }
        api.at(&format!("/activities?{}", params.join("&")))
    };
    let recent = api
        .ok(Method::GET, &query(Some(later.to_rfc3339()), None), None)
        .await;
    assert_eq!(names(&recent, "type"), ["organization_update_name"]);
    let old = api
        .ok(Method::GET, &query(None, Some(later.to_rfc3339())), None)
        .await;
    assert_eq!(names(&old, "type"), ["key_create"]);
    let both = api
        .ok(
            Method::GET,
            &query(
                Some(before.to_rfc3339()),
                Some((later + chrono::TimeDelta::hours(1)).to_rfc3339()),
            ),
            None,
        )
        .await;
    assert_eq!(both.as_array().unwrap().len(), 2);
    let backwards = api
        .call(
            Method::GET,
            &query(Some(later.to_rfc3339()), Some(before.to_rfc3339())),
            None,
        )
        .await;
    assert_eq!(backwards.status, 400);
    let garbage = api
        .call(
            Method::GET,
            &api.at("/activities?from_date=yesterday"),
            None,
        )
        .await;
    assert_eq!(garbage.status, 400);
}

#[tokio::test]
async fn key_and_organization_lists_page_by_cursor() {
    let api = Api::start(Emulator::builder().key_limit(300)).await;
    for n in 0..259 {
        let body = json!({"name": format!("k{n:03}")});
        let reply = api.call(Method::POST, &api.at("/keys"), Some(body)).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    // 260 keys: the default page holds 250.
    let first = api.call(Method::GET, &api.at("/keys"), None).await;
    assert_eq!(first.body["limit"], 250);
    assert_eq!(first.body["totalCount"], 260);
    assert_eq!(first.result().as_array().unwrap().len(), 250);
    let cursor = first.body["nextCursor"].as_str().unwrap().to_owned();
    let second = api
        .call(
            Method::GET,
            &api.at(&format!("/keys?cursor={cursor}")),
            None,
        )
        .await;
    let rest = names(second.result(), "name");
    assert_eq!(rest.len(), 10);
    assert_eq!(rest.last().map(String::as_str), Some("k258"));
    assert!(second.body["nextCursor"].is_null());
    assert!(second.body.as_object().unwrap().contains_key("nextCursor"));

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cursor) => api.at(&format!("/keys?limit=100&cursor={cursor}")),
            None => api.at("/keys?limit=100"),
        };
        let page = api.call(Method::GET, &path, None).await;
        seen.extend(names(page.result(), "id"));
        match page.body["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 260);
    seen.dedup();
    assert_eq!(seen.len(), 260);
    for bad in ["limit=0", "limit=x", "cursor=bogus"] {
        let reply = api
            .call(Method::GET, &api.at(&format!("/keys?{bad}")), None)
            .await;
        assert_eq!(reply.status, 400, "{bad}");
    }
    let orgs = api
        .call(Method::GET, "/v1/organizations?limit=1", None)
        .await;
    assert_eq!(
        (
            orgs.body["limit"].as_i64(),
            orgs.body["totalCount"].as_i64()
        ),
        (Some(1), Some(1))
    );
    assert!(orgs.body["nextCursor"].is_null());
}

#[tokio::test]
async fn other_operations_answer_examples_through_the_same_pipeline() {
    let api = Api::start(Emulator::builder()).await;
    let reply = api
        .call(Method::GET, &api.at("/creditBalances"), None)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header(EXAMPLE_HEADER), "true");
    assert!(reply.result().is_object());
    let request_id = reply.body["requestId"].as_str().unwrap().to_owned();
    let again = api
        .call(Method::GET, &api.at("/creditBalances"), None)
        .await;
    assert_ne!(again.body["requestId"].as_str().unwrap(), request_id);

    let text = api.call(Method::GET, &api.at("/prometheus"), None).await;
    assert_eq!(text.status, 200);
    assert!(
        text.header("content-type").starts_with("text/plain"),
        "{}",
        text.header("content-type")
    );
    assert_eq!(text.header(EXAMPLE_HEADER), "true");

    // Authentication, the organization check, roles and body decoding apply.
    let anonymous = api
        .send(Method::GET, &api.at("/creditBalances"), None, None)
        .await;
    assert_eq!(anonymous.status, 401);
    let elsewhere = api
        .call(
            Method::GET,
            &format!("/v1/organizations/{}/creditBalances", uuid::Uuid::new_v4()),
            None,
        )
        .await;
    assert_eq!(elsewhere.status, 404);
    let (_, developer, _) = api
        .create_key(json!({"name": "dev", "roles": ["developer"]}))
        .await;
    let refused = api
        .send(
            Method::POST,
            &api.at("/udfs"),
            Some(&developer),
            Some(json!({"name": "f"})),
        )
        .await;
    assert_eq!(refused.status, 403);
    let malformed = api
        .call(
            Method::POST,
            &api.at("/byocInfrastructure"),
            Some(json!(["not", "an", "object"])),
        )
        .await;
    assert_eq!(malformed.status, 400, "{}", malformed.body);
    assert!(malformed.error().starts_with("BAD_REQUEST: "));
    // Under a service: the service must exist.
    let orphan = api
        .call(
            Method::GET,
            &api.at(&format!("/services/{}/backups", uuid::Uuid::new_v4())),
            None,
        )
        .await;
    assert_eq!(orphan.status, 404);
}

#[tokio::test]
async fn rate_limits_and_faults_apply_to_example_routes() {
    let emulator = Emulator::builder()
        .rate_limit(Some(RateLimit {
            requests: 2,
            window: Duration::from_secs(60),
        }))
        .faults(FaultPlan::new().on_operation("creditBalancesGet", 1, Fault::Status(503)))
        .start()
        .await
        .unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let url = format!(
        "{}/v1/organizations/{}/creditBalances",
        emulator.base_url(),
        emulator.organization_id()
    );
    let auth = emulator.bootstrap_credentials().authorization();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let reply = http
            .get(&url)
            .header("authorization", auth.expose())
            .send()
            .await
            .unwrap();
        statuses.push(reply.status().as_u16());
    }
    assert_eq!(statuses, [503, 200, 200, 429]);
    assert_eq!(
        emulator.fault_log()[0].operation_id,
        Some("creditBalancesGet")
    );
}

#[tokio::test]
async fn the_readme_counts_who_answers_what() {
    let api = Api::start(Emulator::builder()).await;
    let answerers = api.emulator.answerers();
    let count = |who: clickhouse_cloud_emulator::Answerer| {
        answerers
            .iter()
            .filter(|(_, answerer)| *answerer == who)
            .count()
    };
    let readme = include_str!("../README.md")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    use clickhouse_cloud_emulator::Answerer::{Example, Stateful, Stored};
    for phrase in [
        format!("the pinned spec's {} operations answers", answerers.len()),
        format!("{} from hand-written models", count(Stateful)),
        format!("{} from the generic store", count(Stored)),
        format!("and {} static catalogues", count(Example)),
    ] {
        assert!(readme.contains(&phrase), "the README should say {phrase:?}");
    }
}
