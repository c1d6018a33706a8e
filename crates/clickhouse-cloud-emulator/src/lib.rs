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
use std::path::{Path, PathBuf};
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
pub use model::udfs::{UDF_ARCHIVE_LIMIT, UdfArchive};
pub use model::world::RateLimit;
pub use routes::Answerer;

use crate::faults::Injector;
use crate::model::activities::Log;
use crate::model::invitations::Invitations;
use crate::model::keys::{KeyRecord, Keys};
use crate::model::members::{MemberRecord, Members};
use crate::model::organizations::Profile;
use crate::model::persist;
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
    /// `None`: random, or the state file's.
    organization_id: Option<Uuid>,
    organization_name: String,
    credentials: Option<Credentials>,
    key_limit: usize,
    rate_limit: Option<RateLimit>,
    extra: Vec<(Uuid, String, Credentials)>,
    faults: FaultPlan,
    speed: f64,
    owner: MemberSpec,
    members: Vec<MemberSpec>,
    state: Option<PathBuf>,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            organization_id: None,
            organization_name: "Emulated organization".to_owned(),
            credentials: None,
            key_limit: 100,
            rate_limit: Some(RateLimit::default()),
            extra: Vec::new(),
            faults: FaultPlan::new(),
            speed: 1.0,
            owner: default_owner(),
            members: Vec::new(),
            state: None,
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
        self.organization_id = Some(id);
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

    /// Keeps the world in the file at `path` between runs: read at
    /// [`start`](Self::start) when it exists, written by
    /// [`RunningEmulator::save`], [`RunningEmulator::close`] and
    /// [`RunningEmulator::shutdown`]. Without it nothing touches the disk.
    ///
    /// A state file holds the organizations with their keys (hashes of
    /// their IDs and secrets, never the secrets), roles, members,
    /// invitations, services, activities and everything the generic store
    /// keeps, except passwords; limits, rate limits, faults and speed come
    /// from this builder each time. When the file exists, its organization
    /// is the main one (the name, owner and members set here are not
    /// used), and the bootstrap key keeps its place but takes the
    /// credentials of this start: those given with
    /// [`bootstrap_credentials`](Self::bootstrap_credentials), or fresh
    /// ones.
    pub fn state(mut self, path: impl Into<PathBuf>) -> Self {
        self.state = Some(path.into());
        self
    }

    /// Binds the address and serves in a background task.
    ///
    /// Fails when the address cannot be bound, (`InvalidInput`) when two
    /// organizations share an ID or a key ID or the organization asked
    /// for is not the state file's, or (`InvalidData`) when the state
    /// file cannot be read or is not one; such a file is left untouched.
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
        let loaded = match &self.state {
            Some(path) => persist::load(path)?,
            None => None,
        };
        let organization_id = match loaded {
            Some(loaded) => {
                let main = loaded.main_organization;
                if let Some(asked) = self.organization_id
                    && asked != main
                {
                    return Err(invalid(format!(
                        "the state file holds organization {main}, not {asked}"
                    )));
                }
                restore(&mut world, loaded).map_err(invalid)?;
                rebind_bootstrap(&mut world, main, &credentials).map_err(invalid)?;
                for (id, name, extra) in &self.extra {
                    if world.orgs.contains_key(id) {
                        rebind_bootstrap(&mut world, *id, extra).map_err(invalid)?;
                    } else {
                        add_organization(&mut world, *id, name.clone(), extra, &[default_owner()])
                            .map_err(invalid)?;
                    }
                }
                main
            }
            None => {
                let id = self.organization_id.unwrap_or_else(Uuid::new_v4);
                let mut members = vec![self.owner.clone().into_admin()];
                members.extend(self.members.iter().cloned());
                add_organization(
                    &mut world,
                    id,
                    self.organization_name,
                    &credentials,
                    &members,
                )
                .map_err(invalid)?;
                for (id, name, extra) in &self.extra {
                    add_organization(&mut world, *id, name.clone(), extra, &[default_owner()])
                        .map_err(invalid)?;
                }
                id
            }
        };
        let shared: Shared = Arc::new(Mutex::new(world));

        let listener = tokio::net::TcpListener::bind(self.listen).await?;
        let local_addr = listener.local_addr()?;
        shared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .address = Some(local_addr);
        let table = Arc::new(Table::new());
        let injector = Arc::new(Injector::new(
            Arc::clone(&table),
            self.faults,
            self.rate_limit,
        ));
        let app = axum::Router::new()
            .route(
                &format!("{}/{{upload}}", model::udfs::UPLOAD_ROUTE),
                axum::routing::any(handlers::udfs::receive),
            )
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
            organization_id,
            state: self.state,
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
        uploads: Default::default(),
        bootstrap_key: Some(key.id),
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

