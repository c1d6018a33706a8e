//! A tiny command-line parser: enough for a few flags per command.

/// A command-line mistake; printed with the usage, exit status 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// The arguments of one command, consumed flag by flag.
#[derive(Debug, Clone)]
pub struct Args {
    rest: Vec<String>,
}

impl Args {
    /// Wraps the arguments after the command name.
    pub fn new(args: impl IntoIterator<Item = String>) -> Args {
        Args {
            rest: args.into_iter().collect(),
        }
    }

    /// Takes `--name` if present.
    pub fn flag(&mut self, name: &str) -> bool {
        let before = self.rest.len();
        self.rest.retain(|a| a != name);
        self.rest.len() != before
    }

    /// Takes `--name VALUE` or `--name=VALUE` if present.
    pub fn value(&mut self, name: &str) -> Result<Option<String>, UsageError> {
        let prefix = format!("{name}=");
        let mut found = None;
        let mut i = 0;
        while i < self.rest.len() {
            let value = if self.rest[i] == name {
                if i + 1 >= self.rest.len() {
                    return Err(UsageError(format!("{name} needs a value")));
                }
                let value = self.rest.remove(i + 1);
                self.rest.remove(i);
                value
            } else if let Some(value) = self.rest[i].strip_prefix(&prefix) {
                let value = value.to_owned();
                self.rest.remove(i);
                value
            } else {
                i += 1;
                continue;
            };
            if found.is_some() {
                return Err(UsageError(format!("{name} is given twice")));
            }
            found = Some(value);
        }
        Ok(found)
    }

    /// Takes `--format text|json` (text when absent).
    pub fn format(&mut self) -> Result<Format, UsageError> {
        match self.value("--format")?.as_deref() {
            None | Some("text") => Ok(Format::Text),
            Some("json") => Ok(Format::Json),
            Some(other) => Err(UsageError(format!(
                "--format must be `text` or `json`, not `{other}`"
            ))),
        }
    }

    /// What is left, which must be exactly `count` positional arguments.
    pub fn positionals(self, count: usize) -> Result<Vec<String>, UsageError> {
        if let Some(flag) = self.rest.iter().find(|a| a.starts_with('-') && a.len() > 1) {
            return Err(UsageError(format!("unknown option `{flag}`")));
        }
        if self.rest.len() != count {
            return Err(UsageError(format!(
                "expected {count} argument(s), found {}",
                self.rest.len()
            )));
        }
        Ok(self.rest)
    }

    /// Nothing may be left.
    pub fn finish(self) -> Result<(), UsageError> {
        self.positionals(0).map(drop)
    }
}

/// Writes to stdout; a closed pipe (`| head`) is not an error worth a panic.
pub fn emit(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Writes to stderr, ignoring a closed stream.
pub fn emit_err(text: &str) {
    use std::io::Write as _;
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Output format of the reporting commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// For people.
    Text,
    /// For tools.
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Args {
        Args::new(list.iter().map(|s| s.to_string()))
    }

    #[test]
    fn flags_values_and_positionals() {
        let mut a = args(&["old.json", "--format=json", "--update", "new.json"]);
        assert!(a.flag("--update"));
        assert!(!a.flag("--update"));
        assert_eq!(a.format().unwrap(), Format::Json);
        assert_eq!(a.positionals(2).unwrap(), ["old.json", "new.json"]);

        let mut a = args(&["--from", "x", "--spec", "y"]);
        assert_eq!(a.value("--from").unwrap().as_deref(), Some("x"));
        assert_eq!(a.value("--spec").unwrap().as_deref(), Some("y"));
        a.finish().unwrap();
    }

    #[test]
    fn mistakes_are_reported() {
        assert_eq!(
            args(&["--from"]).value("--from").unwrap_err().0,
            "--from needs a value"
        );
        assert_eq!(
            args(&["--from=a", "--from", "b"])
                .value("--from")
                .unwrap_err()
                .0,
            "--from is given twice"
        );
        assert_eq!(
            args(&["--bogus"]).finish().unwrap_err().0,
            "unknown option `--bogus`"
        );
        assert_eq!(
            args(&["a"]).positionals(2).unwrap_err().0,
            "expected 2 argument(s), found 1"
        );
        assert_eq!(
            args(&["--format", "yaml"]).format().unwrap_err().0,
            "--format must be `text` or `json`, not `yaml`"
        );
    }
}
