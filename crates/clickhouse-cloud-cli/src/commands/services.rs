//! `chc services ...`: list, show, create, change state, delete, and wait.

use clickhouse_cloud_client::Services;
use clickhouse_cloud_client::types::ops::InstanceGetListQuery;
use clickhouse_cloud_client::types::{
    ResourceTagsV1, Service, ServicePostRequest, ServiceState, ServiceStatePatchRequest,
    ServiceStatePatchRequestCommand,
};
use uuid::Uuid;

use crate::cli::{GlobalArgs, Output, ServiceArg, ServiceCreateArgs, ServicesCommand, WaitArgs};
use crate::context::{Session, confirm_delete, follow, refuse_unconfirmed, wait};
use crate::error::CliError;
use crate::output::{self, print_json, print_text};

/// Runs one `services` subcommand.
pub(crate) async fn run(command: ServicesCommand, global: &GlobalArgs) -> Result<(), CliError> {
    // Refusals that need no request come first.
    match &command {
        ServicesCommand::Delete { service, yes, .. } => {
            refuse_unconfirmed(
                *yes,
                &format!("service {:?}", service.service),
                "it and its data",
            )?;
        }
        ServicesCommand::Create(ServiceCreateArgs { tags: wanted, .. })
        | ServicesCommand::List { tags: wanted } => {
            tags(wanted)?;
        }
        _ => {}
    }

    let session = Session::open(global)?;
    let org = session.org().await?.value;
    let services = session.client.services(org);
    let output = global.output;
    match command {
        ServicesCommand::List { tags: wanted } => list(&services, &wanted, output).await,
        ServicesCommand::Get(arg) => {
            let found = find(&services, &arg).await?;
            if output == Output::Json {
                return print_json(&found);
            }
            print_text(&details(&found))
        }
        ServicesCommand::Create(args) => create(&services, args, output).await,
        ServicesCommand::Start { service, wait } => {
            let command = StateCommand::new(ServiceStatePatchRequestCommand::Start);
            change_state(&services, &service, command, &wait, output).await
        }
        ServicesCommand::Stop { service, wait } => {
            let command = StateCommand::new(ServiceStatePatchRequestCommand::Stop);
            change_state(&services, &service, command, &wait, output).await
        }
        ServicesCommand::Awake { service, wait } => {
            let command = StateCommand::new(ServiceStatePatchRequestCommand::Awake);
            change_state(&services, &service, command, &wait, output).await
        }
        ServicesCommand::Delete { service, yes, wait } => {
            delete(&services, &service, yes, &wait, output).await
        }
    }
}

/// `KEY[=VALUE]` tags, checked before any request.
fn tags(texts: &[String]) -> Result<Vec<(String, Option<String>)>, CliError> {
    texts
        .iter()
        .map(|text| {
            let (key, value) = match text.split_once('=') {
                Some((key, value)) => (key.trim(), Some(value.to_owned())),
                None => (text.trim(), None),
            };
            if key.is_empty() {
                return Err(CliError::Usage(format!(
                    "--tag {text:?}: expected KEY or KEY=VALUE with a non-empty key"
                )));
            }
            Ok((key.to_owned(), value))
        })
        .collect()
}

async fn list(services: &Services, wanted: &[String], output: Output) -> Result<(), CliError> {
    let filter: Vec<String> = tags(wanted)?
        .into_iter()
        .map(|(key, value)| match value {
            Some(value) => format!("tag:{key}={value}"),
            None => format!("tag:{key}"),
        })
        .collect();
    let query = InstanceGetListQuery {
        filter: (!filter.is_empty()).then_some(filter),
    };
    let listed = wait("Listing services", services.instance_get_list(query)).await?;
    if output == Output::Json {
        return print_json(&*listed);
    }
    let mut listed = listed.into_result();
    listed.sort_by(|a, b| (a.created_at, &a.name, a.id).cmp(&(b.created_at, &b.name, b.id)));
    let rows: Vec<Vec<String>> = listed
        .iter()
        .map(|service| {
            vec![
                service.name.clone().unwrap_or_else(|| "-".into()),
                id_text(service),
                state(service),
                service
                    .provider
                    .as_ref()
                    .map_or_else(|| "-".into(), |p| p.as_str().to_owned()),
                service
                    .region
                    .as_ref()
                    .map_or_else(|| "-".into(), |r| r.as_str().to_owned()),
                output::time_or(service.created_at.as_ref(), "-"),
            ]
        })
        .collect();
    print_text(&output::table(
        &["NAME", "ID", "STATE", "PROVIDER", "REGION", "CREATED"],
        &rows,
    ))
}

