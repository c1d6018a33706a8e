//! Turning spec names into Rust names.

/// Splits a name into lower-case words at case changes, digits after
/// letters, and any character that is not a letter or digit:
/// `clickPipeId` -> `click pipe id`, `pgBouncerConfig` -> `pg bouncer
/// config`, `us-east-1` -> `us east 1`, `IAM_ROLE` -> `iam role`,
/// `ClickStackCASLPermission` -> `click stack casl permission`.
pub fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        let boundary = match prev {
            Some(p) if p.is_ascii_alphanumeric() => {
                (c.is_ascii_uppercase() && p.is_ascii_lowercase())
                    || (c.is_ascii_uppercase()
                        && p.is_ascii_uppercase()
                        && next.is_some_and(|n| n.is_ascii_lowercase()))
                    || (c.is_ascii_digit() && p.is_ascii_alphabetic())
                    || (c.is_ascii_alphabetic() && p.is_ascii_digit() && c.is_ascii_uppercase())
            }
            _ => false,
        };
        if boundary && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        current.push(c.to_ascii_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// `UpperCamelCase`, for types and variants.
pub fn pascal(name: &str) -> String {
    let mut out = String::new();
    for word in words(name) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    out
}

/// `snake_case`, for fields, avoiding keywords.
pub fn snake(name: &str) -> String {
    let joined = words(name).join("_");
    escape(if joined.is_empty() {
        "value".into()
    } else {
        joined
    })
}

/// A type or variant name that is a valid identifier: a leading digit gets
/// a `V`, an empty name becomes `Empty`.
pub fn type_ident(name: &str) -> String {
    let pascal = pascal(name);
    match pascal.chars().next() {
        None => "Empty".into(),
        Some(c) if c.is_ascii_digit() => format!("V{pascal}"),
        Some(_) => pascal,
    }
}

fn escape(name: String) -> String {
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "box", "break", "const", "continue", "crate", "do", "dyn", "else",
        "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop",
        "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return", "self",
        "static", "struct", "super", "trait", "true", "try", "type", "typeof", "unsafe", "unsized",
        "use", "virtual", "where", "while", "yield",
    ];
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("n_{name}")
    } else if KEYWORDS.contains(&name.as_str()) {
        format!("r#{name}")
    } else {
        name
    }
}

/// A string as a Rust string literal.
pub fn literal(text: &str) -> String {
    format!("{text:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_where_a_reader_would() {
        assert_eq!(words("clickPipeId"), ["click", "pipe", "id"]);
        assert_eq!(
            words("ClickStackCASLPermission"),
            ["click", "stack", "casl", "permission"]
        );
        assert_eq!(words("us-east-1"), ["us", "east", "1"]);
        assert_eq!(words("IAM_ROLE"), ["iam", "role"]);
        assert_eq!(words("python3.11"), ["python", "3", "11"]);
        assert_eq!(
            words("AwsBackupBucketPostRequestV1"),
            ["aws", "backup", "bucket", "post", "request", "v", "1"]
        );
        assert_eq!(
            words("track_activity_query_size"),
            ["track", "activity", "query", "size"]
        );
        assert_eq!(words("$regex"), ["regex"]);
    }

    #[test]
    fn rust_names() {
        assert_eq!(pascal("pgPassword"), "PgPassword");
        assert_eq!(pascal("SCRAM-SHA-256"), "ScramSha256");
        assert_eq!(snake("type"), "r#type");
        assert_eq!(snake("ipAccessList"), "ip_access_list");
        assert_eq!(snake("2fa"), "n_2fa");
        assert_eq!(type_ident("1m"), "V1m");
        assert_eq!(type_ident(""), "Empty");
        assert_eq!(type_ident("*"), "Empty");
        assert_eq!(literal("a\"b"), r#""a\"b""#);
    }
}