/// Puts a state file's organizations into `world`, every key admitted
/// by its stored hash.
fn restore(world: &mut World, loaded: persist::Loaded) -> Result<(), String> {
    world.clock.set_offset_millis(loaded.clock_offset_ms);
    for org in loaded.organizations {
        let id = org
            .profile
            .info
            .id
            .ok_or("the state file has an organization without an ID")?;
        if world.orgs.contains_key(&id) {
            return Err(format!("the state file has organization {id} twice"));
        }
        for key in org.keys.map.values() {
            if world.gate.knows(&key.id_hash) {
                return Err(format!("the state file has key {} twice", key.id));
            }
            world.gate.admit(key.id_hash.clone(), id, key.id);
        }
        world.orgs.insert(id, org);
    }
    Ok(())
}

/// Gives organization `org`'s bootstrap key the credentials of this
/// start (a new Admin key when it was deleted); nothing to do when they
/// are already a key of the organization.
fn rebind_bootstrap(world: &mut World, org: Uuid, credentials: &Credentials) -> Result<(), String> {
    let now = world.clock.now();
    let fresh = KeyRecord::bootstrap(credentials, now);
    if world.gate.knows(&fresh.id_hash) {
        let ours = world
            .orgs
            .get(&org)
            .is_some_and(|o| o.keys.map.values().any(|key| key.id_hash == fresh.id_hash));
        return if ours {
            Ok(())
        } else {
            Err(format!(
                "key ID {} belongs to another organization",
                credentials.key_id()
            ))
        };
    }
    let Some(state) = world.orgs.get_mut(&org) else {
        return Err(format!("organization {org} is not in the state file"));
    };
    let kept = state.bootstrap_key.and_then(|id| state.keys.get_mut(id));
    match kept {
        Some(key) => {
            let old = std::mem::replace(&mut key.id_hash, fresh.id_hash.clone());
            key.secret_hash = fresh.secret_hash;
            key.key_suffix = fresh.key_suffix;
            world.gate.forget(&old, key.id);
            world.gate.admit(fresh.id_hash, org, key.id);
        }
        None => {
            state.bootstrap_key = Some(fresh.id);
            world.gate.admit(fresh.id_hash.clone(), org, fresh.id);
            state.keys.insert(fresh);
        }
    }
    Ok(())
}

/// A serving emulator. Dropping it stops the server without saving.
pub struct RunningEmulator {
    local_addr: SocketAddr,
    organization_id: Uuid,
    state: Option<PathBuf>,
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

    /// An emulator-only knob, not part of the API: what the URL of UDF
    /// upload `upload_id` (of any organization) received, its size and
    /// SHA-256; `None` before anything was put there, and once the
    /// archive is dropped (a day after the URL expired).
    pub fn udf_archive(&self, upload_id: Uuid) -> Option<UdfArchive> {
        self.lock()
            .orgs
            .values()
            .find_map(|org| org.uploads.archive(upload_id).cloned())
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

    /// Writes the world to the state file given to
    /// [`EmulatorBuilder::state`] (atomically); does nothing without one.
    pub fn save(&self) -> io::Result<()> {
        let Some(path) = &self.state else {
            return Ok(());
        };
        let bytes = persist::encode(&self.lock(), self.organization_id)?;
        persist::write(path, &bytes)
    }

    /// The state file, when there is one.
    pub fn state_path(&self) -> Option<&Path> {
        self.state.as_deref()
    }

    /// Stops accepting connections, waits briefly for open ones, then
    /// writes the state file when there is one, saying whether that worked.
    pub async fn close(mut self) -> io::Result<()> {
        self.stop_serving().await;
        self.save()
    }

    /// Stops accepting connections and waits briefly for open ones, then
    /// writes the state file when there is one; a failure to write it is
    /// printed on standard error ([`close`](Self::close) returns it).
    pub async fn shutdown(self) {
        if let Err(error) = self.close().await {
            eprintln!("clickhouse-cloud-emulator: {error}");
        }
    }

    async fn stop_serving(&mut self) {
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