/// Finds the service `arg` names, taken exactly as given (no trimming): a
/// UUID is fetched as is (a `404` is "not found"); a name is looked up in
/// the list and must be unique.
pub(crate) async fn find(services: &Services, arg: &ServiceArg) -> Result<Service, CliError> {
    let arg = arg.service.as_str();
    if let Ok(id) = Uuid::parse_str(arg) {
        return Ok(wait("Fetching the service", services.instance_get(id))
            .await?
            .into_result());
    }
    let listed = wait(
        "Listing services",
        services.instance_get_list(InstanceGetListQuery::default()),
    )
    .await?
    .into_result();
    let mut matches: Vec<Service> = listed
        .into_iter()
        .filter(|service| service.name.as_deref() == Some(arg))
        .collect();
    match matches.len() {
        0 => Err(CliError::NotFound(format!(
            "no service in organization {} has the UUID or name {} (`chc services list` \
             shows them)",
            services.organization_id(),
            output::quoted(arg)
        ))),
        1 => Ok(matches.remove(0)),
        several => {
            let ids: Vec<String> = matches.iter().map(id_text).collect();
            Err(CliError::Usage(format!(
                "{} names {several} services; give one by its UUID: {}",
                output::quoted(arg),
                ids.join(", ")
            )))
        }
    }
}

/// The ID of a service the service itself described.
fn id_of(service: &Service) -> Result<Uuid, CliError> {
    service
        .id
        .ok_or_else(|| CliError::Other("the service came back without an ID".into()))
}

fn id_text(service: &Service) -> String {
    service.id.map_or_else(|| "-".into(), |id| id.to_string())
}

/// The state as the service said it, escaped for a terminal (an unknown
/// state is shown as it came).
fn state(service: &Service) -> String {
    service.state.as_ref().map_or_else(
        || "-".into(),
        |state| output::clean(state.as_str()).into_owned(),
    )
}

/// `"analytics" (8b2c...)`.
pub(crate) fn label(service: &Service) -> String {
    format!(
        "{} ({})",
        output::quoted(service.name.as_deref().unwrap_or("unnamed")),
        id_text(service)
    )
}

/// What the live progress line calls the service.
fn progress_label(service: &Service) -> String {
    format!(
        "service {}",
        output::clean(service.name.as_deref().unwrap_or("unnamed"))
    )
}

/// Every field a person usually wants, as labelled lines.
fn details(service: &Service) -> String {
    let text = |value: Option<String>| value.unwrap_or_else(|| "-".into());
    let number = |value: Option<f64>| value.map(|n| n.to_string());
    let endpoints = service
        .endpoints
        .iter()
        .flatten()
        .map(|endpoint| {
            format!(
                "{} {}:{}",
                endpoint
                    .protocol
                    .as_ref()
                    .map_or("?", |protocol| protocol.as_str()),
                endpoint.host.as_deref().unwrap_or("?"),
                endpoint
                    .port
                    .map_or_else(|| "?".into(), |port| port.to_string())
            )
        })
        .collect::<Vec<_>>();
    let ips = service
        .ip_access_list
        .iter()
        .flatten()
        .map(|entry| entry.source.clone().unwrap_or_else(|| "?".into()))
        .collect::<Vec<_>>();
    let tags = service
        .tags
        .iter()
        .flatten()
        .map(|tag| match &tag.value {
            Some(value) => format!("{}={value}", tag.key.as_deref().unwrap_or("?")),
            None => tag.key.clone().unwrap_or_else(|| "?".into()),
        })
        .collect::<Vec<_>>();
    let joined = |items: Vec<String>| (!items.is_empty()).then(|| items.join(", "));
    output::fields(&[
        ("ID", id_text(service)),
        ("Name", text(service.name.clone())),
        ("State", state(service)),
        (
            "Provider",
            text(service.provider.as_ref().map(|p| p.as_str().to_owned())),
        ),
        (
            "Region",
            text(service.region.as_ref().map(|r| r.as_str().to_owned())),
        ),
        ("Version", text(service.clickhouse_version.clone())),
        (
            "Replicas",
            text(service.num_replicas.map(|n| n.to_string())),
        ),
        (
            "Memory per replica",
            match (
                number(service.min_replica_memory_gb),
                number(service.max_replica_memory_gb),
            ) {
                (Some(min), Some(max)) => format!("{min}-{max} GB"),
                _ => "-".into(),
            },
        ),
        (
            "Idle scaling",
            match service.idle_scaling {
                Some(true) => match service.idle_timeout_minutes {
                    Some(minutes) => format!("after {minutes} min"),
                    None => "on".into(),
                },
                Some(false) => "off".into(),
                None => "-".into(),
            },
        ),
        ("Endpoints", text(joined(endpoints))),
        ("IP access list", text(joined(ips))),
        ("Tags", text(joined(tags))),
        ("Created", output::time_or(service.created_at.as_ref(), "-")),
    ])
}

