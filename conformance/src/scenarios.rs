//! The scripted scenarios the recorder runs, and where their cassettes go.
//!
//! Each step makes one call through the real client over a
//! [`RecordingTransport`], scrubs what was recorded and writes it to a
//! stable file name under the output folder. Only those files are written;
//! nothing else in the folder is touched, so hand-written cassettes stay.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{SubsecRound as _, Utc};
use clickhouse_cloud_auth::{Credentials, KeyMaterial};
use clickhouse_cloud_client::types::ops::{ActivityListQuery, OpenapiKeyCreate, OrganizationPath};
use clickhouse_cloud_client::types::{
    ApiKeyPostRequest, LegacyRole, OrganizationPatchRequest, Request,
};
use clickhouse_cloud_client::{Client, CreatedKey, Error, KeyUpdate, NewApiKey, Role};
use clickhouse_cloud_emulator::{Emulator, RateLimit};
use clickhouse_cloud_transport::{NoRetry, RecordingTransport, ReqwestTransport};
use uuid::Uuid;

use crate::scrub::Scrubber;

/// Environment variable naming the organization of a live recording.
pub const ENV_ORG_ID: &str = "CLICKHOUSE_ORG_ID";

/// The organization the emulator is started with, so recordings differ
/// less from run to run.
pub const EMULATED_ORG_ID: Uuid = Uuid::from_u128(0x5e1f_c0de_0c0f_4000_8000_0000_0000_0001);

/// A key UUID no organization has.
pub const UNKNOWN_KEY_ID: Uuid = Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0000_0404);

/// Where the recorder sends its requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// An in-process emulator (and a second one with a small rate limit for
    /// the 429).
    Emulator,
    /// The real service: credentials from the environment, organization
    /// from [`ENV_ORG_ID`], base URL from `CLICKHOUSE_API_URL` when set.
    Live,
}

/// Why recording stopped.
#[derive(Debug)]
pub struct RecordError(pub String);

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RecordError {}

impl From<Error> for RecordError {
    fn from(error: Error) -> Self {
        RecordError(error.to_string())
    }
}

type Recording = RecordingTransport<ReqwestTransport>;

/// A client that records, with what it records into.
struct Recorded {
    client: Client,
    recording: Recording,
}

/// State of one recording run.
struct Session {
    out: PathBuf,
    base_url: Option<String>,
    org: Uuid,
    live: bool,
    scrubber: Scrubber,
    written: Vec<PathBuf>,
    created: Vec<Uuid>,
}

/// Runs every scenario against `target` and writes the cassettes under
/// `out`; returns the files written.
pub async fn record(target: Target, out: &Path) -> Result<Vec<PathBuf>, RecordError> {
    match target {
        Target::Emulator => record_emulator(out).await,
        Target::Live => record_live(out).await,
    }
}

async fn record_emulator(out: &Path) -> Result<Vec<PathBuf>, RecordError> {
    let io = |e: std::io::Error| RecordError(format!("emulator does not start: {e}"));
    let emulator = Emulator::builder()
        .organization_id(EMULATED_ORG_ID)
        .organization_name("Conformance organization")
        .rate_limit(None)
        .start()
        .await
        .map_err(io)?;
    let admin = emulator.bootstrap_credentials().clone();
    let mut session = Session::new(
        out,
        Some(emulator.base_url()),
        EMULATED_ORG_ID,
        false,
        &admin,
    );
    session.everything(&admin).await?;
    emulator.shutdown().await;

    let limited = Emulator::builder()
        .organization_id(EMULATED_ORG_ID)
        .organization_name("Conformance organization")
        .rate_limit(Some(RateLimit {
            requests: 2,
            window: Duration::from_secs(60),
        }))
        .start()
        .await
        .map_err(io)?;
    let limited_admin = limited.bootstrap_credentials().clone();
    session.base_url = Some(limited.base_url());
    session.scrubber.key_id(limited_admin.key_id().as_str());
    session.scrubber.secret(limited_admin.key_secret().expose());
    session.rate_limited(&limited_admin).await?;
    limited.shutdown().await;
    Ok(session.written)
}

async fn record_live(out: &Path) -> Result<Vec<PathBuf>, RecordError> {
    let admin = Credentials::from_env().map_err(|e| RecordError(e.to_string()))?;
    let org =
        std::env::var(ENV_ORG_ID).map_err(|_| RecordError(format!("{ENV_ORG_ID} is not set")))?;
    let org = Uuid::parse_str(org.trim())
        .map_err(|e| RecordError(format!("{ENV_ORG_ID} is not a UUID: {e}")))?;
    let mut session = Session::new(out, None, org, true, &admin);
    let outcome = session.everything(&admin).await;
    session.clean_up(&admin).await;
    outcome?;
    session.rate_limited(&admin).await?;
    Ok(session.written)
}

