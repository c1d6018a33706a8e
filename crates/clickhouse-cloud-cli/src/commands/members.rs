//! `chc members ...` and `chc invitations ...`.

use clickhouse_cloud_client::types::{AssignedRole, InvitationPostRequest, MemberRole};

use crate::cli::{GlobalArgs, InvitationsCommand, MembersCommand, Output};
use crate::commands::roles::role_ids;
use crate::context::{Session, wait};
use crate::error::CliError;
use crate::output::{self, print_json, print_text};

/// Runs one `members` subcommand.
pub(crate) async fn run_members(
    command: MembersCommand,
    global: &GlobalArgs,
) -> Result<(), CliError> {
    let session = Session::open(global)?;
    let org = session.org().await?.value;
    match command {
        MembersCommand::List => {
            let listed = wait(
                "Listing members",
                session.client.members(org).member_get_list(),
            )
            .await?;
            if global.output == Output::Json {
                return print_json(&*listed);
            }
            let rows: Vec<Vec<String>> = listed
                .iter()
                .map(|member| {
                    vec![
                        member.user_id.clone().unwrap_or_else(|| "-".into()),
                        member.name.clone().unwrap_or_else(|| "-".into()),
                        member.email.clone().unwrap_or_else(|| "-".into()),
                        roles(member.assigned_roles.as_deref(), member.role.as_ref()),
                        output::time_or(member.joined_at.as_ref(), "-"),
                    ]
                })
                .collect();
            print_text(&output::table(
                &["USER ID", "NAME", "EMAIL", "ROLES", "JOINED"],
                &rows,
            ))
        }
    }
}

/// Runs one `invitations` subcommand.
pub(crate) async fn run_invitations(
    command: InvitationsCommand,
    global: &GlobalArgs,
) -> Result<(), CliError> {
    if let InvitationsCommand::Create { roles, .. } = &command
        && roles.is_empty()
    {
        return Err(CliError::Usage(
            "give the invitation a role: --role NAME (`chc roles list`) or --role-id UUID".into(),
        ));
    }
    let session = Session::open(global)?;
    let org = session.org().await?.value;
    let members = session.client.members(org);
    let output = global.output;
    match command {
        InvitationsCommand::List => {
            let listed = wait("Listing invitations", members.invitation_get_list()).await?;
            if output == Output::Json {
                return print_json(&*listed);
            }
            let rows: Vec<Vec<String>> = listed
                .iter()
                .map(|invitation| {
                    vec![
                        invitation
                            .id
                            .map_or_else(|| "-".into(), |id| id.to_string()),
                        invitation.email.clone().unwrap_or_else(|| "-".into()),
                        roles(
                            invitation.assigned_roles.as_deref(),
                            invitation.role.as_ref(),
                        ),
                        output::time_or(invitation.created_at.as_ref(), "-"),
                        output::time_or(invitation.expire_at.as_ref(), "-"),
                    ]
                })
                .collect();
            print_text(&output::table(
                &["ID", "EMAIL", "ROLES", "CREATED", "EXPIRES"],
                &rows,
            ))
        }
        InvitationsCommand::Create { email, roles: args } => {
            let ids = role_ids(&session, org, &args).await?;
            let body = InvitationPostRequest {
                assigned_role_ids: Some(ids.iter().map(ToString::to_string).collect()),
                ..InvitationPostRequest::new(email.clone())
            };
            let invitation = wait("Inviting", members.invitation_create(body)).await?;
            if output == Output::Json {
                return print_json(&*invitation);
            }
            print_text(&format!(
                "Invited {} as {}: invitation {}, expires {}.\n",
                output::clean(&email),
                output::clean(&roles(
                    invitation.assigned_roles.as_deref(),
                    invitation.role.as_ref()
                )),
                invitation
                    .id
                    .map_or_else(|| "-".into(), |id| id.to_string()),
                output::time_or(invitation.expire_at.as_ref(), "never")
            ))
        }
        InvitationsCommand::Delete { id } => {
            let deleted = wait("Withdrawing the invitation", members.invitation_delete(id)).await?;
            if output == Output::Json {
                return print_json(&*deleted);
            }
            print_text(&format!("Withdrew invitation {id}.\n"))
        }
    }
}

/// Assigned role names, else the legacy role; `-` when neither is known.
fn roles(assigned: Option<&[AssignedRole]>, legacy: Option<&MemberRole>) -> String {
    let names = output::role_names(assigned.unwrap_or_default());
    if !names.is_empty() {
        return names.join(", ");
    }
    match (assigned, legacy) {
        (_, Some(role)) => role.as_str().to_owned(),
        (Some(_), None) => "none".into(),
        (None, None) => "-".into(),
    }
}