/// `services create --output json`: the create result, the service as
/// last seen.
#[derive(serde::Serialize)]
struct CreatedOutput<'a> {
    service: &'a Service,
    password: Option<&'a str>,
}

async fn create(
    services: &Services,
    args: ServiceCreateArgs,
    output: Output,
) -> Result<(), CliError> {
    let mut body = ServicePostRequest::new(
        args.name.clone(),
        args.provider.as_str().into(),
        args.region.as_str().into(),
        args.ips,
    );
    let tags = tags(&args.tags)?;
    if !tags.is_empty() {
        body.tags = Some(
            tags.into_iter()
                .map(|(key, value)| ResourceTagsV1 {
                    value,
                    ..ResourceTagsV1::new(key)
                })
                .collect(),
        );
    }
    body.num_replicas = args.replicas;
    body.min_replica_memory_gb = args.min_replica_memory_gb;
    body.max_replica_memory_gb = args.max_replica_memory_gb;
    body.idle_timeout_minutes = args.idle_timeout_minutes;
    if args.no_idle_scaling {
        body.idle_scaling = Some(false);
    }
    body.backup_id = args.backup_id;

    let created = match wait("Creating the service", services.instance_create(body)).await {
        Ok(created) => created.into_result(),
        Err(error) if error.may_have_acted() => {
            return Err(CliError::MayExist {
                error: Box::new(error),
                what: format!("a service named {}", output::quoted(&args.name)),
                check: "chc services list",
            });
        }
        Err(error) => return Err(error.into()),
    };
    let Some(service) = created.service else {
        return Err(CliError::Other(
            "the service was created but the answer did not describe it".into(),
        ));
    };
    let password = created.password.as_ref().map(|secret| secret.expose());
    let id = id_of(&service)?;

    if output == Output::Table {
        // Printed before any wait: a wait that runs out of time must not
        // take the only copy of the password with it.
        let mut text = format!(
            "Created service {}, {}.\n\n",
            label(&service),
            state(&service)
        );
        match password {
            Some(password) => {
                text.push_str(&format!("User: default\nPassword: {password}\n\n"));
                text.push_str(
                    "Warning: the password is shown only this once and cannot be retrieved \
                     again. Store it now.\n",
                );
            }
            None => text.push_str("The answer carried no password for the default user.\n"),
        }
        print_text(&text)?;
    }
    if !args.wait.wait {
        if output == Output::Json {
            return print_json(&CreatedOutput {
                service: &service,
                password,
            });
        }
        return Ok(());
    }

    let waited = follow(
        &progress_label(&service),
        services.wait_until(id, ServiceState::Running),
        Some(
            args.wait
                .timeout
                .unwrap_or(clickhouse_cloud_client::SERVICE_CREATE_BUDGET),
        ),
    )
    .await;
    match (output, waited) {
        (Output::Json, Ok(running)) => print_json(&CreatedOutput {
            service: &running,
            password,
        }),
        (Output::Json, Err(error)) => {
            // The password goes out whatever became of the wait.
            print_json(&CreatedOutput {
                service: &service,
                password,
            })?;
            Err(error.into())
        }
        (Output::Table, Ok(running)) => print_text(&format!(
            "Service {} is {}.\n",
            label(&running),
            state(&running)
        )),
        (Output::Table, Err(error)) => Err(error.into()),
    }
}

/// A state command and what it leads to.
struct StateCommand {
    command: ServiceStatePatchRequestCommand,
    doing: &'static str,
    target: ServiceState,
}

