//! Tables, labelled lines and JSON.

use std::borrow::Cow;
use std::io::{self, Write as _};

use clickhouse_cloud_client::types::{ApiKey, AssignedRole, IpAccessListEntry, Timestamp};
use serde::Serialize;

use crate::error::CliError;

/// Prints `value` as pretty JSON on standard output.
pub(crate) fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|error| CliError::Other(format!("cannot encode the output: {error}")))?;
    print_text(&format!("{text}\n"))
}

/// Writes `text` to standard output; a closed pipe is not an error worth a
/// panic (`chc keys list | head -1`).
pub(crate) fn print_text(text: &str) -> Result<(), CliError> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(error) => Err(CliError::Other(format!("cannot write the output: {error}"))),
    }
}

/// `text` made safe to show on a terminal: control characters (C0, DEL,
/// C1), Unicode line and paragraph separators and bidirectional formatting
/// characters are written as escapes (`\n`, `\t`, `\r`, else `\u{1b}`),
/// so a value cannot add a line, move the cursor, clear the screen or
/// reorder what follows it. Everything else is kept as it is.
pub(crate) fn clean(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Whether `clean` escapes `c`.
fn needs_escape(c: char) -> bool {
    c.is_control() // C0, DEL and C1
        || matches!(
            c,
            '\u{061c}' // Arabic letter mark
            | '\u{200e}' | '\u{200f}' // left-to-right and right-to-left marks
            | '\u{2028}' | '\u{2029}' // line and paragraph separators
            | '\u{202a}'..='\u{202e}' // embeddings and overrides
            | '\u{2066}'..='\u{2069}' // isolates
        )
}

/// Columns aligned by width, headers in capitals, two spaces apart. Every
/// cell goes through [`clean`].
pub(crate) fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<Cow<'_, str>>> = rows
        .iter()
        .map(|row| row.iter().map(|cell| clean(cell)).collect())
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut current = String::new();
        for (index, (cell, width)) in cells.zip(&widths).enumerate() {
            if index > 0 {
                current.push_str("  ");
            }
            current.push_str(cell);
            let pad = width.saturating_sub(cell.chars().count());
            current.extend(std::iter::repeat_n(' ', pad));
        }
        text.push_str(current.trim_end());
        text.push('\n');
    };
    line(&mut headers.iter().copied());
    for row in &rows {
        line(&mut row.iter().map(|cell| &**cell));
    }
    text
}

/// `Label: value` lines with the values aligned; every value goes through
/// [`clean`].
pub(crate) fn fields(pairs: &[(&str, String)]) -> String {
    let width = pairs
        .iter()
        .map(|(label, _)| label.chars().count() + 1)
        .max()
        .unwrap_or(0);
    let mut text = String::new();
    for (label, value) in pairs {
        let label = format!("{label}:");
        text.push_str(&format!("{label:<width$} {}\n", clean(value)));
    }
    text
}

/// A time to the second, in UTC: `2030-01-31T12:00:00Z`.
pub(crate) fn time(at: &Timestamp) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// An optional time, or `none_text`.
pub(crate) fn time_or(at: Option<&Timestamp>, none_text: &str) -> String {
    at.map_or_else(|| none_text.to_owned(), time)
}

/// `...ABCD`: the key ID's last four characters, as the console shows them.
pub(crate) fn suffix(key: &ApiKey) -> String {
    key.key_suffix
        .as_deref()
        .map_or_else(|| "-".to_owned(), |suffix| format!("...{suffix}"))
}

/// The names of assigned roles (a role's ID where it has no name).
pub(crate) fn role_names(assigned: &[AssignedRole]) -> Vec<String> {
    assigned
        .iter()
        .map(|role| {
            role.role_name
                .clone()
                .or_else(|| role.role_id.map(|id| id.to_string()))
                .unwrap_or_else(|| "?".into())
        })
        .collect()
}

