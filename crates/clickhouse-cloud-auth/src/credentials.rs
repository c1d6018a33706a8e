//! Key IDs, key secrets and the pair of them.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretString};

/// Environment variable holding the key ID (the name the Terraform provider uses).
pub const ENV_KEY_ID: &str = "CLICKHOUSE_CLOUD_API_KEY";
/// Environment variable holding the key secret.
pub const ENV_KEY_SECRET: &str = "CLICKHOUSE_CLOUD_API_SECRET";

/// Why credentials could not be built.
///
/// No variant ever carries the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// An environment variable is unset or empty.
    #[error("environment variable {var} is not set (or is empty)")]
    MissingEnv {
        /// The variable that was looked up.
        var: &'static str,
    },
    /// A key ID is empty or contains a character Basic auth cannot carry.
    #[error("invalid key ID: {reason}")]
    InvalidKeyId {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A key secret is empty.
    #[error("invalid key secret: {reason}")]
    InvalidKeySecret {
        /// What is wrong with it (never the secret).
        reason: &'static str,
    },
    /// A role name is neither a legacy role nor a UUID.
    #[error("unknown role {0:?}: expected admin, developer, query_endpoints or a role UUID")]
    UnknownRole(String),
}

/// The public half of an API key: the user name of Basic auth.
///
/// Not secret, so it prints normally; [`KeyId::suffix`] gives the last four
/// characters the console shows.
///
/// ```
/// use clickhouse_cloud_auth::KeyId;
/// let id = KeyId::new("abcdEFGH1234ijklMNOP")?;
/// assert_eq!(id.suffix(), "MNOP");
/// # Ok::<(), clickhouse_cloud_auth::AuthError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(String);

impl KeyId {
    /// Checks and wraps a key ID. It must be non-empty and free of `:` and
    /// control characters (Basic auth separates user and password by `:`).
    pub fn new(id: impl Into<String>) -> Result<Self, AuthError> {
        let id = id.into();
        if id.is_empty() {
            return Err(AuthError::InvalidKeyId { reason: "empty" });
        }
        if id.contains(':') {
            return Err(AuthError::InvalidKeyId {
                reason: "contains ':'",
            });
        }
        if id.chars().any(char::is_control) {
            return Err(AuthError::InvalidKeyId {
                reason: "contains a control character",
            });
        }
        Ok(Self(id))
    }

    /// The key ID as sent on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last four characters (the whole ID when shorter): what the API
    /// returns as `keySuffix`.
    pub fn suffix(&self) -> &str {
        let start = self
            .0
            .char_indices()
            .rev()
            .nth(3)
            .map_or(0, |(index, _)| index);
        &self.0[start..]
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("KeyId").field(&self.0).finish()
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The secret half of an API key.
///
/// Held in zeroizing memory, redacted in `Debug`, with no `Display` and no
/// `Serialize`: the only way to read it is [`KeySecret::expose`].
///
/// ```
/// use clickhouse_cloud_auth::KeySecret;
/// let secret = KeySecret::new(String::from("not-a-real-secret"))?;
/// assert_eq!(format!("{secret:?}"), "KeySecret([redacted])");
/// assert_eq!(secret.expose(), "not-a-real-secret");
/// # Ok::<(), clickhouse_cloud_auth::AuthError>(())
/// ```
#[derive(Clone)]
pub struct KeySecret(SecretString);

impl KeySecret {
    /// Wraps a secret. It must be non-empty.
    pub fn new(secret: String) -> Result<Self, AuthError> {
        if secret.is_empty() {
            return Err(AuthError::InvalidKeySecret { reason: "empty" });
        }
        Ok(Self(SecretString::from(secret)))
    }

    /// The secret itself. Keep what you do with it short-lived.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Whether the secret has the shape the service issues: `4b1d` followed by
    /// 38 characters of `[A-Za-z0-9]` (the pattern secret scanners look for).
    pub fn has_service_format(&self) -> bool {
        let s = self.expose();
        s.len() == 42 && s.starts_with("4b1d") && s[4..].bytes().all(|b| b.is_ascii_alphanumeric())
    }
}

impl fmt::Debug for KeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeySecret([redacted])")
    }
}

