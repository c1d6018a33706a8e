//! Waits for Postgres services, ClickPipes, reverse private endpoints, UDF
//! builds and UDF attachments.

use std::time::Duration;

#[cfg(feature = "clickpipes")]
use clickhouse_cloud_types::{
    ClickPipe, ClickPipeState, ReversePrivateEndpoint, ReversePrivateEndpointStatus,
};
#[cfg(feature = "postgres")]
use clickhouse_cloud_types::{PgStateProperty, PostgresService};
#[cfg(feature = "udfs")]
use clickhouse_cloud_types::{Udf, UdfAttachment, UdfAttachmentStatus, UdfStatus};
use uuid::Uuid;

#[cfg(feature = "clickpipes")]
use crate::ClickPipes;
#[cfg(feature = "postgres")]
use crate::Postgres;
#[cfg(feature = "udfs")]
use crate::Udfs;
use crate::wait::{Check, Verdict, Wait};
use crate::{Error, Response};

#[cfg(feature = "postgres")]
/// Default budget for a Postgres service to run (creating, restarting).
pub const POSTGRES_BUDGET: Duration = Duration::from_secs(30 * 60);
/// Default budget for a Postgres restore (restoring a backup, replaying
/// the WAL): they take hours on large databases.
#[cfg(feature = "postgres")]
pub const POSTGRES_RESTORE_BUDGET: Duration = Duration::from_secs(3 * 3600);
/// Default budget for a ClickPipe, or a reverse private endpoint, to reach
/// a state.
#[cfg(feature = "clickpipes")]
pub const CLICKPIPE_BUDGET: Duration = Duration::from_secs(30 * 60);
/// Default budget for a UDF to be attached to, or detached from, a
/// service.
#[cfg(feature = "udfs")]
pub const UDF_ATTACHMENT_BUDGET: Duration = Duration::from_secs(15 * 60);
/// Default budget for a UDF version to build (its dependencies installed).
#[cfg(feature = "udfs")]
pub const UDF_BUILD_BUDGET: Duration = Duration::from_secs(30 * 60);

fn is_not_found(error: &Error) -> bool {
    error.status().is_some_and(|s| s.as_u16() == 404)
}

/// A poll's answer as a check of a resource that should exist: `state_of`
/// names its state, `verdict_of` judges it; a `404` ends the wait.
fn check_present<T: Clone>(
    answer: Result<Response<T>, Error>,
    state_of: impl Fn(&T) -> Option<String>,
    verdict_of: impl Fn(&T) -> Verdict<()>,
) -> Result<Check<T>, Error> {
    let value = answer?.into_result();
    let verdict = match verdict_of(&value) {
        Verdict::Reached(()) => Verdict::Reached(value.clone()),
        Verdict::Pending => Verdict::Pending,
        Verdict::Failed => Verdict::Failed,
    };
    Ok(Check::new(state_of(&value), verdict))
}

/// A poll's answer as a check of a resource that should go: a `404` is
/// what was waited for.
fn check_gone<T>(
    answer: Result<Response<T>, Error>,
    state_of: impl Fn(&T) -> Option<String>,
) -> Result<Check<()>, Error> {
    match answer {
        Ok(response) => Ok(Check::new(state_of(&response), Verdict::Pending)),
        Err(error) if is_not_found(&error) => Ok(Check::new(None, Verdict::Reached(()))),
        Err(error) => Err(error),
    }
}

