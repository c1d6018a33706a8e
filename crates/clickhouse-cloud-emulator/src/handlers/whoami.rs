//! `GET /v1/whoami`: the calling key and its organization, from state.

use clickhouse_cloud_types::ops::WhoamiGet;
use clickhouse_cloud_types::{Whoami, WhoamiApiKey, WhoamiApiKeyActorType};
use serde_json::Value;

use crate::model::access::Access;
use crate::model::access::Context;
use crate::model::error::ApiError;
use crate::model::world::World;
use crate::pipeline::{Answer, Handle};

impl Handle for WhoamiGet {
    /// Any valid key may ask, whatever its roles.
    const ACCESS: Access = Access::Any;

    fn run(
        world: &mut World,
        cx: &Context,
        _: (),
        _: (),
        _: (),
    ) -> Result<Answer<Whoami>, ApiError> {
        let org = world.org(cx.caller.org)?;
        let key = org
            .keys
            .get(cx.caller.key)
            .ok_or_else(ApiError::key_not_found)?;
        let typed = WhoamiApiKey {
            actor_type: Some(WhoamiApiKeyActorType::ApiKey),
            key_id: Some(key.id.to_string()),
            name: Some(key.name.clone()),
            organization_id: Some(cx.caller.org),
        };
        // The key branch, with what a client needs beyond it: the suffix,
        // the roles and the organization's name (the schema is open).
        let mut value = serde_json::to_value(typed).map_err(ApiError::internal)?;
        if let Value::Object(map) = &mut value {
            let mut put = |name: &str, field: Result<Value, serde_json::Error>| {
                if let Ok(field) = field {
                    map.insert(name.to_owned(), field);
                }
            };
            put("keySuffix", Ok(Value::String(key.key_suffix.clone())));
            put("roles", serde_json::to_value(org.roles.legacy(&key.roles)));
            put(
                "assignedRoles",
                serde_json::to_value(org.roles.assigned(&key.roles)),
            );
            put(
                "organizationName",
                Ok(Value::String(org.profile.name().to_owned())),
            );
        }
        Ok(Whoami::Other(value).into())
    }
}
