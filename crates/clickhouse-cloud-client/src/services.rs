//! Services: start, stop, wake, wait, and delete as the state machine wants.

use std::time::Duration;

use clickhouse_cloud_types::{
    Service, ServicePostRequest, ServicePostResponse, ServiceState, ServiceStatePatchRequest,
    ServiceStatePatchRequestCommand,
};
use uuid::Uuid;

use clickhouse_cloud_types::Request;
use clickhouse_cloud_types::ops::{InstanceGet, InstanceStateUpdate, ServicePath};

use crate::wait::{Check, Pacer, Verdict, Wait};
use crate::{Client, Error, Response, Services};

/// Default budget for a new service to run (providers take minutes).
pub const SERVICE_CREATE_BUDGET: Duration = Duration::from_secs(30 * 60);
/// Default budget for a service to start, stop, wake or become idle.
pub const SERVICE_STATE_BUDGET: Duration = Duration::from_secs(20 * 60);
/// First pause while waiting for a woken service to run.
const WAKE_INTERVAL: Duration = Duration::from_secs(1);

/// Default budget for a service to be deleted (stop first included).
pub const SERVICE_DELETE_BUDGET: Duration = Duration::from_secs(45 * 60);

/// What one service state means for a wait until one of `targets`.
fn verdict(state: &ServiceState, targets: &[ServiceState]) -> Verdict<()> {
    if targets.contains(state) {
        return Verdict::Reached(());
    }
    match state {
        ServiceState::Failed
        | ServiceState::Terminating
        | ServiceState::Terminated
        | ServiceState::Softdeleting
        | ServiceState::Softdeleted => Verdict::Failed,
        _ => Verdict::Pending,
    }
}

/// Whether the service is being, or has been, deleted.
fn going_away(state: &ServiceState) -> bool {
    matches!(
        state,
        ServiceState::Terminating
            | ServiceState::Terminated
            | ServiceState::Softdeleting
            | ServiceState::Softdeleted
    )
}

fn is_status(error: &Error, status: u16) -> bool {
    error.status().is_some_and(|s| s.as_u16() == status)
}

fn state_name(service: &Service) -> Option<String> {
    service.state.as_ref().map(|s| s.as_str().to_owned())
}

impl Client {
    /// Wakes an idle service and waits until it runs, with requests that
    /// never wake anything themselves (the one place [`Client::send`]
    /// calls back into).
    pub(crate) async fn wake_for_retry(
        &self,
        organization_id: Uuid,
        service_id: Uuid,
    ) -> Result<Service, Error> {
        let path = ServicePath {
            organization_id,
            service_id,
        };
        let awake = ServiceStatePatchRequest::new(ServiceStatePatchRequestCommand::Awake);
        self.send_once(&Request::<InstanceStateUpdate>::new(path, awake))
            .await?;
        let client = self.clone();
        Wait::polling(
            "service",
            service_id,
            "running",
            SERVICE_STATE_BUDGET,
            move || {
                let client = client.clone();
                Box::pin(async move {
                    let service = client
                        .send_once(&Request::<InstanceGet>::new(path, ()))
                        .await?
                        .into_result();
                    let seen = service.state.as_ref();
                    let verdict = match seen.map(|s| verdict(s, &[ServiceState::Running])) {
                        Some(Verdict::Reached(())) => Verdict::Reached(service.clone()),
                        Some(Verdict::Failed) => Verdict::Failed,
                        _ => Verdict::Pending,
                    };
                    Ok(Check::new(state_name(&service), verdict))
                })
            },
        )
        // Waking takes seconds, not minutes: look often.
        .interval(WAKE_INTERVAL)
        .max_interval(WAKE_INTERVAL * 5)
        .await
    }
}

impl Services {
    /// Sends a state command (`start`, `stop`, `awake`).
    async fn command(
        &self,
        service_id: Uuid,
        command: ServiceStatePatchRequestCommand,
    ) -> Result<Response<Service>, Error> {
        self.instance_state_update(service_id, ServiceStatePatchRequest::new(command))
            .await
    }