#[cfg(feature = "postgres")]
impl Postgres {
    /// Waits until the Postgres service is in `state` (`running` after a
    /// create, restart or restore). Default budget [`POSTGRES_BUDGET`]
    /// ([`POSTGRES_RESTORE_BUDGET`] is the one for a restore). `deleting`
    /// ends the wait at once, as does a `404`.
    ///
    /// ```no_run
    /// use clickhouse_cloud_client::types::PgStateProperty;
    /// # async fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid, id: uuid::Uuid) -> Result<(), clickhouse_cloud_client::Error> {
    /// let pg = client.postgres(org).wait_until(id, PgStateProperty::Running).await?;
    /// println!("{:?}", pg.state);
    /// # Ok(()) }
    /// ```
    pub fn wait_until(&self, postgres_id: Uuid, state: PgStateProperty) -> Wait<PostgresService> {
        let area = self.clone();
        let target = state.as_str().to_owned();
        Wait::polling(
            "Postgres service",
            postgres_id,
            target,
            POSTGRES_BUDGET,
            move || {
                let area = area.clone();
                let wanted = state.clone();
                Box::pin(async move {
                    let answer = area.postgres_service_get(postgres_id).await;
                    check_present(
                        answer,
                        |pg: &PostgresService| pg.state.as_ref().map(|s| s.as_str().to_owned()),
                        |pg| match &pg.state {
                            Some(s) if *s == wanted => Verdict::Reached(()),
                            Some(PgStateProperty::Deleting) => Verdict::Failed,
                            _ => Verdict::Pending,
                        },
                    )
                })
            },
        )
    }

    /// Waits until the Postgres service is gone (`404`).
    ///
    /// ```no_run
    /// # async fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid, id: uuid::Uuid) -> Result<(), clickhouse_cloud_client::Error> {
    /// let pg = client.postgres(org);
    /// pg.postgres_service_delete(id).await?;
    /// pg.wait_until_gone(id).await?;
    /// # Ok(()) }
    /// ```
    pub fn wait_until_gone(&self, postgres_id: Uuid) -> Wait<()> {
        let area = self.clone();
        Wait::polling(
            "Postgres service",
            postgres_id,
            "gone",
            POSTGRES_BUDGET,
            move || {
                let area = area.clone();
                Box::pin(async move {
                    let answer = area.postgres_service_get(postgres_id).await;
                    check_gone(answer, |pg: &PostgresService| {
                        pg.state.as_ref().map(|s| s.as_str().to_owned())
                    })
                })
            },
        )
    }
}

/// Whether a ClickPipe state is the one wanted, on the way, or a dead end.
#[cfg(feature = "clickpipes")]
fn pipe_verdict(state: &ClickPipeState, wanted: &ClickPipeState) -> Verdict<()> {
    let reached = state == wanted
        // An object-storage pipe that ran to the end has done what running means.
        || (*wanted == ClickPipeState::Running && *state == ClickPipeState::Completed)
        // A database pipe pauses where a streaming one stops.
        || (*wanted == ClickPipeState::Stopped && *state == ClickPipeState::Paused);
    match state {
        _ if reached => Verdict::Reached(()),
        ClickPipeState::Failed | ClickPipeState::InternalError => Verdict::Failed,
        _ => Verdict::Pending,
    }
}

#[cfg(feature = "clickpipes")]
fn endpoint_verdict(status: &ReversePrivateEndpointStatus) -> Verdict<()> {
    match status {
        ReversePrivateEndpointStatus::Ready => Verdict::Reached(()),
        ReversePrivateEndpointStatus::Failed
        | ReversePrivateEndpointStatus::Rejected
        | ReversePrivateEndpointStatus::Expired
        | ReversePrivateEndpointStatus::Deleting => Verdict::Failed,
        _ => Verdict::Pending,
    }
}

#[cfg(feature = "clickpipes")]
impl ClickPipes {
    /// Waits until the ClickPipe is in `state` (`Running`, which a
    /// finished object-storage pipe's `Completed` also satisfies; `Stopped`,
    /// which a database pipe's `Paused` also satisfies). `Failed` and
    /// `InternalError` end the wait at once. Default budget
    /// [`CLICKPIPE_BUDGET`].
    ///
    /// ```no_run
    /// use clickhouse_cloud_client::types::ClickPipeState;
    /// # async fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid, service: uuid::Uuid, pipe: uuid::Uuid) -> Result<(), clickhouse_cloud_client::Error> {
    /// let pipe = client.clickpipes(org).wait_until(service, pipe, ClickPipeState::Running).await?;
    /// println!("{:?}", pipe.state);
    /// # Ok(()) }
    /// ```
    pub fn wait_until(
        &self,
        service_id: Uuid,
        click_pipe_id: Uuid,
        state: ClickPipeState,
    ) -> Wait<ClickPipe> {
        let area = self.clone();
        let target = state.as_str().to_owned();
        Wait::polling(
            "ClickPipe",
            click_pipe_id,
            target,
            CLICKPIPE_BUDGET,
            move || {
                let area = area.clone();
                let wanted = state.clone();
                Box::pin(async move {
                    let answer = area.click_pipe_get(service_id, click_pipe_id).await;
                    check_present(
                        answer,
                        |pipe: &ClickPipe| pipe.state.as_ref().map(|s| s.as_str().to_owned()),
                        |pipe| match &pipe.state {
                            Some(s) => pipe_verdict(s, &wanted),
                            None => Verdict::Pending,
                        },
                    )
                })
            },
        )
    }