impl StateCommand {
    /// `start` and `awake` lead to `running`, `stop` to `stopped`.
    fn new(command: ServiceStatePatchRequestCommand) -> Self {
        let (doing, target) = match command {
            ServiceStatePatchRequestCommand::Stop => ("Stopping", ServiceState::Stopped),
            ServiceStatePatchRequestCommand::Awake => ("Waking", ServiceState::Running),
            _ => ("Starting", ServiceState::Running),
        };
        Self {
            command,
            doing,
            target,
        }
    }
}

async fn change_state(
    services: &Services,
    arg: &ServiceArg,
    command: StateCommand,
    wait_args: &WaitArgs,
    output: Output,
) -> Result<(), CliError> {
    let service = find(services, arg).await?;
    let id = id_of(&service)?;
    let changed = wait(
        &format!("{} the service", command.doing),
        services.instance_state_update(id, ServiceStatePatchRequest::new(command.command)),
    )
    .await?
    .into_result();
    if !wait_args.wait {
        if output == Output::Json {
            return print_json(&changed);
        }
        return print_text(&format!(
            "{} service {}: {}.\n",
            command.doing,
            label(&service),
            state(&changed)
        ));
    }
    // Default budget: the wait's own (`SERVICE_STATE_BUDGET`).
    let settled = follow(
        &progress_label(&service),
        services.wait_until(id, command.target),
        wait_args.timeout,
    )
    .await?;
    if output == Output::Json {
        return print_json(&settled);
    }
    print_text(&format!(
        "Service {} is {}.\n",
        label(&settled),
        state(&settled)
    ))
}

/// `services delete --output json`.
#[derive(serde::Serialize)]
struct DeletedOutput {
    id: Uuid,
    name: Option<String>,
    /// `terminating` without `--wait`, `gone` with it.
    state: &'static str,
}

async fn delete(
    services: &Services,
    arg: &ServiceArg,
    yes: bool,
    wait_args: &WaitArgs,
    output: Output,
) -> Result<(), CliError> {
    let service = find(services, arg).await?;
    let id = id_of(&service)?;
    if !yes && !confirm(&service)? {
        return Err(CliError::Refused(
            "not confirmed; nothing was deleted".into(),
        ));
    }
    // Default budget: the wait's own (`SERVICE_DELETE_BUDGET`).
    let budget = wait_args.timeout;
    let label_text = progress_label(&service);
    let state = if wait_args.wait {
        follow(&label_text, services.delete_and_wait(id), budget).await?;
        "gone"
    } else {
        follow(&label_text, services.stop_and_delete(id), budget).await?;
        "terminating"
    };
    if output == Output::Json {
        return print_json(&DeletedOutput {
            id,
            name: service.name.clone(),
            state,
        });
    }
    if wait_args.wait {
        print_text(&format!("Deleted service {}.\n", label(&service)))
    } else {
        print_text(&format!(
            "Deleting service {}: it is terminating (`chc services get {id}` follows it).\n",
            label(&service)
        ))
    }
}

/// Whether a service in this state has to be stopped before a delete.
fn must_stop(service: &Service) -> bool {
    matches!(
        service.state,
        Some(ServiceState::Running | ServiceState::PartiallyRunning | ServiceState::Stopping)
    )
}

/// Asks on the terminal; true only for an explicit "yes".
fn confirm(service: &Service) -> Result<bool, CliError> {
    let stop_first = if must_stop(service) {
        format!(" It is {}: it will be stopped first.", state(service))
    } else {
        String::new()
    };
    confirm_delete(&format!(
        "Delete service {}?{stop_first} Its data is deleted and cannot be restored.",
        label(service),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_need_a_key() {
        let parsed = tags(&["env=prod".into(), "team".into(), "note=a=b".into()]).unwrap();
        assert_eq!(
            parsed,
            vec![
                ("env".into(), Some("prod".into())),
                ("team".into(), None),
                ("note".into(), Some("a=b".into())),
            ]
        );
        assert!(matches!(tags(&["=prod".into()]), Err(CliError::Usage(_))));
    }

    #[test]
    fn only_a_moving_or_running_service_is_stopped_first() {
        let with = |state| Service {
            state: Some(state),
            ..Default::default()
        };
        assert!(must_stop(&with(ServiceState::Running)));
        assert!(!must_stop(&with(ServiceState::Stopped)));
        assert!(!must_stop(&with(ServiceState::Idle)));
    }
}
