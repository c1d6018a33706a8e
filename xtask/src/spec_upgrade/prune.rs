//! Removing entries from the hand-written TOML files (`xtask/codegen.toml`,
//! `xtask/check-spec-exemptions.toml`) as text, so that every comment and
//! every other entry stays exactly as it was written.
//!
//! Two shapes of entry are known: a `key = value` line inside a `[table]`,
//! and a whole `[[array]]` block (from its header to the next header, less
//! the comments and blank lines just above that next header, which belong
//! to it).

/// The line range `[start, end)` of every `[[array]]` block named `header`.
fn blocks(lines: &[&str], header: &str) -> Vec<(usize, usize)> {
    let wanted = format!("[[{header}]]");
    let mut out = Vec::new();
    for (start, line) in lines.iter().enumerate() {
        if line.trim() != wanted {
            continue;
        }
        let mut end = lines[start + 1..]
            .iter()
            .position(|l| l.trim_start().starts_with('['))
            .map_or(lines.len(), |i| start + 1 + i);
        if end < lines.len() {
            while end > start + 1 {
                let above = lines[end - 1].trim();
                if above.is_empty() || above.starts_with('#') {
                    end -= 1;
                } else {
                    break;
                }
            }
        }
        out.push((start, end));
    }
    out
}

/// The string value of `key = "..."` on a line, if that is what it holds.
fn string_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let (name, value) = line.split_once('=')?;
    let name = name.trim().trim_matches('"');
    if name != key {
        return None;
    }
    let value = value.trim();
    let value = value.split_once('#').map_or(value, |(v, _)| v).trim();
    value.strip_prefix('"')?.strip_suffix('"')
}

/// The key of a `key = value` line (quotes removed).
fn line_key(line: &str) -> Option<&str> {
    let trimmed = line.trim();
    if trimmed.starts_with('#') || trimmed.starts_with('[') {
        return None;
    }
    let (name, _) = trimmed.split_once('=')?;
    Some(name.trim().trim_matches('"'))
}

/// Joins lines back, dropping a blank line left doubled by a removal.
fn join(lines: &[&str], trailing_newline: bool) -> String {
    let mut out: Vec<&str> = Vec::with_capacity(lines.len());
    for line in lines {
        if line.trim().is_empty() && out.last().is_some_and(|l| l.trim().is_empty()) {
            continue;
        }
        out.push(line);
    }
    let mut text = out.join("\n");
    if trailing_newline {
        text.push('\n');
    }
    text
}

/// Removes the `[[header]]` blocks whose `key` is `value`; returns the new
/// text and how many blocks went.
pub fn remove_block(text: &str, header: &str, key: &str, value: &str) -> (String, usize) {
    let lines: Vec<&str> = text.lines().collect();
    let doomed: Vec<(usize, usize)> = blocks(&lines, header)
        .into_iter()
        .filter(|(start, end)| {
            lines[*start + 1..*end]
                .iter()
                .any(|l| string_value(l, key) == Some(value))
        })
        .collect();
    if doomed.is_empty() {
        return (text.to_owned(), 0);
    }
    let kept: Vec<&str> = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| !doomed.iter().any(|(s, e)| (*s..*e).contains(i)))
        .map(|(_, l)| *l)
        .collect();
    (join(&kept, text.ends_with('\n')), doomed.len())
}

/// Removes the line `key = ...` of the `[table]` section; returns the new
/// text and whether it was there.
pub fn remove_key(text: &str, table: &str, key: &str) -> (String, bool) {
    let lines: Vec<&str> = text.lines().collect();
    let wanted = format!("[{table}]");
    let mut inside = false;
    let mut found = None;
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            inside = trimmed == wanted;
            continue;
        }
        if inside && line_key(line) == Some(key) {
            found = Some(i);
            break;
        }
    }
    let Some(index) = found else {
        return (text.to_owned(), false);
    };
    let kept: Vec<&str> = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != index)
        .map(|(_, l)| *l)
        .collect();
    (join(&kept, text.ends_with('\n')), true)
}