fn expect_status<T>(
    what: &str,
    expected: u16,
    answer: Result<T, Error>,
) -> Result<(), RecordError> {
    match answer {
        Err(error) if error.status().map(|s| s.as_u16()) == Some(expected) => Ok(()),
        Err(error) => Err(RecordError(format!(
            "{what}: expected HTTP {expected}, got: {error}"
        ))),
        Ok(_) => Err(RecordError(format!(
            "{what}: expected HTTP {expected}, got a success"
        ))),
    }
}

impl Session {
    fn new(
        out: &Path,
        base_url: Option<String>,
        org: Uuid,
        live: bool,
        admin: &Credentials,
    ) -> Self {
        let mut scrubber = Scrubber::new(live);
        scrubber.key_id(admin.key_id().as_str());
        scrubber.secret(admin.key_secret().expose());
        Self {
            out: out.to_owned(),
            base_url,
            org,
            live,
            scrubber,
            written: Vec::new(),
            created: Vec::new(),
        }
    }

    fn client(&self, credentials: &Credentials) -> Result<Recorded, RecordError> {
        let mut builder = ReqwestTransport::builder(credentials.clone());
        if let Some(url) = &self.base_url {
            builder = builder.base_url(url.clone());
        }
        let transport = builder
            .build()
            .map_err(|e| RecordError(format!("transport: {e}")))?;
        let recording = RecordingTransport::new(transport);
        let client = Client::builder()
            .transport(recording.clone())
            .retry_policy(NoRetry)
            .rate_limit(None)
            .build()?;
        Ok(Recorded { client, recording })
    }

    /// Writes the last exchange `recorded` holds to `file`, scrubbed.
    fn save(&mut self, recorded: &Recorded, file: &str) -> Result<(), RecordError> {
        let mut cassette = recorded
            .recording
            .take()
            .pop()
            .ok_or_else(|| RecordError(format!("{file}: nothing was recorded")))?;
        cassette.extra.insert(
            "source".into(),
            (if self.live { "live" } else { "emulator" }).into(),
        );
        self.scrubber.scrub(&mut cassette);
        self.scrubber
            .check(&cassette.to_pretty_json())
            .map_err(|e| RecordError(format!("{file}: {e}; nothing written")))?;
        let path = self.out.join(file);
        cassette
            .save(&path)
            .map_err(|e| RecordError(e.to_string()))?;
        self.written.push(path);
        Ok(())
    }

    /// Runs a call and saves its exchange.
    async fn step<T, F>(
        &mut self,
        recorded: &Recorded,
        file: &str,
        call: F,
    ) -> Result<T, RecordError>
    where
        F: Future<Output = Result<T, Error>>,
    {
        let answer = call
            .await
            .map_err(|e| RecordError(format!("{file}: {e}")))?;
        self.save(recorded, file)?;
        settle().await;
        Ok(answer)
    }

    /// Runs a call expected to fail with `status` and saves its exchange.
    async fn error_step<T, F>(
        &mut self,
        recorded: &Recorded,
        file: &str,
        status: u16,
        call: F,
    ) -> Result<(), RecordError>
    where
        F: Future<Output = Result<T, Error>>,
    {
        expect_status(file, status, call.await)?;
        self.save(recorded, file)?;
        settle().await;
        Ok(())
    }

    fn remember(&mut self, created: &CreatedKey) {
        self.scrubber.key_id(created.credentials.key_id().as_str());
        self.scrubber
            .secret(created.credentials.key_secret().expose());
        if let Some(id) = created.key.id {
            self.created.push(id);
        }
    }