impl PartialEq for KeySecret {
    fn eq(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq as _;
        bool::from(self.expose().as_bytes().ct_eq(other.expose().as_bytes()))
    }
}

impl Eq for KeySecret {}

/// A key ID and its secret: what every request is signed with.
///
/// ```
/// use clickhouse_cloud_auth::{Credentials, KeyId, KeySecret};
/// let creds = Credentials::new(
///     KeyId::new("my-key-id")?,
///     KeySecret::new(String::from("my-secret"))?,
/// );
/// assert!(!format!("{creds:?}").contains("my-secret"));
/// assert_eq!(creds.authorization().expose(), "Basic bXkta2V5LWlkOm15LXNlY3JldA==");
/// # Ok::<(), clickhouse_cloud_auth::AuthError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    key_id: KeyId,
    key_secret: KeySecret,
}

impl Credentials {
    /// Pairs a key ID with its secret.
    pub fn new(key_id: KeyId, key_secret: KeySecret) -> Self {
        Self { key_id, key_secret }
    }

    /// Reads [`ENV_KEY_ID`] and [`ENV_KEY_SECRET`]. Empty values count as
    /// unset; the error names the first missing variable.
    ///
    /// ```no_run
    /// let creds = clickhouse_cloud_auth::Credentials::from_env()?;
    /// println!("using key ...{}", creds.key_id().suffix());
    /// # Ok::<(), clickhouse_cloud_auth::AuthError>(())
    /// ```
    pub fn from_env() -> Result<Self, AuthError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`Credentials::from_env`], reading variables through `lookup`
    /// (a profile file, a test map, ...).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, AuthError> {
        let read = |var: &'static str| {
            lookup(var)
                .filter(|value| !value.is_empty())
                .ok_or(AuthError::MissingEnv { var })
        };
        let key_id = KeyId::new(read(ENV_KEY_ID)?)?;
        let key_secret = KeySecret::new(read(ENV_KEY_SECRET)?)?;
        Ok(Self { key_id, key_secret })
    }

    /// The key ID.
    pub fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    /// The key secret.
    pub fn key_secret(&self) -> &KeySecret {
        &self.key_secret
    }

    /// The `Authorization` header value: `Basic base64(keyId:keySecret)`.
    pub fn authorization(&self) -> AuthorizationHeader {
        let mut plain = zeroize::Zeroizing::new(String::with_capacity(
            self.key_id.0.len() + 1 + self.key_secret.expose().len(),
        ));
        plain.push_str(&self.key_id.0);
        plain.push(':');
        plain.push_str(self.key_secret.expose());
        let mut value = String::from("Basic ");
        STANDARD.encode_string(plain.as_bytes(), &mut value);
        AuthorizationHeader(SecretString::from(value))
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("key_id", &self.key_id)
            .field("key_secret", &self.key_secret)
            .finish()
    }
}

/// A ready `Authorization` header value. It encodes the secret, so it is
/// redacted in `Debug`; a transport should also mark the header sensitive.
#[derive(Clone)]
pub struct AuthorizationHeader(SecretString);

impl AuthorizationHeader {
    /// The header value, e.g. `Basic a2V5OnNlY3JldA==`.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Decodes a `Basic` header value back into credentials (what a server
    /// does). `None` when it is not well-formed Basic auth.
    ///
    /// ```
    /// use clickhouse_cloud_auth::{AuthorizationHeader, Credentials, KeyId, KeySecret};
    /// let creds = Credentials::new(KeyId::new("id")?, KeySecret::new("s".into())?);
    /// let back = AuthorizationHeader::parse(creds.authorization().expose()).unwrap();
    /// assert_eq!(back, creds);
    /// # Ok::<(), clickhouse_cloud_auth::AuthError>(())
    /// ```
    pub fn parse(value: &str) -> Option<Credentials> {
        let (scheme, encoded) = value.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = zeroize::Zeroizing::new(STANDARD.decode(encoded.trim()).ok()?);
        let text = std::str::from_utf8(&decoded).ok()?;
        let (id, secret) = text.split_once(':')?;
        Some(Credentials::new(
            KeyId::new(id).ok()?,
            KeySecret::new(secret.to_owned()).ok()?,
        ))
    }
}

