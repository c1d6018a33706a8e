//! What every decoding target checks.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Decodes `data` as `T`; when that works, the value must survive its own
/// encoding unchanged.
pub fn decode_round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<T>(data) else {
        return;
    };
    let encoded = serde_json::to_vec(&value).expect("a decoded value encodes");
    let again: T = serde_json::from_slice(&encoded).expect("an encoded value decodes");
    assert_eq!(value, again);
}
