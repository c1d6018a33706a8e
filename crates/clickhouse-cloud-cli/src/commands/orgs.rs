//! `chc orgs ...`.

use clickhouse_cloud_client::types::Organization;

use crate::cli::{GlobalArgs, OrgsCommand, Output};
use crate::context::{Session, wait};
use crate::error::CliError;
use crate::output::{self, print_json, print_text};

/// Runs one `orgs` subcommand.
pub(crate) async fn run(command: OrgsCommand, global: &GlobalArgs) -> Result<(), CliError> {
    let session = Session::open(global)?;
    match command {
        OrgsCommand::List => {
            let orgs = wait(
                "Listing organizations",
                session.client.organizations().list(),
            )
            .await?;
            if global.output == Output::Json {
                return print_json(&*orgs);
            }
            let rows: Vec<Vec<String>> = orgs
                .iter()
                .map(|org| {
                    vec![
                        org.id.map_or_else(|| "-".into(), |id| id.to_string()),
                        org.name.clone().unwrap_or_else(|| "-".into()),
                        output::time_or(org.created_at.as_ref(), "-"),
                    ]
                })
                .collect();
            print_text(&output::table(&["ID", "NAME", "CREATED"], &rows))
        }
        OrgsCommand::Get { id } => {
            let id = match id {
                Some(id) => id,
                None => session.org().await?.value,
            };
            let org = wait(
                "Fetching the organization",
                session.client.organizations().get(id),
            )
            .await?;
            if global.output == Output::Json {
                return print_json(&*org);
            }
            print_text(&details(&org))
        }
    }
}

fn details(org: &Organization) -> String {
    let count = |n: Option<usize>| n.map_or_else(|| "-".into(), |n| n.to_string());
    output::fields(&[
        ("ID", org.id.map_or_else(|| "-".into(), |id| id.to_string())),
        ("Name", org.name.clone().unwrap_or_else(|| "-".into())),
        ("Created", output::time_or(org.created_at.as_ref(), "-")),
        (
            "Private endpoints",
            count(org.private_endpoints.as_ref().map(Vec::len)),
        ),
        (
            "BYOC configs",
            count(org.byoc_config.as_ref().map(Vec::len)),
        ),
        (
            "Core dumps",
            org.enable_core_dumps.map_or_else(
                || "-".into(),
                |on| if on { "enabled" } else { "disabled" }.into(),
            ),
        ),
    ])
}
