//! `chc activities ...`.

use clickhouse_cloud_client::types::ops::ActivityListQuery;

use crate::cli::{ActivitiesCommand, GlobalArgs, Output};
use crate::context::{Session, wait};
use crate::error::CliError;
use crate::output::{self, print_json, print_text};

/// Runs one `activities` subcommand.
pub(crate) async fn run(command: ActivitiesCommand, global: &GlobalArgs) -> Result<(), CliError> {
    let ActivitiesCommand::List { since } = command;
    let session = Session::open(global)?;
    let org = session.org().await?.value;
    let query = ActivityListQuery {
        from_date: since.map(Into::into),
        to_date: None,
    };
    let activities = wait(
        "Reading the activity log",
        session.client.activities(org).list(query),
    )
    .await?;
    if global.output == Output::Json {
        return print_json(&*activities);
    }
    let mut activities = activities.into_result();
    activities.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    let rows: Vec<Vec<String>> = activities
        .iter()
        .map(|activity| {
            let actor = match (
                &activity.actor_type,
                &activity.actor_details,
                &activity.actor_id,
            ) {
                (kind, Some(details), _) if !details.is_empty() => {
                    with_kind(kind.as_ref().map(|k| k.as_str()), details)
                }
                (kind, _, Some(id)) => with_kind(kind.as_ref().map(|k| k.as_str()), id),
                (kind, _, None) => kind.as_ref().map_or("-", |k| k.as_str()).to_owned(),
            };
            vec![
                output::time_or(activity.created_at.as_ref(), "-"),
                activity
                    .r#type
                    .as_ref()
                    .map_or_else(|| "-".into(), |kind| kind.as_str().to_owned()),
                actor,
                activity.target_key_id.clone().unwrap_or_else(|| "-".into()),
                activity
                    .key_update_type
                    .as_ref()
                    .map_or_else(|| "-".into(), |kind| kind.as_str().to_owned()),
            ]
        })
        .collect();
    print_text(&output::table(
        &["TIME", "TYPE", "ACTOR", "TARGET KEY", "CHANGE"],
        &rows,
    ))
}

fn with_kind(kind: Option<&str>, who: &str) -> String {
    match kind {
        Some(kind) => format!("{kind}: {who}"),
        None => who.to_owned(),
    }
}