impl fmt::Debug for AuthorizationHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthorizationHeader(Basic [redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn runtime_secret() -> String {
        crate::KeyMaterial::generate()
            .key_secret()
            .expose()
            .to_owned()
    }

    #[test]
    fn suffix_is_last_four_characters() {
        assert_eq!(KeyId::new("abcdefgh").unwrap().suffix(), "efgh");
        assert_eq!(KeyId::new("abc").unwrap().suffix(), "abc");
        assert_eq!(KeyId::new("ääääb").unwrap().suffix(), "äääb");
    }

    #[test]
    fn key_id_rejects_colon_and_empty() {
        assert!(KeyId::new("").is_err());
        assert!(KeyId::new("a:b").is_err());
        assert!(KeyId::new("a\nb").is_err());
    }

    #[test]
    fn from_env_reads_both_and_names_the_missing_one() {
        let secret = runtime_secret();
        let creds =
            Credentials::from_lookup(lookup(&[(ENV_KEY_ID, "id1"), (ENV_KEY_SECRET, &secret)]))
                .unwrap();
        assert_eq!(creds.key_id().as_str(), "id1");
        assert_eq!(creds.key_secret().expose(), secret);

        let err = Credentials::from_lookup(lookup(&[(ENV_KEY_SECRET, &secret)])).unwrap_err();
        assert_eq!(err, AuthError::MissingEnv { var: ENV_KEY_ID });
        assert!(err.to_string().contains("CLICKHOUSE_CLOUD_API_KEY"));

        let err = Credentials::from_lookup(lookup(&[(ENV_KEY_ID, "id1"), (ENV_KEY_SECRET, "")]))
            .unwrap_err();
        assert_eq!(
            err,
            AuthError::MissingEnv {
                var: ENV_KEY_SECRET
            }
        );
        assert!(!err.to_string().contains(&secret));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let secret = runtime_secret();
        let creds = Credentials::new(
            KeyId::new("id1").unwrap(),
            KeySecret::new(secret.clone()).unwrap(),
        );
        let header = creds.authorization();
        for text in [
            format!("{creds:?}"),
            format!("{creds:#?}"),
            format!("{:?}", creds.key_secret()),
            format!("{header:?}"),
        ] {
            assert!(!text.contains(&secret), "{text}");
            assert!(!text.contains(header.expose()), "{text}");
        }
        assert_eq!(
            format!("{creds:?}"),
            r#"Credentials { key_id: KeyId("id1"), key_secret: KeySecret([redacted]) }"#
        );
    }

    #[test]
    fn basic_header_round_trips() {
        let secret = runtime_secret();
        let creds = Credentials::new(KeyId::new("id1").unwrap(), KeySecret::new(secret).unwrap());
        let header = creds.authorization();
        assert!(header.expose().starts_with("Basic "));
        assert_eq!(AuthorizationHeader::parse(header.expose()), Some(creds));
        assert_eq!(AuthorizationHeader::parse("Bearer abc"), None);
        assert_eq!(AuthorizationHeader::parse("Basic !!!"), None);
        assert_eq!(AuthorizationHeader::parse("Basic bm9jb2xvbg=="), None);
    }

    #[test]
    fn service_format_is_recognised() {
        assert!(
            crate::KeyMaterial::generate()
                .key_secret()
                .has_service_format()
        );
        assert!(!KeySecret::new("short".into()).unwrap().has_service_format());
    }
}
