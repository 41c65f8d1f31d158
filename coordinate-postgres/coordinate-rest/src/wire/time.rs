//! Times and durations on the wire.
//!
//! Times are RFC 3339 text in UTC with as many fraction digits as they
//! need (`2026-12-03T06:00:00.123456Z`); go's zero time
//! (`0001-01-01T00:00:00Z`) and `null` both read as "no time", as go's
//! zero `time.Time` means none. Durations are integer nanoseconds, as
//! go's `time.Duration`; values past go's range (292 years) still travel
//! exactly, so that an absurd duration reaches the server and is refused
//! there as it would be by a backend.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serializer};

/// Go's zero `time.Time`, which go sends for "no time".
pub const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// RFC 3339 text of a time, in UTC, with 0, 3, 6 or 9 fraction digits.
pub fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Reads RFC 3339 text (any offset) as a UTC time.
pub fn parse_time(text: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    DateTime::parse_from_rfc3339(text).map(|time| time.with_timezone(&Utc))
}

fn is_go_zero(time: &DateTime<Utc>) -> bool {
    format_time(*time) == GO_ZERO_TIME
}

/// Serde form of a required time (`#[serde(with = "wire::time::required")]`).
pub mod required {
    use super::*;

    /// Writes the time as RFC 3339 text.
    pub fn serialize<S: Serializer>(
        time: &DateTime<Utc>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_time(*time))
    }

    /// Reads RFC 3339 text.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_time(&text).map_err(serde::de::Error::custom)
    }
}

/// Serde form of an optional time: `null` when absent; go's zero time
/// reads as absent (`#[serde(with = "wire::time::optional", default)]`).
pub mod optional {
    use super::*;

    /// Writes the time as RFC 3339 text, or `null`.
    pub fn serialize<S: Serializer>(
        time: &Option<DateTime<Utc>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match time {
            Some(time) => serializer.serialize_str(&format_time(*time)),
            None => serializer.serialize_none(),
        }
    }

    /// Reads RFC 3339 text or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            None => Ok(None),
            Some(text) => {
                let time = parse_time(&text).map_err(serde::de::Error::custom)?;
                Ok((!is_go_zero(&time)).then_some(time))
            }
        }
    }
}

/// Serde form of a duration as integer nanoseconds
/// (`#[serde(with = "wire::time::nanos")]`). Negative values, which go
/// can send, read as zero.
pub mod nanos {
    use super::*;

    /// Writes whole nanoseconds.
    pub fn serialize<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        let nanos = duration.as_nanos();
        match u64::try_from(nanos) {
            Ok(small) => serializer.serialize_u64(small),
            Err(_) => serializer.serialize_u128(nanos),
        }
    }

    /// Reads integer nanoseconds.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let nanos = i128::deserialize(deserializer)?;
        let nanos = u128::try_from(nanos).unwrap_or(0);
        let seconds = u64::try_from(nanos / 1_000_000_000)
            .map_err(|_| serde::de::Error::custom("duration is longer than u64 seconds"))?;
        Ok(Duration::new(seconds, (nanos % 1_000_000_000) as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde::Serialize;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Sample {
        #[serde(with = "required")]
        at: DateTime<Utc>,
        #[serde(with = "optional", default)]
        maybe: Option<DateTime<Utc>>,
        #[serde(with = "nanos")]
        span: Duration,
    }

    #[test]
    fn times_keep_their_nanoseconds_and_go_zero_is_none() {
        let at = Utc.with_ymd_and_hms(2026, 12, 3, 6, 0, 0).unwrap()
            + chrono::Duration::nanoseconds(123_456_000);
        let sample = Sample {
            at,
            maybe: None,
            span: Duration::from_millis(1500),
        };
        let text = serde_json::to_string(&sample).unwrap();
        assert_eq!(
            text,
            r#"{"at":"2026-12-03T06:00:00.123456Z","maybe":null,"span":1500000000}"#
        );
        assert_eq!(serde_json::from_str::<Sample>(&text).unwrap(), sample);
        let go: Sample = serde_json::from_str(
            r#"{"at":"2026-12-03T07:00:00.123456789+01:00","maybe":"0001-01-01T00:00:00Z","span":-5}"#,
        )
        .unwrap();
        assert_eq!(go.at, at + chrono::Duration::nanoseconds(789));
        assert_eq!(go.maybe, None);
        assert_eq!(go.span, Duration::ZERO);
        let absent: Sample =
            serde_json::from_str(r#"{"at":"2026-12-03T06:00:00Z","span":0}"#).unwrap();
        assert_eq!(absent.maybe, None);
    }

    #[test]
    fn absurd_durations_travel_exactly() {
        let sample = Sample {
            at: Utc.timestamp_opt(0, 0).unwrap(),
            maybe: Some(Utc.timestamp_opt(1, 1).unwrap()),
            span: Duration::MAX,
        };
        let text = serde_json::to_string(&sample).unwrap();
        assert!(text.contains("18446744073709551615999999999"), "{text}");
        assert_eq!(serde_json::from_str::<Sample>(&text).unwrap(), sample);
    }
}
