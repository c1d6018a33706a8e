//! The routes: every operation of the spec (`ops::visit_all`) on its method
//! and path template, served by the emulator's own handler where it models
//! the operation and from the spec's example otherwise.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use clickhouse_cloud_types::Operation;
use clickhouse_cloud_types::operation::{OperationVisitor, match_path};
use clickhouse_cloud_types::ops::*;
use uuid::Uuid;

use crate::model::error::ApiError;
use crate::model::world::World;
use crate::pipeline::{Handle, error_response};

/// The state every request shares.
pub(crate) type Shared = Arc<Mutex<World>>;

/// Largest request body accepted.
pub(crate) const MAX_BODY: usize = 1 << 20;

/// Serves one request, under the lock.
type ServeFn = fn(&mut World, &Parts, &Bytes, Uuid) -> Response;

/// Who answers an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answerer {
    /// The emulator's model of the resource.
    Stateful,
    /// The generic store: plain collections and singletons, with the
    /// rules of their lifecycles.
    Stored,
    /// The spec's example (marked `x-emulator-example: true`).
    Example,
}

struct Route {
    id: &'static str,
    method: &'static str,
    template: &'static str,
    answerer: Answerer,
    serve: ServeFn,
}

/// The operations the emulator models, by `operationId`.
struct Stateful(HashMap<&'static str, ServeFn>);

impl Stateful {
    fn add<O: Handle>(&mut self) {
        self.0.insert(O::ID, crate::pipeline::serve::<O>);
    }

    fn all() -> Self {
        let mut s = Self(HashMap::new());
        s.add::<WhoamiGet>();
        s.add::<OrganizationGetList>();
        s.add::<OrganizationGet>();
        s.add::<OrganizationUpdate>();
        s.add::<ActivityGetList>();
        s.add::<ActivityGet>();
        s.add::<OpenapiKeyGetList>();
        s.add::<OpenapiKeyCreate>();
        s.add::<OpenapiKeyGet>();
        s.add::<OpenapiKeyUpdate>();
        s.add::<OpenapiKeyDelete>();
        s.add::<OrganizationRolesGetList>();
        s.add::<OrganizationRolePost>();
        s.add::<OrganizationRoleGet>();
        s.add::<OrganizationRolePatch>();
        s.add::<OrganizationRoleDelete>();
        s.add::<MemberGetList>();
        s.add::<MemberGet>();
        s.add::<MemberUpdate>();
        s.add::<MemberDelete>();
        s.add::<InvitationGetList>();
        s.add::<InvitationCreate>();
        s.add::<InvitationGet>();
        s.add::<InvitationDelete>();
        s.add::<InstanceGetList>();
        s.add::<InstanceCreate>();
        s.add::<InstanceGet>();
        s.add::<InstanceUpdate>();
        s.add::<InstanceDelete>();
        s.add::<InstanceStateUpdate>();
        s.add::<InstanceScalingUpdate>();
        s.add::<InstanceReplicaScalingUpdate>();
        s.add::<InstancePasswordUpdate>();
        s.add::<InstancePrivateEndpointCreate>();
        s.add::<BackupGetList>();
        s.add::<BackupGet>();
        s.add::<SnapshotGetList>();
        s.add::<SnapshotGet>();
        s.add::<OrganizationQuotasGetList>();
        s.add::<OrganizationQuotaGet>();
        s.add::<UsageCostGet>();
        s.add::<OrganizationByocInfrastructureProgressGet>();
        s.add::<UdfUploadSessionCreate>();
        s
    }
}

/// Every operation's route.
pub(crate) struct Table {
    routes: Vec<Route>,
}

/// What a method and path lead to.
enum Found<'a> {
    Route(&'a Route),
    WrongMethod,
    Nothing,
}

struct Builder {
    stateful: Stateful,
    routes: Vec<Route>,
}

impl OperationVisitor for Builder {
    fn visit<O: Operation>(&mut self) {
        let (answerer, serve) = match self.stateful.0.remove(O::ID) {
            Some(serve) => (Answerer::Stateful, serve),
            None if crate::model::shapes::table().shape(O::ID).is_some() => (
                Answerer::Stored,
                crate::handlers::generic::serve::<O> as ServeFn,
            ),
            None => (
                Answerer::Example,
                crate::handlers::examples::serve::<O> as ServeFn,
            ),
        };
        self.routes.push(Route {
            id: O::ID,
            method: O::METHOD.as_str(),
            template: O::PATH,
            answerer,
            serve,
        });
    }
}

impl Table {
    pub(crate) fn new() -> Self {
        let mut builder = Builder {
            stateful: Stateful::all(),
            routes: Vec::new(),
        };
        clickhouse_cloud_types::ops::visit_all(&mut builder);
        debug_assert!(
            builder.stateful.0.is_empty(),
            "handlers for operations the spec lacks: {:?}",
            builder.stateful.0.keys()
        );
        Self {
            routes: builder.routes,
        }
    }

    /// The route for a request; the most literal template wins
    /// (`.../clickpipes/context` over `.../clickpipes/{clickPipeId}`).
    fn find(&self, method: &str, path: &str) -> Found<'_> {
        let matching: Vec<(usize, &Route)> = self
            .routes
            .iter()
            .filter_map(|route| Some((match_path(route.template, path)?.len(), route)))
            .collect();
        if matching.is_empty() {
            return Found::Nothing;
        }
        matching
            .into_iter()
            .filter(|(_, route)| route.method == method)
            .min_by_key(|(params, _)| *params)
            .map_or(Found::WrongMethod, |(_, route)| Found::Route(route))
    }

    /// The `operationId` of a request, if it is an operation's.
    pub(crate) fn operation_id(&self, method: &str, path: &str) -> Option<&'static str> {
        match self.find(method, path) {
            Found::Route(route) => Some(route.id),
            _ => None,
        }
    }

    /// Who answers each operation, by `operationId`.
    pub(crate) fn answerers(&self) -> Vec<(&'static str, Answerer)> {
        self.routes
            .iter()
            .map(|route| (route.id, route.answerer))
            .collect()
    }
}