/// Role names: the assigned roles' names, else the legacy roles; `none`
/// for a key without roles.
pub(crate) fn roles(key: &ApiKey) -> String {
    let assigned = role_names(key.assigned_roles.as_deref().unwrap_or_default());
    let names = if assigned.is_empty() {
        key.roles
            .iter()
            .flatten()
            .map(|role| role.as_str().to_owned())
            .collect()
    } else {
        assigned
    };
    let known = key.assigned_roles.is_some() || key.roles.is_some();
    match (names.is_empty(), known) {
        (false, _) => names.join(", "),
        (true, true) => "none".into(),
        (true, false) => "-".into(),
    }
}

/// `enabled`, `disabled`, or what the service said.
pub(crate) fn state(key: &ApiKey) -> String {
    key.state
        .as_ref()
        .map_or_else(|| "-".into(), |state| state.as_str().to_owned())
}

/// A name in double quotes, for a sentence: quotes and backslashes in it
/// escaped as in Rust, and every character [`clean`] escapes escaped too.
pub(crate) fn quoted(name: &str) -> String {
    clean(&format!("{name:?}")).into_owned()
}

/// The key's name, quoted, and suffix: `"ci" (...ABCD)`.
pub(crate) fn key_label(key: &ApiKey) -> String {
    format!(
        "{} ({})",
        quoted(key.name.as_deref().unwrap_or("unnamed")),
        clean(&suffix(key))
    )
}

fn ip_entry(entry: &IpAccessListEntry) -> String {
    let source = entry.source.as_deref().unwrap_or("?");
    match entry.description.as_deref() {
        Some(description) if !description.is_empty() => format!("{source} ({description})"),
        _ => source.to_owned(),
    }
}

/// Every field of one key, as labelled lines.
pub(crate) fn key_details(key: &ApiKey, created_by: Option<String>) -> String {
    let ips = match key.ip_access_list.as_deref() {
        None => "-".to_owned(),
        Some([]) => "none (nobody can use this key)".to_owned(),
        Some(entries) => entries.iter().map(ip_entry).collect::<Vec<_>>().join(", "),
    };
    let mut pairs = vec![
        ("ID", key.id.map_or_else(|| "-".into(), |id| id.to_string())),
        ("Name", key.name.clone().unwrap_or_else(|| "-".into())),
        ("Key ID suffix", suffix(key)),
        ("Roles", roles(key)),
        ("State", state(key)),
        ("Expires", time_or(key.expire_at.as_ref(), "never")),
        ("Created", time_or(key.created_at.as_ref(), "-")),
        ("Last used", time_or(key.used_at.as_ref(), "never")),
        ("IP access list", ips),
    ];
    if let Some(created_by) = created_by {
        pairs.push(("Created by", created_by));
    }
    fields(&pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_and_trim() {
        let text = table(
            &["NAME", "STATE"],
            &[
                vec!["a-long-name".into(), "enabled".into()],
                vec!["b".into(), "".into()],
            ],
        );
        assert_eq!(text, "NAME         STATE\na-long-name  enabled\nb\n");
    }

    #[test]
    fn control_and_bidi_characters_are_escaped() {
        assert_eq!(clean("plain name, ünïcode"), "plain name, ünïcode");
        assert!(matches!(clean("plain"), Cow::Borrowed(_)));
        assert_eq!(clean("a\nb\tc\rd"), "a\\nb\\tc\\rd");
        assert_eq!(clean("\u{1b}[2J"), "\\u{1b}[2J");
        assert_eq!(clean("x\u{7f}\u{85}\u{9b}"), "x\\u{7f}\\u{85}\\u{9b}");
        assert_eq!(
            clean("\u{202e}evil\u{2066}\u{2028}"),
            "\\u{202e}evil\\u{2066}\\u{2028}"
        );
        let text = table(
            &["NAME", "ROLE"],
            &[vec!["one\nfake".into(), "Admin".into()]],
        );
        assert_eq!(text.lines().count(), 2, "{text}");
        assert_eq!(
            fields(&[("Name", "\u{1b}]0;title\u{7}".into())]),
            "Name: \\u{1b}]0;title\\u{7}\n"
        );
        assert_eq!(quoted("a\"b\u{202e}"), "\"a\\\"b\\u{202e}\"");
    }

    #[test]
    fn fields_align() {
        assert_eq!(
            fields(&[("ID", "1".into()), ("Name", "x".into())]),
            "ID:   1\nName: x\n"
        );
    }
}
