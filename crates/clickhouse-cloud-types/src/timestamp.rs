//! The timestamp type of the wire, and decoding without going through
//! chrono's general parser.
//!
//! The service writes RFC 3339 in one shape, `YYYY-MM-DDTHH:MM:SS[.f]Z`.
//! [`parse`] reads that shape (and a `±HH:MM` offset) directly and hands
//! anything else to chrono, so it accepts exactly what chrono accepts and
//! gives the same instant.

use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, Utc};
use serde::de::{Error, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time on the wire: RFC 3339, read into UTC.
///
/// Derefs to [`chrono::DateTime<Utc>`]; converts from and into it.
///
/// ```
/// use clickhouse_cloud_types::Timestamp;
/// let t: Timestamp = "2030-01-02T03:04:05+01:00".parse()?;
/// assert_eq!(t.to_string(), "2030-01-02T02:04:05Z");
/// assert_eq!(serde_json::to_string(&t).unwrap(), r#""2030-01-02T02:04:05Z""#);
/// # Ok::<(), chrono::ParseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    /// The current time.
    pub fn now() -> Timestamp {
        Timestamp(Utc::now())
    }

    /// The `DateTime` inside.
    pub fn into_inner(self) -> DateTime<Utc> {
        self.0
    }
}

impl Deref for Timestamp {
    type Target = DateTime<Utc>;
    fn deref(&self) -> &DateTime<Utc> {
        &self.0
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(value: DateTime<Utc>) -> Self {
        Timestamp(value)
    }
}

impl From<Timestamp> for DateTime<Utc> {
    fn from(value: Timestamp) -> Self {
        value.0
    }
}

impl std::ops::Add<chrono::TimeDelta> for Timestamp {
    type Output = Timestamp;
    fn add(self, delta: chrono::TimeDelta) -> Timestamp {
        Timestamp(self.0 + delta)
    }
}

impl std::ops::Sub<chrono::TimeDelta> for Timestamp {
    type Output = Timestamp;
    fn sub(self, delta: chrono::TimeDelta) -> Timestamp {
        Timestamp(self.0 - delta)
    }
}

impl std::ops::Sub for Timestamp {
    type Output = chrono::TimeDelta;
    fn sub(self, other: Timestamp) -> chrono::TimeDelta {
        self.0 - other.0
    }
}

impl FromStr for Timestamp {
    type Err = chrono::ParseError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse(text)
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 with `Z`, as the service writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_str(OptionVisitor {
                blank_is_null: false,
            })?
            .ok_or_else(|| D::Error::custom("expected an RFC 3339 timestamp"))
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Timestamp {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Timestamp".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "format": "date-time" })
    }
}

/// Parses an RFC 3339 timestamp as chrono's `str::parse` does, faster.
pub(crate) fn parse(text: &str) -> Result<Timestamp, chrono::ParseError> {
    match parse_strict(text.as_bytes()) {
        Some(timestamp) => Ok(Timestamp(timestamp)),
        None => text.parse::<DateTime<Utc>>().map(Timestamp),
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` with one to nine fraction
/// digits and every field in range; `None` for anything else, including
/// what chrono may still accept (lower-case `t`, leap seconds, ...).
fn parse_strict(bytes: &[u8]) -> Option<DateTime<Utc>> {
    /// Where the digits of `YYYY-MM-DDTHH:MM:SS` are.
    const DIGITS: [usize; 14] = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
    let (head, rest) = bytes.split_first_chunk::<19>()?;
    if [head[4], head[7], head[10], head[13], head[16]] != *b"--T::" {
        return None;
    }
    let value = head.map(|b| b.wrapping_sub(b'0'));
    if DIGITS.iter().any(|&i| value[i] > 9) {
        return None;
    }
    let two = |i: usize| u32::from(value[i]) * 10 + u32::from(value[i + 1]);
    let year = i32::try_from(two(0) * 100 + two(2)).ok()?;
    let (month, day, hour, minute, second) = (two(5), two(8), two(11), two(14), two(17));
    if second > 59 {
        return None;
    }
    let (nanos, rest) = fraction(rest)?;
    let offset = match *rest {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (hours, minutes) = (digits([h1, h2])?, digits([m1, m2])?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            let seconds = i32::try_from(hours * 3600 + minutes * 60).ok()?;
            if sign == b'-' { -seconds } else { seconds }
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let local = NaiveDateTime::new(
        date,
        NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?,
    );
    if offset == 0 {
        return Some(local.and_utc());
    }
    Some(
        local
            .checked_sub_offset(FixedOffset::east_opt(offset)?)?
            .and_utc(),
    )
}

/// `.` and one to nine digits, as nanoseconds, or nothing (zero).
#[inline]
fn fraction(bytes: &[u8]) -> Option<(u32, &[u8])> {
    /// What `count` digits of fraction are multiplied by to make nanoseconds.
    const SCALE: [u32; 10] = [
        0,
        100_000_000,
        10_000_000,
        1_000_000,
        100_000,
        10_000,
        1_000,
        100,
        10,
        1,
    ];
    let Some((b'.', rest)) = bytes.split_first() else {
        return Some((0, bytes));
    };
    let count = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if !(1..=9).contains(&count) {
        return None;
    }
    let mut nanos = 0u32;
    for &digit in &rest[..count] {
        nanos = nanos * 10 + u32::from(digit - b'0');
    }
    Some((nanos * SCALE[count], &rest[count..]))
}

/// The value of N ASCII digits.
#[inline]
fn digits<const N: usize>(ascii: [u8; N]) -> Option<u32> {
    let mut value = 0;
    for byte in ascii {
        if !byte.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u32::from(byte - b'0');
    }
    Some(value)
}

/// Reads `null` or a timestamp string, borrowing the string from the input
/// when it can; with `blank_is_null`, a blank string is `None` too.
struct OptionVisitor {
    blank_is_null: bool,
}

impl<'de> Visitor<'de> for OptionVisitor {
    type Value = Option<Timestamp>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.blank_is_null {
            "an RFC 3339 timestamp, a blank string or null"
        } else {
            "an RFC 3339 timestamp or null"
        })
    }

    fn visit_none<E: Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }

    fn visit_str<E: Error>(self, text: &str) -> Result<Self::Value, E> {
        let text = if self.blank_is_null {
            text.trim()
        } else {
            text
        };
        if self.blank_is_null && text.is_empty() {
            return Ok(None);
        }
        parse(text).map(Some).map_err(E::custom)
    }
}

/// `deserialize_with` for an `Option<Timestamp>` the service may send as
/// `""` to mean "none" (it documents that for a key's `expireAt`). Unused
/// when no area that has such a field is compiled in.
#[allow(dead_code)]
pub(crate) fn blank_as_none<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Timestamp>, D::Error> {
    deserializer.deserialize_option(OptionVisitor {
        blank_is_null: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chrono(text: &str) -> Result<Timestamp, chrono::ParseError> {
        text.parse::<DateTime<Utc>>().map(Timestamp)
    }

    #[test]
    fn the_service_shape_takes_the_fast_path() {
        for text in [
            "2025-03-14T09:26:53Z",
            "2025-03-14T09:26:53.5Z",
            "2025-03-14T09:26:53.123456789Z",
            "2024-02-29T23:59:59+05:30",
            "0000-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-23:59",
            "2025-01-01T00:00:00-00:00",
        ] {
            let fast = parse_strict(text.as_bytes());
            assert!(fast.is_some(), "{text}");
            assert_eq!(fast.map(|t| Ok(Timestamp(t))), Some(chrono(text)), "{text}");
        }
    }

    #[test]
    fn everything_else_agrees_with_chrono() {
        for text in [
            "",
            "2025-03-14",
            "2025-03-14t09:26:53z",
            "2025-03-14 09:26:53 UTC",
            "2025-03-14T09:26:53",
            "2025-03-14T09:26:60Z",
            "2025-03-14T09:26:53.Z",
            "2025-03-14T09:26:53.1234567891Z",
            "2025-02-29T09:26:53Z",
            "2025-13-01T00:00:00Z",
            "2025-00-01T00:00:00Z",
            "2025-01-00T00:00:00Z",
            "2025-01-01T24:00:00Z",
            "2025-01-01T00:60:00Z",
            "2025-01-01T00:00:00+24:00",
            "2025-01-01T00:00:00+01:60",
            "2025-01-01T00:00:00+0100",
            "2025-01-01T00:00:00Z ",
            " 2025-01-01T00:00:00Z",
            "+12025-01-01T00:00:00Z",
            "2025-01-01T00:00:00ZZ",
            "2O25-01-01T00:00:00Z",
            "soon",
        ] {
            assert_eq!(parse(text), chrono(text), "{text:?}");
        }
    }

    #[test]
    fn decodes_through_serde() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Times {
            at: Option<Timestamp>,
            #[serde(default, deserialize_with = "blank_as_none")]
            expire: Option<Timestamp>,
        }
        let when: Timestamp = "2030-01-02T03:04:05Z".parse().unwrap();
        let decode = |wire: &str| serde_json::from_str::<Times>(wire);
        let times = decode(r#"{"at":"2030-01-02T03:04:05Z","expire":" "}"#).unwrap();
        assert_eq!(times.at, Some(when));
        assert_eq!(times.expire, None);
        let times = decode(r#"{"at":null,"expire":" 2030-01-02T03:04:05Z "}"#).unwrap();
        assert_eq!(times.at, None);
        assert_eq!(times.expire, Some(when));
        let times = decode(r#"{"expire":null}"#).unwrap();
        assert_eq!(times.expire, None);
        // An escaped string cannot be borrowed; it still decodes.
        let times = decode(r#"{"at":"2030-01-02T03:04:05\u005a"}"#).unwrap();
        assert_eq!(times.at, Some(when));
        for wrong in [
            r#"{"at":"soon"}"#,
            r#"{"at":5}"#,
            r#"{"at":""}"#,
            r#"{"expire":"x"}"#,
        ] {
            assert!(decode(wrong).is_err(), "{wrong}");
        }
    }

    #[test]
    fn writes_what_it_reads() {
        for text in ["2030-01-02T03:04:05Z", "2030-01-02T03:04:05.120Z"] {
            let t: Timestamp = text.parse().unwrap();
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
        }
        let t: Timestamp = "2030-01-02T03:04:05.5+02:00".parse().unwrap();
        assert_eq!(t.to_string(), "2030-01-02T01:04:05.500Z");
        assert_eq!(*t, t.into_inner());
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn chrono_parse(text: &str) -> Result<Timestamp, chrono::ParseError> {
        text.parse::<DateTime<Utc>>().map(Timestamp)
    }

    /// Strings in the strict shape and near it: every field drawn from a
    /// range a little wider than valid, separators sometimes swapped.
    fn near_rfc3339() -> impl Strategy<Value = String> {
        let separator = prop_oneof![8 => Just('T'), 1 => Just('t'), 1 => Just(' ')];
        let fraction = prop_oneof![
            2 => Just(String::new()),
            3 => "\\.[0-9]{1,9}",
            1 => "\\.[0-9]{0,12}",
        ];
        let zone = prop_oneof![
            4 => Just("Z".to_owned()),
            1 => Just("z".to_owned()),
            3 => (prop::sample::select(vec!['+', '-']), 0u32..26, 0u32..62)
                .prop_map(|(sign, h, m)| format!("{sign}{h:02}:{m:02}")),
            1 => "[+-][0-9]{4}",
            1 => ".{0,3}",
        ];
        (
            (0u32..10_000, 0u32..14, 0u32..33),
            separator,
            (0u32..26, 0u32..62, 0u32..62),
            fraction,
            zone,
        )
            .prop_map(|((y, mo, d), sep, (h, mi, s), fraction, zone)| {
                format!("{y:04}-{mo:02}-{d:02}{sep}{h:02}:{mi:02}:{s:02}{fraction}{zone}")
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        #[test]
        fn agrees_with_chrono_near_the_format(text in near_rfc3339()) {
            prop_assert_eq!(parse(&text), chrono_parse(&text));
        }

        #[test]
        fn agrees_with_chrono_on_any_string(text in "[0-9T:.Zz+ -]{0,40}|.{0,40}") {
            prop_assert_eq!(parse(&text), chrono_parse(&text));
        }

        #[test]
        fn reads_back_what_chrono_writes(
            time in (0i64..4_102_444_800, 0u32..1_000_000_000)
                .prop_map(|(secs, nanos)| DateTime::from_timestamp(secs, nanos).unwrap_or_default())
        ) {
            let written = time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
            prop_assert_eq!(parse_strict(written.as_bytes()), Some(time));
            let json = serde_json::to_string(&time).unwrap();
            prop_assert_eq!(parse_strict(json.trim_matches('"').as_bytes()), Some(time));
        }
    }
}
