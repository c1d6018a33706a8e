#![doc = include_str!("../README.md")]

mod faults;
mod handlers;
mod listener;
mod model;
mod pipeline;
mod routes;
pub mod serve;

/// The model's errors, where the fault injector finds them.
pub(crate) use model::error;

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use clickhouse_cloud_auth::{Credentials, KeyMaterial};
use clickhouse_cloud_types::ServiceState;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use uuid::Uuid;

pub use faults::{Fault, FaultPlan, FaultSpecError, InjectedFault};
pub use handlers::examples::EXAMPLE_HEADER;
pub use model::members::{EmulatedMember, MemberSpec, MemberSpecError};
pub use model::roles::{ADMIN_ROLE_ID, DEVELOPER_ROLE_ID, QUERY_ENDPOINTS_ROLE_ID};
pub use model::world::RateLimit;
pub use routes::Answerer;

use crate::faults::Injector;
use crate::model::activities::Log;
use crate::model::invitations::Invitations;
use crate::model::keys::{KeyRecord, Keys};
use crate::model::members::{MemberRecord, Members};
use crate::model::organizations::Profile;
use crate::model::roles::Roles;
use crate::model::services::Services;
use crate::model::world::{Org, Settings, World};
use crate::routes::{Shared, Table};

/// How long [`RunningEmulator::shutdown`] waits for open connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Entry point: `Emulator::builder()...start().await`.
#[derive(Debug)]
pub struct Emulator {
    _private: (),
}

impl Emulator {
    /// A builder with the defaults: `127.0.0.1:0`, a random organization, a
    /// generated admin key, 100 keys, 10 requests per 10 seconds, services
    /// at real speed, the owner as the only member.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }
}

/// Configures an emulator before it starts.
#[derive(Debug, Clone)]
pub struct EmulatorBuilder {
    listen: SocketAddr,
    organization_id: Uuid,
    organization_name: String,
    credentials: Option<Credentials>,
    key_limit: usize,
    rate_limit: Option<RateLimit>,
    extra: Vec<(Uuid, String, Credentials)>,
    faults: FaultPlan,
    speed: f64,
    owner: MemberSpec,
    members: Vec<MemberSpec>,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            organization_id: Uuid::new_v4(),
            organization_name: "Emulated organization".to_owned(),
            credentials: None,
            key_limit: 100,
            rate_limit: Some(RateLimit::default()),
            extra: Vec::new(),
            faults: FaultPlan::new(),
            speed: 1.0,
            owner: default_owner(),
            members: Vec::new(),
        }
    }
}

impl EmulatorBuilder {
    /// Address to listen on; port 0 picks a free port.
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// UUID of the main organization.
    pub fn organization_id(mut self, id: Uuid) -> Self {
        self.organization_id = id;
        self
    }

    /// Name of the main organization.
    pub fn organization_name(mut self, name: impl Into<String>) -> Self {
        self.organization_name = name.into();
        self
    }

    /// Key ID and secret of the main organization's admin key (generated
    /// when not set).
    pub fn bootstrap_credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Most keys one organization may hold, its bootstrap key included.
    pub fn key_limit(mut self, limit: usize) -> Self {
        self.key_limit = limit;
        self
    }

    /// Per-key rate limit; `None` turns rate limiting off.
    pub fn rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.rate_limit = limit;
        self
    }

    /// Adds another organization with its own admin key.
    pub fn extra_organization(
        mut self,
        id: Uuid,
        name: impl Into<String>,
        credentials: Credentials,
    ) -> Self {
        self.extra.push((id, name.into(), credentials));
        self
    }

    /// Faults to inject (none by default); see [`FaultPlan`].
    pub fn faults(mut self, plan: FaultPlan) -> Self {
        self.faults = plan;
        self
    }

    /// How much faster than real time services move between states: `60.0`
    /// makes a minute of provisioning last a second. Any value that is not
    /// a positive number counts as 1.
    pub fn speed(mut self, speed: f64) -> Self {
        self.speed = speed;
        self
    }

    /// The main organization's owner, its first member (an Admin, whatever
    /// role `owner` names). Default: "Emulated Owner", `owner@example.com`.
    pub fn owner(mut self, owner: MemberSpec) -> Self {
        self.owner = owner;
        self
    }

    /// Adds a member to the main organization.
    pub fn member(mut self, member: MemberSpec) -> Self {
        self.members.push(member);
        self
    }

    /// Binds the address and serves in a background task.
    ///
    /// Fails when the address cannot be bound, or (`InvalidInput`) when two
    /// organizations share an ID or a key ID.
    pub async fn start(self) -> io::Result<RunningEmulator> {
        let credentials = self
            .credentials
            .unwrap_or_else(|| KeyMaterial::generate().into_credentials());
        let settings = Settings {
            key_limit: self.key_limit,
            rate_limit: self.rate_limit,
        };
        let mut world = World::new(settings, self.speed);
        let invalid = |message: String| io::Error::new(io::ErrorKind::InvalidInput, message);
        let mut members = vec![self.owner.clone().into_admin()];
        members.extend(self.members.iter().cloned());
        add_organization(
            &mut world,
            self.organization_id,
            self.organization_name,
            &credentials,
            &members,
        )
        .map_err(invalid)?;
        for (id, name, extra) in &self.extra {
            add_organization(&mut world, *id, name.clone(), extra, &[default_owner()])
                .map_err(invalid)?;
        }
        let shared: Shared = Arc::new(Mutex::new(world));

        let listener = tokio::net::TcpListener::bind(self.listen).await?;
        let local_addr = listener.local_addr()?;
        let table = Arc::new(Table::new());
        let injector = Arc::new(Injector::new(
            Arc::clone(&table),
            self.faults,
            self.rate_limit,
        ));
        let app = axum::Router::new()
            .fallback(routes::dispatch)
            .with_state((Arc::clone(&table), Arc::clone(&shared)))
            .layer(axum::middleware::from_fn_with_state(
                Arc::clone(&injector),
                faults::inject,
            ));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(
                listener::EnvelopeListener(listener),
                app.into_make_service_with_connect_info::<listener::Peer>(),
            )
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
        });
        Ok(RunningEmulator {
            local_addr,
            organization_id: self.organization_id,
            credentials,
            world: shared,
            table,
            injector,
            stop: Some(stop),
            task: Some(task),
        })
    }
}