/// Whether every segment of `path` names something: none is empty (no
/// `//`, no trailing `/`) or `.` or `..`, written plainly or
/// percent-encoded (`%2e`). Such paths are not routed to the parent.
fn plain_segments(path: &str) -> bool {
    let Some(rest) = path.strip_prefix('/') else {
        return false;
    };
    rest.split('/').all(|segment| {
        let decoded = segment.replace("%2e", ".").replace("%2E", ".");
        !segment.is_empty() && decoded != "." && decoded != ".."
    })
}

/// The server's only handler: finds the route and serves it.
pub(crate) async fn dispatch(
    State((table, shared)): State<(Arc<Table>, Shared)>,
    request: Request,
) -> Response {
    let request_id = Uuid::new_v4();
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    if !plain_segments(&path) {
        let error = ApiError::not_found(format_args!(
            "no route for {} {path}: empty, `.` and `..` segments name nothing",
            parts.method
        ));
        return error_response(request_id, &error, None);
    }
    let route = match table.find(parts.method.as_str(), &path) {
        Found::Route(route) => route,
        Found::WrongMethod => {
            let error = ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                format_args!("method {} is not allowed on {path}", parts.method),
            );
            return error_response(request_id, &error, None);
        }
        Found::Nothing => {
            let error = ApiError::not_found(format_args!("no route for {} {path}", parts.method));
            return error_response(request_id, &error, None);
        }
    };
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        let error = ApiError::bad_request("request body is unreadable or larger than 1 MiB");
        return error_response(request_id, &error, None);
    };
    let mut world = shared.lock().unwrap_or_else(PoisonError::into_inner);
    (route.serve)(&mut world, &parts, &body, request_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_has_a_route_and_literal_templates_win() {
        let table = Table::new();
        assert_eq!(
            table.routes.len(),
            clickhouse_cloud_types::ops::ALL_IDS.len()
        );
        let org = Uuid::new_v4();
        let service = Uuid::new_v4();
        let keys = format!("/v1/organizations/{org}/keys");
        assert_eq!(table.operation_id("POST", &keys), Some("openapiKeyCreate"));
        assert_eq!(table.operation_id("GET", &keys), Some("openapiKeyGetList"));
        let context = format!("/v1/organizations/{org}/services/{service}/clickpipes/context");
        assert_eq!(
            table.operation_id("GET", &context),
            Some("clickPipesServiceContextGet")
        );
        assert!(matches!(table.find("PUT", &keys), Found::WrongMethod));
        assert!(matches!(table.find("GET", "/nowhere"), Found::Nothing));
        assert!(plain_segments(&keys));
        for odd in [
            "",
            "/",
            "/v1//organizations",
            "/v1/x/",
            "/v1/./x",
            "/v1/../x",
            "/v1/%2e%2E",
            "/v1/%2E",
        ] {
            assert!(!plain_segments(odd), "{odd}");
        }
        assert!(plain_segments("/v1/a.b/..c"));
        let stateful = table
            .answerers()
            .iter()
            .filter(|(_, answerer)| *answerer == Answerer::Stateful)
            .count();
        assert_eq!(stateful, Stateful::all().0.len());
    }
}