    /// Starts a stopped service (`start`); see [`Services::wait_until`].
    ///
    /// ```no_run
    /// use clickhouse_cloud_client::types::ServiceState;
    /// # async fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid, id: uuid::Uuid) -> Result<(), clickhouse_cloud_client::Error> {
    /// let services = client.services(org);
    /// services.start(id).await?;
    /// services.wait_until(id, ServiceState::Running).await?;
    /// # Ok(()) }
    /// ```
    pub async fn start(&self, service_id: Uuid) -> Result<Response<Service>, Error> {
        self.command(service_id, ServiceStatePatchRequestCommand::Start)
            .await
    }

    /// Stops a service (`stop`); see [`Services::wait_until`].
    ///
    /// ```no_run
    /// use clickhouse_cloud_client::types::ServiceState;
    /// # async fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid, id: uuid::Uuid) -> Result<(), clickhouse_cloud_client::Error> {
    /// let services = client.services(org);
    /// services.stop(id).await?;
    /// services.wait_until(id, ServiceState::Stopped).await?;
    /// # Ok(()) }
    /// ```
    pub async fn stop(&self, service_id: Uuid) -> Result<Response<Service>, Error> {
        self.command(service_id, ServiceStatePatchRequestCommand::Stop)
            .await
    }

    /// Wakes an idle service (`awake`) and waits until it runs (budget
    /// [`SERVICE_STATE_BUDGET`]). An `awake` does not start a stopped
    /// service: that wait ends with the budget.
    ///
    /// ```no_run
    /// # async fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid, id: uuid::Uuid) -> Result<(), clickhouse_cloud_client::Error> {
    /// let service = client.services(org).wake(id).await?;
    /// println!("{:?}", service.state);
    /// # Ok(()) }
    /// ```
    pub async fn wake(&self, service_id: Uuid) -> Result<Service, Error> {
        self.client
            .wake_for_retry(self.organization_id, service_id)
            .await
    }

    /// Creates a service and waits until it runs (budget
    /// [`SERVICE_CREATE_BUDGET`], or the one given): the create answer
    /// (with the default user's password, shown once) and the service as
    /// it runs.
    ///
    /// ```no_run
    /// use clickhouse_cloud_client::types::{IpAccessListEntry, ServicePostRequest};
    /// # async fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid) -> Result<(), clickhouse_cloud_client::Error> {
    /// let body = ServicePostRequest::new("analytics", "aws".into(), "us-east-1".into(), vec![IpAccessListEntry::new("10.0.0.0/8")]);
    /// let (created, running) = client.services(org).create_and_wait(body, None).await?;
    /// println!("{:?} is {:?}", running.id, running.state); // created.password: the default user's, shown once
    /// # Ok(()) }
    /// ```
    pub async fn create_and_wait(
        &self,
        body: ServicePostRequest,
        budget: Option<Duration>,
    ) -> Result<(Response<ServicePostResponse>, Service), Error> {
        let created = self.instance_create(body).await?;
        let Some(id) = created.service.as_ref().and_then(|s| s.id) else {
            return Err(Error::Decode {
                operation: "instanceCreate",
                path: "result.service.id".into(),
                message: "missing field `id`".into(),
                request_id: created.request_id().map(str::to_owned),
            });
        };
        let running = self
            .wait_until(id, ServiceState::Running)
            .budget(budget.unwrap_or(SERVICE_CREATE_BUDGET))
            .await?;
        Ok((created, running))
    }