/// The owner the main organization gets unless told otherwise.
fn default_owner() -> MemberSpec {
    MemberSpec::new("Emulated Owner", "owner@example.com", "admin")
        .unwrap_or_else(|_| unreachable!("a valid built-in member"))
}

/// Adds an organization with one enabled admin key for `credentials` and
/// `members` (the first is the owner).
fn add_organization(
    world: &mut World,
    id: Uuid,
    name: String,
    credentials: &Credentials,
    members: &[MemberSpec],
) -> Result<(), String> {
    if world.orgs.contains_key(&id) {
        return Err(format!("organization {id} is configured twice"));
    }
    let now = world.clock.now();
    let key = KeyRecord::bootstrap(credentials, now);
    if world.gate.knows(&key.id_hash) {
        return Err(format!(
            "key ID {} is used by two organizations",
            credentials.key_id()
        ));
    }
    let mut org = Org {
        profile: Profile::new(id, name, now),
        keys: Keys::default(),
        roles: Roles::new(id, now),
        members: Members::default(),
        invitations: Invitations::default(),
        services: Services::default(),
        activities: Log::new(id),
        store: Default::default(),
    };
    for spec in members {
        if org.members.has_email(spec.email()) {
            return Err(format!("two members have the e-mail {}", spec.email()));
        }
        org.members.add(MemberRecord::from_spec(spec, now));
    }
    world.gate.admit(key.id_hash.clone(), id, key.id);
    org.keys.insert(key);
    world.orgs.insert(id, org);
    Ok(())
}

/// A serving emulator. Dropping it stops the server.
pub struct RunningEmulator {
    local_addr: SocketAddr,
    organization_id: Uuid,
    credentials: Credentials,
    world: Shared,
    table: Arc<Table>,
    injector: Arc<Injector>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl RunningEmulator {
    /// `http://HOST:PORT`, the base URL to point a client at.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// UUID of the main organization.
    pub fn organization_id(&self) -> Uuid {
        self.organization_id
    }

    /// The main organization's admin key.
    pub fn bootstrap_credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Moves emulator time forward (it is real time plus the sum of all
    /// advances), e.g. to expire keys without sleeping.
    pub fn advance_clock(&self, by: Duration) {
        self.lock().clock.advance(by);
    }

    /// How many keys organization `org` holds (0 for an unknown one).
    pub fn key_count(&self, org: Uuid) -> usize {
        self.lock().orgs.get(&org).map_or(0, |org| org.keys.len())
    }

    /// How many keys of organization `org` are named `name`: after a create
    /// that may have been retried, 1 means "created exactly once".
    pub fn keys_named(&self, org: Uuid, name: &str) -> usize {
        self.lock().orgs.get(&org).map_or(0, |org| {
            org.keys
                .ordered()
                .iter()
                .filter(|key| key.name == name)
                .count()
        })
    }

    /// The main organization's members, the owner first: their user IDs
    /// are what the member routes take.
    pub fn members(&self) -> Vec<EmulatedMember> {
        let world = self.lock();
        world
            .orgs
            .get(&self.organization_id)
            .map(|org| {
                org.members
                    .iter()
                    .map(|member| member.describe(&org.roles))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Who answers each of the spec's operations, by `operationId`, in the
    /// spec's order.
    pub fn answerers(&self) -> Vec<(&'static str, Answerer)> {
        self.table.answerers()
    }

    /// An emulator-only knob, not part of the API: puts service `service`
    /// of the main organization in `state` at once, for tests that need a
    /// state the API cannot reach on demand (`degraded`, `failed`) or
    /// cannot wait for (`idle`). Only lasting states are accepted
    /// (`running`, `idle`, `stopped`, `degraded`, `failed`); `false` for
    /// another state or an unknown service.
    pub fn force_service_state(&self, service: Uuid, state: ServiceState) -> bool {
        let mut world = self.lock();
        let clock = world.clock.clone();
        world
            .orgs
            .get_mut(&self.organization_id)
            .is_some_and(|org| org.services.force(service, &state, &clock))
    }

    /// Replaces the fault plan. Request numbers, the operation and method
    /// counts, [`requests_received`](Self::requests_received) and the
    /// [`fault_log`](Self::fault_log) start over.
    pub fn set_faults(&self, plan: FaultPlan) {
        self.injector.set_plan(plan);
    }

    /// How many faults were injected since the plan was installed.
    pub fn faults_injected(&self) -> usize {
        self.injector.injected()
    }

    /// Every fault injected since the plan was installed, in order.
    pub fn fault_log(&self) -> Vec<InjectedFault> {
        self.injector.log()
    }

    /// How many requests the server received since the fault plan was
    /// installed (at start, or by [`set_faults`](Self::set_faults)),
    /// faulted ones included: retries show up here.
    pub fn requests_received(&self) -> u64 {
        self.injector.requests()
    }

    /// Stops accepting connections and waits briefly for open ones.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl fmt::Debug for RunningEmulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningEmulator")
            .field("local_addr", &self.local_addr)
            .field("organization_id", &self.organization_id)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}
