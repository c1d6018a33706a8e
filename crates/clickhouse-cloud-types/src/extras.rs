//! Hand-written conveniences on generated types, each compiled with the
//! areas that compile its type.

#[cfg(any(feature = "api-keys", feature = "services"))]
use crate::IpAccessListEntry;

#[cfg(any(feature = "api-keys", feature = "services"))]
impl IpAccessListEntry {
    /// An entry for `source` (an IP address or CIDR) with no description.
    ///
    /// ```
    /// use clickhouse_cloud_types::IpAccessListEntry;
    /// let entry = IpAccessListEntry::new("203.0.113.0/24");
    /// assert_eq!(serde_json::to_string(&entry)?, r#"{"source":"203.0.113.0/24"}"#);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn new(source: impl Into<String>) -> Self {
        Self {
            source: Some(source.into()),
            description: None,
        }
    }
}

#[cfg(feature = "api-keys")]
impl crate::ApiKey {
    /// When the key stops working; `None` for a key that never expires.
    pub fn expires(&self) -> Option<&crate::Timestamp> {
        self.expire_at.as_ref()
    }
}