    /// Waits until the service is in `state` (`running`, `stopped`,
    /// `idle`, ...), and gives the service as it is then. A wait for
    /// `running` also ends on `idle`: the service ran and went to sleep
    /// (it wakes on the next query; [`Services::wake`] wakes it now).
    /// Default budget [`SERVICE_STATE_BUDGET`]; a restore can take over an
    /// hour, so give it more. `failed` and the deleting states end the wait
    /// at once.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use clickhouse_cloud_client::types::ServiceState;
    /// # async fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid, id: uuid::Uuid) -> Result<(), clickhouse_cloud_client::Error> {
    /// let restored = client.services(org).wait_until(id, ServiceState::Running)
    ///     .budget(Duration::from_secs(3 * 3600))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn wait_until(&self, service_id: Uuid, state: ServiceState) -> Wait<Service> {
        let services = self.clone();
        let target = state.as_str().to_owned();
        Wait::polling(
            "service",
            service_id,
            target,
            SERVICE_STATE_BUDGET,
            move || {
                let services = services.clone();
                let wanted = state.clone();
                Box::pin(async move {
                    let service = services.instance_get(service_id).await?.into_result();
                    let targets: &[ServiceState] = if wanted == ServiceState::Running {
                        &[ServiceState::Running, ServiceState::Idle]
                    } else {
                        std::slice::from_ref(&wanted)
                    };
                    let verdict = match service.state.as_ref() {
                        Some(seen) => verdict(seen, targets),
                        None => Verdict::Pending,
                    };
                    let verdict = match verdict {
                        Verdict::Reached(()) => Verdict::Reached(service.clone()),
                        Verdict::Pending => Verdict::Pending,
                        Verdict::Failed => Verdict::Failed,
                    };
                    Ok(Check::new(state_name(&service), verdict))
                })
            },
        )
    }

    /// Waits until the service is gone (`404`, or `terminated` /
    /// `softdeleted`). Default budget [`SERVICE_DELETE_BUDGET`].
    ///
    /// ```no_run
    /// # async fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid, id: uuid::Uuid) -> Result<(), clickhouse_cloud_client::Error> {
    /// client.services(org).wait_until_gone(id).await?;
    /// # Ok(()) }
    /// ```
    pub fn wait_until_gone(&self, service_id: Uuid) -> Wait<()> {
        let services = self.clone();
        Wait::new(
            "service",
            service_id,
            "gone",
            SERVICE_DELETE_BUDGET,
            move |mut pacer| {
                Box::pin(async move { services.until_gone(&mut pacer, service_id).await })
            },
        )
    }

    async fn until_gone(&self, pacer: &mut Pacer, service_id: Uuid) -> Result<(), Error> {
        let services = self.clone();
        pacer
            .until(move || {
                let services = services.clone();
                Box::pin(async move {
                    match services.instance_get(service_id).await {
                        Ok(service) => {
                            let gone = service.state.as_ref().is_some_and(|s| {
                                matches!(s, ServiceState::Terminated | ServiceState::Softdeleted)
                            });
                            // `failed` is not final here: a failed service
                            // may still be deleted.
                            let verdict = if gone {
                                Verdict::Reached(())
                            } else {
                                Verdict::Pending
                            };
                            Ok(Check::new(state_name(&service), verdict))
                        }
                        Err(error) if is_status(&error, 404) => {
                            Ok(Check::new(None, Verdict::Reached(())))
                        }
                        Err(error) => Err(error),
                    }
                })
            })
            .await
    }

    /// Deletes a service the way its state machine allows, and waits until
    /// it is gone: a running service is stopped first and waited for
    /// (`stopped` or `idle`); a `409` while it moves between states is
    /// retried after a pause; a service already gone is not an error. Safe
    /// to run again after an interruption: each step starts from the state
    /// the service is in. Default budget [`SERVICE_DELETE_BUDGET`], for all
    /// the steps together.
    ///
    /// ```no_run
    /// # async fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid, id: uuid::Uuid) -> Result<(), clickhouse_cloud_client::Error> {
    /// client.services(org)
    ///     .delete_and_wait(id)
    ///     .on_progress(|p| eprintln!("{:?} ({:?})", p.state, p.elapsed))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn delete_and_wait(&self, service_id: Uuid) -> Wait<()> {
        let services = self.clone();
        Wait::new(
            "service",
            service_id,
            "deleted",
            SERVICE_DELETE_BUDGET,
            move |mut pacer| {
                Box::pin(async move { services.delete(&mut pacer, service_id, true).await })
            },
        )
    }

    /// [`Services::delete_and_wait`] without the last step: stops the
    /// service first when it runs (and waits for that), retries a `409`
    /// while it moves, sends the delete, and ends once the service accepted
    /// it (it is then `terminating`). Same default budget.
    ///
    /// ```no_run
    /// # async fn run(client: clickhouse_cloud_client::Client, org: uuid::Uuid, id: uuid::Uuid) -> Result<(), clickhouse_cloud_client::Error> {
    /// client.services(org).stop_and_delete(id).await?;
    /// # Ok(()) }
    /// ```
    pub fn stop_and_delete(&self, service_id: Uuid) -> Wait<()> {
        let services = self.clone();
        Wait::new(
            "service",
            service_id,
            "deleting",
            SERVICE_DELETE_BUDGET,
            move |mut pacer| {
                Box::pin(async move { services.delete(&mut pacer, service_id, false).await })
            },
        )
    }

    async fn delete(
        &self,
        pacer: &mut Pacer,
        service_id: Uuid,
        until_gone: bool,
    ) -> Result<(), Error> {
        loop {
            let service = match self.instance_get(service_id).await {
                Ok(service) => service.into_result(),
                Err(error) if is_status(&error, 404) => {
                    pacer.saw(None);
                    return Ok(());
                }
                Err(error) => {
                    let at_least = pacer.transient(error)?;
                    pacer.pause(at_least).await?;
                    continue;
                }
            };
            pacer.saw(state_name(&service));
            let state = service.state.clone();
            match state {
                Some(ServiceState::Terminated | ServiceState::Softdeleted) => return Ok(()),
                Some(ref s) if going_away(s) => break,
                Some(ServiceState::Running | ServiceState::PartiallyRunning) => {
                    match self.stop(service_id).await {
                        // Someone else's command, or already stopping.
                        Err(error) if is_status(&error, 409) => {}
                        Err(error) if is_status(&error, 404) => return Ok(()),
                        Err(error) => return Err(error),
                        Ok(_) => {}
                    }
                    self.until_stopped(pacer, service_id).await?;
                    continue;
                }
                Some(ServiceState::Stopping) => {
                    self.until_stopped(pacer, service_id).await?;
                    continue;
                }
                _ => {}
            }
            match self.instance_delete(service_id).await {
                Ok(_) => break,
                Err(error) if is_status(&error, 404) => return Ok(()),
                // Still moving between states: look again after a pause.
                Err(error) if is_status(&error, 409) => pacer.pause(None).await?,
                Err(error) => {
                    let at_least = pacer.transient(error)?;
                    pacer.pause(at_least).await?;
                }
            }
        }
        if !until_gone {
            return Ok(());
        }
        pacer.set_target("gone");
        pacer.pause(None).await?;
        self.until_gone(pacer, service_id).await
    }

    /// Polls until `stopped` or `idle`, within the pacer's budget.
    async fn until_stopped(&self, pacer: &mut Pacer, service_id: Uuid) -> Result<(), Error> {
        pacer.pause(None).await?;
        let services = self.clone();
        pacer
            .until(move || {
                let services = services.clone();
                Box::pin(async move {
                    match services.instance_get(service_id).await {
                        Ok(service) => {
                            let verdict = match service.state.as_ref() {
                                Some(s) if going_away(s) => Verdict::Reached(()),
                                Some(s) => verdict(s, &[ServiceState::Stopped, ServiceState::Idle]),
                                None => Verdict::Pending,
                            };
                            Ok(Check::new(state_name(&service), verdict))
                        }
                        Err(error) if is_status(&error, 404) => {
                            Ok(Check::new(None, Verdict::Reached(())))
                        }
                        Err(error) => Err(error),
                    }
                })
            })
            .await
    }
}