    /// Waits until the ClickPipe is gone (`404`), after a delete.
    ///
    /// ```no_run
    /// # async fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid, service: uuid::Uuid, pipe: uuid::Uuid) -> Result<(), clickhouse_cloud_client::Error> {
    /// let pipes = client.clickpipes(org);
    /// pipes.click_pipe_delete(service, pipe).await?;
    /// pipes.wait_until_gone(service, pipe).await?;
    /// # Ok(()) }
    /// ```
    pub fn wait_until_gone(&self, service_id: Uuid, click_pipe_id: Uuid) -> Wait<()> {
        let area = self.clone();
        Wait::polling(
            "ClickPipe",
            click_pipe_id,
            "gone",
            CLICKPIPE_BUDGET,
            move || {
                let area = area.clone();
                Box::pin(async move {
                    let answer = area.click_pipe_get(service_id, click_pipe_id).await;
                    check_gone(answer, |pipe: &ClickPipe| {
                        pipe.state.as_ref().map(|s| s.as_str().to_owned())
                    })
                })
            },
        )
    }

    /// Waits until the reverse private endpoint is `Ready`. `Failed`,
    /// `Rejected`, `Expired` and `Deleting` end the wait at once; a
    /// `PendingAcceptance` endpoint waits for someone to accept it. Default
    /// budget [`CLICKPIPE_BUDGET`].
    ///
    /// ```no_run
    /// # async fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid, service: uuid::Uuid, endpoint: uuid::Uuid) -> Result<(), clickhouse_cloud_client::Error> {
    /// let ready = client.clickpipes(org).wait_until_endpoint_ready(service, endpoint).await?;
    /// println!("{:?}", ready.status);
    /// # Ok(()) }
    /// ```
    pub fn wait_until_endpoint_ready(
        &self,
        service_id: Uuid,
        endpoint_id: Uuid,
    ) -> Wait<ReversePrivateEndpoint> {
        let area = self.clone();
        Wait::polling(
            "reverse private endpoint",
            endpoint_id,
            "Ready",
            CLICKPIPE_BUDGET,
            move || {
                let area = area.clone();
                Box::pin(async move {
                    let answer = area
                        .click_pipe_reverse_private_endpoint_get(service_id, endpoint_id)
                        .await;
                    check_present(
                        answer,
                        |e: &ReversePrivateEndpoint| {
                            e.status.as_ref().map(|s| s.as_str().to_owned())
                        },
                        |e| e.status.as_ref().map_or(Verdict::Pending, endpoint_verdict),
                    )
                })
            },
        )
    }
}

/// A version's build as a check: `ready` is reached, `error` failed.
#[cfg(feature = "udfs")]
fn build_check(udf: Udf) -> Check<Udf> {
    let state = udf.status.as_ref().map(|s| s.as_str().to_owned());
    let verdict = match &udf.status {
        Some(UdfStatus::Ready) => Verdict::Reached(udf),
        Some(UdfStatus::Error) => Verdict::Failed,
        _ => Verdict::Pending,
    };
    Check::new(state, verdict)
}

