//! `chc roles ...`, and roles named on the command line.

use clickhouse_cloud_client::RoleTable;
use clickhouse_cloud_client::types::RbacRole;
use uuid::Uuid;

use crate::cli::{GlobalArgs, Output, RoleArgs, RolesCommand};
use crate::context::{Session, wait};
use crate::error::CliError;
use crate::output::{self, print_json, print_text};

/// Runs one `roles` subcommand.
pub(crate) async fn run(command: RolesCommand, global: &GlobalArgs) -> Result<(), CliError> {
    let session = Session::open(global)?;
    let org = session.org().await?.value;
    match command {
        RolesCommand::List => {
            let roles = session.client.roles(org);
            let listed = wait("Listing roles", roles.organization_roles_get_list()).await?;
            if global.output == Output::Json {
                return print_json(&*listed);
            }
            let rows: Vec<Vec<String>> = listed
                .iter()
                .map(|role| {
                    vec![
                        role.name.clone().unwrap_or_else(|| "-".into()),
                        role.id.clone().unwrap_or_else(|| "-".into()),
                        role.r#type
                            .as_ref()
                            .map_or_else(|| "-".into(), |kind| kind.as_str().to_owned()),
                    ]
                })
                .collect();
            print_text(&output::table(&["NAME", "ID", "TYPE"], &rows))
        }
    }
}

/// The role IDs `--role` and `--role-id` stand for: names looked up in the
/// organization's roles list (read only when a name is given), IDs as
/// given, in that order.
pub(crate) async fn role_ids(
    session: &Session,
    org: Uuid,
    args: &RoleArgs,
) -> Result<Vec<Uuid>, CliError> {
    let mut ids = Vec::with_capacity(args.names.len() + args.ids.len());
    if !args.names.is_empty() {
        let table = wait("Reading the roles", session.client.roles(org).table()).await?;
        for name in &args.names {
            ids.push(role_named(&table, org, name)?);
        }
    }
    ids.extend(&args.ids);
    Ok(ids)
}

/// The one role called `name`, or an error that lists what there is.
fn role_named(table: &RoleTable, org: Uuid, name: &str) -> Result<Uuid, CliError> {
    let id_of = |role: &RbacRole| {
        role.id
            .as_deref()
            .and_then(|id| Uuid::parse_str(id).ok())
            .ok_or_else(|| CliError::Other(format!("the role {name:?} has no usable ID")))
    };
    match table.named(name).as_slice() {
        [only] => id_of(only),
        [] => {
            let names: Vec<&str> = table
                .roles()
                .iter()
                .filter_map(|role| role.name.as_deref())
                .collect();
            Err(CliError::NotFound(format!(
                "organization {org} has no role named {name:?}; its roles: {} \
                 (`chc roles list`)",
                names.join(", ")
            )))
        }
        several => {
            let found: Vec<String> = several
                .iter()
                .map(|role| {
                    format!(
                        "{} ({})",
                        role.id.as_deref().unwrap_or("?"),
                        role.name.as_deref().unwrap_or("?")
                    )
                })
                .collect();
            Err(CliError::Usage(format!(
                "{name:?} matches {} roles; give one with --role-id: {}",
                several.len(),
                found.join(", ")
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use clickhouse_cloud_client::types::RbacRoleType;

    use super::*;

    fn role(id: u128, name: &str, kind: RbacRoleType) -> RbacRole {
        RbacRole {
            id: Some(Uuid::from_u128(id).to_string()),
            name: Some(name.into()),
            r#type: Some(kind),
            ..Default::default()
        }
    }

    #[test]
    fn names_resolve_to_one_role_or_say_why_not() {
        let table = RoleTable::new(vec![
            role(1, "Developer", RbacRoleType::System),
            role(2, "Service Admin", RbacRoleType::System),
            role(3, "ci writers", RbacRoleType::Custom),
            role(4, "CI Writers", RbacRoleType::Custom),
        ]);
        let org = Uuid::from_u128(9);
        assert_eq!(
            role_named(&table, org, "developer").unwrap(),
            Uuid::from_u128(1)
        );
        assert_eq!(
            role_named(&table, org, "service_admin").unwrap(),
            Uuid::from_u128(2)
        );
        // An exact name wins over names that only fold alike.
        assert_eq!(
            role_named(&table, org, "CI Writers").unwrap(),
            Uuid::from_u128(4)
        );
        let ambiguous = role_named(&table, org, "ci-writers").unwrap_err();
        assert!(matches!(ambiguous, CliError::Usage(_)), "{ambiguous:?}");
        let missing = role_named(&table, org, "owner").unwrap_err();
        assert!(
            matches!(&missing, CliError::NotFound(message) if message.contains("Developer, Service Admin")),
            "{missing:?}"
        );
    }
}
