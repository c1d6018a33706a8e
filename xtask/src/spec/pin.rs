//! `specs/spec.pin`: which spec the project is checked against.
//!
//! The file is a few `key = "value"` lines (`url`, `sha256`, `date`); blank
//! lines and lines starting with `#` are ignored.

use std::path::Path;

/// The pinned spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// Where the spec is published.
    pub url: String,
    /// Lower-case hex sha256 of the exact bytes.
    pub sha256: String,
    /// When the pin was last updated (`YYYY-MM-DD`).
    pub date: String,
}

/// The URL the spec is published at.
pub const DEFAULT_URL: &str = "https://api.clickhouse.cloud/v1";

/// Why a pin file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PinError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The pin file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line is not `key = "value"`, or a value is malformed.
    #[error("{path}:{line}: {message}")]
    Syntax {
        /// The pin file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A required key is absent.
    #[error("{path}: missing `{key}`")]
    Missing {
        /// The pin file.
        path: String,
        /// The absent key.
        key: &'static str,
    },
}

impl Pin {
    /// Parses the text of a pin file; `path` is only used in errors.
    pub fn parse(text: &str, path: &str) -> Result<Pin, PinError> {
        let mut url = None;
        let mut sha256 = None;
        let mut date = None;
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let syntax = |message: String| PinError::Syntax {
                path: path.to_owned(),
                line: index + 1,
                message,
            };
            let (key, value) = line
                .split_once('=')
                .ok_or_else(|| syntax(format!("expected `key = \"value\"`, found `{line}`")))?;
            let key = key.trim();
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .filter(|v| !v.contains('"'))
                .ok_or_else(|| syntax(format!("the value of `{key}` must be one quoted string")))?;
            let slot = match key {
                "url" => &mut url,
                "sha256" => &mut sha256,
                "date" => &mut date,
                other => return Err(syntax(format!("unknown key `{other}`"))),
            };
            if slot.is_some() {
                return Err(syntax(format!("`{key}` is given twice")));
            }
            match key {
                "sha256" if !is_sha256(value) => {
                    return Err(syntax(format!(
                        "sha256 must be 64 lower-case hex digits, found `{value}`"
                    )));
                }
                "date" if !is_date(value) => {
                    return Err(syntax(format!("date must be YYYY-MM-DD, found `{value}`")));
                }
                "url" if value.is_empty() => return Err(syntax("url is empty".into())),
                _ => {}
            }
            *slot = Some(value.to_owned());
        }
        let missing = |key| PinError::Missing {
            path: path.to_owned(),
            key,
        };
        Ok(Pin {
            url: url.ok_or_else(|| missing("url"))?,
            sha256: sha256.ok_or_else(|| missing("sha256"))?,
            date: date.ok_or_else(|| missing("date"))?,
        })
    }

    /// Reads and parses a pin file.
    pub fn read(path: &Path) -> Result<Pin, PinError> {
        let text = std::fs::read_to_string(path).map_err(|source| PinError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Pin::parse(&text, &path.display().to_string())
    }

    /// The file text.
    pub fn render(&self) -> String {
        format!(
            "# The spec this workspace is checked against; update with\n\
             # `cargo xtask fetch-spec --update` (see specs/README.md).\n\
             url = \"{}\"\n\
             sha256 = \"{}\"\n\
             date = \"{}\"\n",
            self.url, self.sha256, self.date
        )
    }

    /// Writes the file.
    pub fn write(&self, path: &Path) -> Result<(), PinError> {
        std::fs::write(path, self.render()).map_err(|source| PinError::Io {
            path: path.display().to_string(),
            source,
        })
    }
}

fn is_sha256(value: &str) -> bool {
    value.len() == 64
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn is_date(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        })
}

/// Today's date in UTC as `YYYY-MM-DD`.
pub fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    civil_date(i64::try_from(secs / 86_400).unwrap_or(0))
}

/// The proleptic Gregorian date of a day count since 1970-01-01
/// (Howard Hinnant's `civil_from_days`).
fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "124291b0fb5d6742f3f1d015a42c989b9277a9f6e9c530453efcf95f3e5a5eeb";

    #[test]
    fn parses_and_renders_round_trip() {
        let text = format!(
            "# comment\n\nurl = \"{DEFAULT_URL}\"\nsha256 = \"{SHA}\"\n  date = \"2026-11-26\"\n"
        );
        let pin = Pin::parse(&text, "p").unwrap();
        assert_eq!(pin.url, DEFAULT_URL);
        assert_eq!(pin.sha256, SHA);
        assert_eq!(pin.date, "2026-11-26");
        assert_eq!(Pin::parse(&pin.render(), "p").unwrap(), pin);
    }

    #[test]
    fn bad_pins_name_the_line() {
        let cases = [
            (
                "url = x",
                "p:1: the value of `url` must be one quoted string",
            ),
            (
                "nonsense",
                "p:1: expected `key = \"value\"`, found `nonsense`",
            ),
            ("\nfoo = \"1\"", "p:2: unknown key `foo`"),
            (
                "sha256 = \"ABC\"",
                "p:1: sha256 must be 64 lower-case hex digits",
            ),
            ("date = \"26-11-2026\"", "p:1: date must be YYYY-MM-DD"),
            ("url = \"a\"\nurl = \"b\"", "p:2: `url` is given twice"),
            ("url = \"a\"", "p: missing `sha256`"),
        ];
        for (text, expected) in cases {
            let error = Pin::parse(text, "p").unwrap_err().to_string();
            assert!(error.starts_with(expected), "{text:?}: {error}");
        }
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(11_016), "2000-02-29");
        assert_eq!(civil_date(20_538), "2026-03-26");
        assert_eq!(today().len(), 10);
    }
}