#[cfg(feature = "udfs")]
impl Udfs {
    /// Waits until version `version` of the function is built (`ready`),
    /// after a create or version create: an attach takes a ready version.
    /// `error` ends the wait at once (the version's `error` says why:
    /// read it with [`Udfs::udf_version_list`]); so does a `404`, and a
    /// version the function no longer lists. Default budget
    /// [`UDF_BUILD_BUDGET`].
    ///
    /// ```no_run
    /// # async fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid) -> Result<(), clickhouse_cloud_client::Error> {
    /// let built = client.udfs(org).wait_until_built("my_function", 2).await?;
    /// println!("{:?}", built.status);
    /// # Ok(()) }
    /// ```
    pub fn wait_until_built(&self, function_name: impl Into<String>, version: i64) -> Wait<Udf> {
        let area = self.clone();
        let function_name = function_name.into();
        let id = format!("{function_name} version {version}");
        Wait::polling("UDF version", id, "ready", UDF_BUILD_BUDGET, move || {
            let area = area.clone();
            let function_name = function_name.clone();
            Box::pin(async move {
                // The function shows its latest version: one call, unless
                // a newer version came since.
                let latest = area.udf_get(function_name.clone()).await?.into_result();
                if latest.version == Some(version) {
                    return Ok(build_check(latest));
                }
                let versions = area
                    .udf_version_list_stream(function_name, Default::default())
                    .all()
                    .await?;
                Ok(
                    match versions.into_iter().find(|v| v.version == Some(version)) {
                        Some(found) => build_check(found),
                        None => Check::new(Some("missing".into()), Verdict::Failed),
                    },
                )
            })
        })
    }

    /// Waits until the function is `deployed` on the service, after an
    /// attach. `error` ends the wait at once. Default budget
    /// [`UDF_ATTACHMENT_BUDGET`].
    ///
    /// ```no_run
    /// # async fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid, service: uuid::Uuid) -> Result<(), clickhouse_cloud_client::Error> {
    /// let attached = client.udfs(org).wait_until_deployed("my_function", service).await?;
    /// println!("{:?}", attached.status);
    /// # Ok(()) }
    /// ```
    pub fn wait_until_deployed(
        &self,
        function_name: impl Into<String>,
        service_id: Uuid,
    ) -> Wait<UdfAttachment> {
        let area = self.clone();
        let function_name = function_name.into();
        let id = format!("{function_name} on {service_id}");
        Wait::polling(
            "UDF attachment",
            id,
            "deployed",
            UDF_ATTACHMENT_BUDGET,
            move || {
                let area = area.clone();
                let function_name = function_name.clone();
                Box::pin(async move {
                    let answer = area.udf_attachment_get(function_name, service_id).await;
                    check_present(
                        answer,
                        |a: &UdfAttachment| a.status.as_ref().map(|s| s.as_str().to_owned()),
                        |a| match &a.status {
                            Some(UdfAttachmentStatus::Deployed) => Verdict::Reached(()),
                            Some(UdfAttachmentStatus::Error) => Verdict::Failed,
                            _ => Verdict::Pending,
                        },
                    )
                })
            },
        )
    }

    /// Waits until the function is detached from the service (`404`),
    /// after a detach.
    ///
    /// ```no_run
    /// # async fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid, service: uuid::Uuid) -> Result<(), clickhouse_cloud_client::Error> {
    /// let udfs = client.udfs(org);
    /// udfs.udf_detach("my_function", service).await?;
    /// udfs.wait_until_detached("my_function", service).await?;
    /// # Ok(()) }
    /// ```
    pub fn wait_until_detached(
        &self,
        function_name: impl Into<String>,
        service_id: Uuid,
    ) -> Wait<()> {
        let area = self.clone();
        let function_name = function_name.into();
        let id = format!("{function_name} on {service_id}");
        Wait::polling(
            "UDF attachment",
            id,
            "detached",
            UDF_ATTACHMENT_BUDGET,
            move || {
                let area = area.clone();
                let function_name = function_name.clone();
                Box::pin(async move {
                    let answer = area.udf_attachment_get(function_name, service_id).await;
                    check_gone(answer, |a: &UdfAttachment| {
                        a.status.as_ref().map(|s| s.as_str().to_owned())
                    })
                })
            },
        )
    }
}
