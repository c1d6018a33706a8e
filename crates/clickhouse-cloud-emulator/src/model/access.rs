//! Who is calling and what they may do: the identified key, the grade its
//! roles give it, what an operation needs, and the context every rule gets
//! (the caller, their address and user agent, and the time).

use std::net::IpAddr;

use clickhouse_cloud_types::{Activity, ActivityType, Timestamp};
use uuid::Uuid;

use crate::model::error::ApiError;

/// What a key may do: its strongest role decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Grade {
    /// Nothing but asking who it is.
    None,
    /// GET requests (and waking a service).
    Read,
    /// Everything.
    Full,
}

/// What an operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Any valid key (`whoami`).
    Any,
    Read,
    Write,
}

impl Grade {
    pub(crate) fn allows(self, access: Access) -> bool {
        match access {
            Access::Any => true,
            Access::Read => self >= Grade::Read,
            Access::Write => self == Grade::Full,
        }
    }
}

/// The identified key behind a request.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) org: Uuid,
    pub(crate) key: Uuid,
    pub(crate) key_name: String,
    pub(crate) grade: Grade,
}

/// Who is calling, from where, and when.
pub(crate) struct Context {
    pub(crate) caller: Caller,
    pub(crate) peer: IpAddr,
    pub(crate) user_agent: Option<String>,
    /// The authority the request was sent to (its `Host` header), for
    /// URLs that point back at the emulator.
    pub(crate) host: Option<String>,
    pub(crate) now: Timestamp,
}

impl Context {
    /// An activity of type `kind` attributed to the calling key, now.
    pub(crate) fn activity(&self, kind: ActivityType) -> Activity {
        Activity {
            r#type: Some(kind),
            created_at: Some(self.now),
            actor_id: Some(self.caller.key.to_string()),
            actor_details: Some(self.caller.key_name.clone()),
            actor_ip_address: Some(self.peer.to_string()),
            user_agent: self.user_agent.clone(),
            ..Activity::default()
        }
    }

    /// Refuses the call unless the caller's roles allow `access`.
    pub(crate) fn require(&self, access: Access, operation: &str) -> Result<(), ApiError> {
        if self.caller.grade.allows(access) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format_args!(
                "the key's roles do not permit {operation}"
            )))
        }
    }
}