    async fn everything(&mut self, admin_credentials: &Credentials) -> Result<(), RecordError> {
        let admin = self.client(admin_credentials)?;
        let org = self.org;
        let orgs = admin.client.organizations();
        let keys = admin.client.api_keys(org);
        let activities = admin.client.activities(org);

        // Organizations.
        self.step(
            &admin,
            "organizations/organizationGetList.json",
            orgs.list(),
        )
        .await?;
        let current = self
            .step(&admin, "organizations/organizationGet.json", orgs.get(org))
            .await?;
        let name = if self.live {
            // Live: "rename" to the current name, changing nothing.
            current.name.clone()
        } else {
            Some("Conformance organization (renamed)".to_owned())
        };
        let patch = OrganizationPatchRequest {
            name,
            ..OrganizationPatchRequest::default()
        };
        self.step(
            &admin,
            "organizations/organizationUpdate.json",
            orgs.update(org, patch),
        )
        .await?;

        // Keys.
        let developer = self
            .step(
                &admin,
                "keys/openapiKeyCreate.json",
                keys.create(NewApiKey::new("conformance-developer").role(Role::Developer)),
            )
            .await?
            .into_result();
        self.remember(&developer);
        let local = self
            .step(
                &admin,
                "keys/openapiKeyCreate-hashData.json",
                keys.create_with_local_secret(
                    NewApiKey::new("conformance-local-secret").role(Role::Admin),
                ),
            )
            .await?
            .into_result();
        self.remember(&local);
        let developer_id = key_uuid(&developer)?;
        let local_id = key_uuid(&local)?;
        self.step(&admin, "keys/openapiKeyGetList.json", keys.list())
            .await?;
        self.step(&admin, "keys/openapiKeyGet.json", keys.get(developer_id))
            .await?;
        let in_thirty_days = (Utc::now() + chrono::Duration::days(30)).trunc_subsecs(0);
        let update = KeyUpdate::new()
            .name("conformance-developer-renamed")
            .expires_at(in_thirty_days);
        self.step(
            &admin,
            "keys/openapiKeyUpdate.json",
            keys.update(developer_id, update),
        )
        .await?;
        self.step(
            &admin,
            "keys/openapiKeyUpdate-expireAt-null.json",
            keys.update(developer_id, KeyUpdate::new().never_expires()),
        )
        .await?;

        // Errors.
        let blank = ApiKeyPostRequest {
            roles: Some(vec![LegacyRole::Developer]),
            ..ApiKeyPostRequest::new("   ")
        };
        let request = Request::<OpenapiKeyCreate>::new(
            OrganizationPath {
                organization_id: org,
            },
            blank,
        );
        self.error_step(
            &admin,
            "errors/400-blank-name.json",
            400,
            admin.client.send(request),
        )
        .await?;
        let as_developer = self.client(&developer.credentials)?;
        let developer_keys = as_developer.client.api_keys(org);
        let forbidden =
            developer_keys.create(NewApiKey::new("conformance-forbidden").role(Role::Developer));
        self.error_step(
            &as_developer,
            "errors/403-developer-write.json",
            403,
            forbidden,
        )
        .await?;
        self.error_step(
            &admin,
            "errors/404-unknown-key.json",
            404,
            keys.get(UNKNOWN_KEY_ID),
        )
        .await?;
        let as_local = self.client(&local.credentials)?;
        let local_keys = as_local.client.api_keys(org);
        let self_delete = local_keys.delete(local_id);
        self.error_step(&as_local, "errors/409-self-delete.json", 409, self_delete)
            .await?;
        let stranger = self.client(&KeyMaterial::generate().into_credentials())?;
        let stranger_orgs = stranger.client.organizations();
        let unknown_key = stranger_orgs.list();
        self.error_step(&stranger, "errors/401-key-not-found.json", 401, unknown_key)
            .await?;
        keys.disable(local_id).await?;
        admin.recording.take();
        settle().await;
        let inactive = local_keys.list();
        self.error_step(&as_local, "errors/401-key-not-active.json", 401, inactive)
            .await?;

        // Deleting.
        self.step(
            &admin,
            "keys/openapiKeyDelete.json",
            keys.delete(developer_id),
        )
        .await?;
        keys.delete(local_id).await?;
        admin.recording.take();
        settle().await;
        self.created.clear();

        // Activities.
        let all = self
            .step(
                &admin,
                "activities/activityGetList.json",
                activities.list(ActivityListQuery::default()),
            )
            .await?
            .into_result();
        let developer_text = developer_id.to_string();
        let deleted = all
            .iter()
            .find(|a| {
                a.target_key_id.as_deref() == Some(developer_text.as_str())
                    && a.r#type
                        .as_ref()
                        .is_some_and(|t| t.as_str() == "key_delete")
            })
            .or_else(|| all.last());
        let since = ActivityListQuery {
            from_date: deleted.and_then(|a| a.created_at),
            to_date: None,
        };
        self.step(
            &admin,
            "activities/activityGetList-from_date.json",
            activities.list(since),
        )
        .await?;
        let first = all
            .first()
            .and_then(|a| a.id.clone())
            .ok_or_else(|| RecordError("the activity list is empty".into()))?;
        self.step(&admin, "activities/activityGet.json", activities.get(first))
            .await?;
        Ok(())
    }

    /// Calls until the service answers 429 (at most 30 calls) and saves it.
    async fn rate_limited(&mut self, credentials: &Credentials) -> Result<(), RecordError> {
        let recorded = self.client(credentials)?;
        for _ in 0..30 {
            match recorded.client.organizations().list().await {
                Ok(_) => {
                    recorded.recording.take();
                }
                Err(error) if error.status().is_some_and(|s| s.as_u16() == 429) => {
                    return self.save(&recorded, "errors/429-rate-limited.json");
                }
                Err(error) => return Err(RecordError(format!("rate limit scenario: {error}"))),
            }
        }
        Err(RecordError("no 429 after 30 calls".into()))
    }

    /// Live only: deletes keys a failed run left behind (best effort).
    async fn clean_up(&mut self, admin: &Credentials) {
        let Ok(recorded) = self.client(admin) else {
            return;
        };
        for id in std::mem::take(&mut self.created) {
            if let Err(error) = recorded.client.api_keys(self.org).delete(id).await {
                eprintln!("could not delete key {id} created by the recorder: {error}");
            }
        }
    }
}

/// A short pause between calls, so that no two recorded events share a
/// millisecond: lists ordered by time then come out the same every run.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(5)).await;
}

fn key_uuid(created: &CreatedKey) -> Result<Uuid, RecordError> {
    created
        .key
        .id
        .ok_or_else(|| RecordError("a created key has no id".into()))
}
