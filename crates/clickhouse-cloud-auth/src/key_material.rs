//! Key material generated on this machine, and the hashes sent instead of it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

use crate::{Credentials, KeyId, KeySecret};

const ALPHANUMERIC: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// Length of a generated key ID.
const KEY_ID_LEN: usize = 20;
/// The service's secret prefix; scanners look for it.
const SECRET_PREFIX: &str = "4b1d";
/// Random characters after the prefix.
const SECRET_RANDOM_LEN: usize = 38;

/// A key ID and secret made locally from the OS random source.
///
/// Create the key with [`KeyMaterial::hash_data`] and the service never sees
/// the secret; keep [`KeyMaterial::credentials`] to use the key.
///
/// ```
/// use clickhouse_cloud_auth::{KeyMaterial, sha256_base64};
/// let material = KeyMaterial::generate();
/// let hashes = material.hash_data();
/// assert_eq!(hashes.key_id_suffix, material.key_id().suffix());
/// assert_eq!(hashes.key_secret_hash, sha256_base64(material.key_secret().expose()));
/// assert!(material.key_secret().has_service_format());
/// ```
#[derive(Debug, Clone)]
pub struct KeyMaterial {
    credentials: Credentials,
}

impl KeyMaterial {
    /// Draws a 20-character key ID and a `4b1d` + 38-character secret, both
    /// over `[A-Za-z0-9]`, from the operating system's random source.
    ///
    /// # Panics
    ///
    /// Only if the operating system cannot provide randomness at all, where no
    /// safe key can be made.
    pub fn generate() -> Self {
        let key_id = KeyId::new(random_alphanumeric(KEY_ID_LEN))
            .expect("generated key IDs are non-empty alphanumerics");
        let mut secret = String::with_capacity(SECRET_PREFIX.len() + SECRET_RANDOM_LEN);
        secret.push_str(SECRET_PREFIX);
        secret.push_str(&zeroize::Zeroizing::new(random_alphanumeric(
            SECRET_RANDOM_LEN,
        )));
        let key_secret = KeySecret::new(secret).expect("generated secrets are non-empty");
        Self {
            credentials: Credentials::new(key_id, key_secret),
        }
    }

    /// The generated key ID.
    pub fn key_id(&self) -> &KeyId {
        self.credentials.key_id()
    }

    /// The generated secret.
    pub fn key_secret(&self) -> &KeySecret {
        self.credentials.key_secret()
    }

    /// The pair, ready to sign requests once the key exists.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Consumes the material into its credentials.
    pub fn into_credentials(self) -> Credentials {
        self.credentials
    }

    /// The hashes to send as `hashData` when creating the key.
    pub fn hash_data(&self) -> HashData {
        HashData::for_credentials(&self.credentials)
    }
}

/// What `hashData` carries: `base64(sha256(..))` of the key ID and of the
/// secret, and the key ID's last four characters. None of it is secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashData {
    /// `base64(sha256(key ID))`.
    pub key_id_hash: String,
    /// Last four characters of the key ID.
    pub key_id_suffix: String,
    /// `base64(sha256(key secret))`.
    pub key_secret_hash: String,
}

impl HashData {
    /// Hashes an existing key ID and secret.
    pub fn for_credentials(credentials: &Credentials) -> Self {
        Self {
            key_id_hash: sha256_base64(credentials.key_id().as_str()),
            key_id_suffix: credentials.key_id().suffix().to_owned(),
            key_secret_hash: sha256_base64(credentials.key_secret().expose()),
        }
    }
}

/// `base64(sha256(value))` with the standard alphabet and padding: the hash
/// format of `hashData`, and what `echo -n value | sha256sum | xxd -r -p |
/// base64` prints.
///
/// ```
/// assert_eq!(
///     clickhouse_cloud_auth::sha256_base64("abc"),
///     "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
/// );
/// ```
pub fn sha256_base64(value: &str) -> String {
    STANDARD.encode(Sha256::digest(value.as_bytes()))
}

/// `len` characters drawn uniformly from [`ALPHANUMERIC`], by rejection
/// sampling over OS random bytes (no modulo bias).
fn random_alphanumeric(len: usize) -> String {
    // 248 = 4 * 62: bytes at or above it would bias the first characters.
    const LIMIT: u8 = 248;
    let mut out = String::with_capacity(len);
    let mut buf = zeroize::Zeroizing::new([0u8; 64]);
    while out.len() < len {
        getrandom::fill(&mut buf[..]).expect("the OS random source is available");
        for &byte in buf.iter().filter(|&&b| b < LIMIT) {
            if out.len() == len {
                break;
            }
            out.push(char::from(ALPHANUMERIC[usize::from(byte % 62)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_material_has_the_service_shapes() {
        let material = KeyMaterial::generate();
        let id = material.key_id().as_str();
        assert_eq!(id.len(), KEY_ID_LEN);
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert!(material.key_secret().has_service_format());
    }

    #[test]
    fn generated_material_differs_each_time() {
        let a = KeyMaterial::generate();
        let b = KeyMaterial::generate();
        assert_ne!(a.key_id(), b.key_id());
        assert_ne!(a.key_secret(), b.key_secret());
    }

    #[test]
    fn sha256_base64_matches_known_vectors() {
        // sha256("") and sha256("abc"), from FIPS 180-2, in base64.
        assert_eq!(
            sha256_base64(""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
        assert_eq!(
            sha256_base64("abc"),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
    }

    #[test]
    fn hash_data_hashes_id_and_secret() {
        let material = KeyMaterial::generate();
        let data = material.hash_data();
        assert_eq!(data.key_id_suffix.len(), 4);
        assert!(material.key_id().as_str().ends_with(&data.key_id_suffix));
        assert_eq!(data.key_id_hash, sha256_base64(material.key_id().as_str()));
        assert_ne!(data.key_secret_hash, data.key_id_hash);
        assert!(!format!("{data:?}").contains(material.key_secret().expose()));
        assert!(!format!("{material:?}").contains(material.key_secret().expose()));
    }

    #[test]
    fn characters_cover_the_whole_alphabet() {
        let sample: String = (0..40).map(|_| random_alphanumeric(100)).collect();
        for &c in ALPHANUMERIC {
            assert!(sample.as_bytes().contains(&c), "{} never drawn", c as char);
        }
    }
}