/// Removes `"name"` from the array `key = [...]` of the `[table]` section
/// (written on one line or over several); returns the new text and whether
/// it was there.
pub fn remove_from_array(text: &str, table: &str, key: &str, name: &str) -> (String, bool) {
    let wanted = format!("[{table}]");
    let quoted = format!("\"{name}\"");
    let mut out = Vec::new();
    let mut inside_table = false;
    let mut inside_array = false;
    let mut removed = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if !inside_array && trimmed.starts_with('[') {
            inside_table = trimmed == wanted;
        }
        let starts = inside_table && line_key(line) == Some(key);
        if starts {
            inside_array = true;
        }
        if inside_array && !removed && line.contains(&quoted) {
            removed = true;
            let mut edited = line.replacen(&format!("{quoted}, "), "", 1);
            if edited == line {
                edited = line.replacen(&format!("{quoted},"), "", 1);
            }
            if edited == line {
                edited = line.replacen(&quoted, "", 1);
            }
            let was_closing = inside_array && line.contains(']');
            if inside_array && edited.trim().is_empty() {
                if was_closing {
                    inside_array = false;
                }
                continue;
            }
            out.push(edited);
        } else {
            out.push(line.to_owned());
        }
        if inside_array && line.contains(']') {
            inside_array = false;
        }
    }
    let mut text_out = out.join("\n");
    if text.ends_with('\n') {
        text_out.push('\n');
    }
    (text_out, removed)
}

/// The `item` of every `[[header]]` block (in order).
pub fn block_values(text: &str, header: &str, key: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    blocks(&lines, header)
        .into_iter()
        .filter_map(|(start, end)| {
            lines[start + 1..end]
                .iter()
                .find_map(|l| string_value(l, key))
                .map(str::to_owned)
        })
        .collect()
}

/// The keys of the `[table]` section.
pub fn table_keys(text: &str, table: &str) -> Vec<String> {
    let wanted = format!("[{table}]");
    let mut inside = false;
    let mut out = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            inside = trimmed == wanted;
            continue;
        }
        if inside && let Some(key) = line_key(line) {
            out.push(key.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# head

[names]
"a" = "A"
"b" = "B"

[[retry]]
operation = "x"
reason = "r"

[[retry]]
operation = "y"
reason = "r"

# about the next block

[[field]]
item = "T.f"
reason = "r"

[not_yet_covered]
operations = ["p", "q"]
schemas = [
    "S",
    "T",
]
"#;

    #[test]
    fn a_block_goes_with_its_lines_and_leaves_the_comment_of_the_next() {
        let (text, n) = remove_block(TEXT, "retry", "operation", "y");
        assert_eq!(n, 1);
        assert!(!text.contains("\"y\""), "{text}");
        assert!(
            text.contains(
                "operation = \"x\"\nreason = \"r\"\n\n# about the next block\n\n[[field]]"
            ),
            "{text}"
        );
        assert_eq!(block_values(&text, "retry", "operation"), ["x"]);
        let (same, n) = remove_block(TEXT, "retry", "operation", "z");
        assert_eq!((same.as_str(), n), (TEXT, 0));
    }

    #[test]
    fn a_key_goes_alone() {
        let (text, found) = remove_key(TEXT, "names", "a");
        assert!(found);
        assert_eq!(table_keys(&text, "names"), ["b"]);
        assert!(!remove_key(TEXT, "names", "zz").1);
    }

    #[test]
    fn array_items_go_from_one_or_several_lines() {
        let (text, found) = remove_from_array(TEXT, "not_yet_covered", "operations", "p");
        assert!(found);
        assert!(text.contains("operations = [\"q\"]\n"), "{text}");
        let (text, found) = remove_from_array(&text, "not_yet_covered", "schemas", "T");
        assert!(found);
        assert!(text.contains("schemas = [\n    \"S\",\n]\n"), "{text}");
        let parsed: toml::Value = toml::from_str(&text).unwrap();
        assert_eq!(
            parsed["not_yet_covered"]["schemas"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }
}
