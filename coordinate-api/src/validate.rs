//! Checks every backend applies to its inputs before touching the store.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};

/// Longest name accepted for namespaces, work specs, work units and workers,
/// in bytes. PostgreSQL's B-tree indexes refuse entries over about 2,700
/// bytes, and every name is indexed; one limit for every backend keeps the
/// memory backend from accepting what production would refuse.
pub const MAX_NAME_BYTES: usize = 2048;

/// Checks a worker's proposed parent: it must be another worker of the
/// same namespace. Backends work out the two facts from their own handles.
pub fn validate_parent(same_namespace: bool, same_worker: bool) -> Result<()> {
    if !same_namespace {
        Err(Error::invalid(
            "parent",
            "the worker belongs to another namespace",
        ))
    } else if same_worker {
        Err(Error::invalid(
            "parent",
            "a worker cannot be its own parent",
        ))
    } else {
        Ok(())
    }
}

/// Rejects names that are empty, hold a NUL character (PostgreSQL text
/// cannot store one) or are over [`MAX_NAME_BYTES`].
pub fn validate_name(what: &'static str, name: &str) -> Result<()> {
    if name.is_empty() {
        Err(Error::invalid(what, "must not be empty"))
    } else if name.contains('\0') {
        Err(Error::invalid(what, "must not contain a NUL character"))
    } else if name.len() > MAX_NAME_BYTES {
        Err(Error::invalid(
            what,
            format!(
                "is {} bytes long, the limit is {MAX_NAME_BYTES}",
                name.len()
            ),
        ))
    } else {
        Ok(())
    }
}

/// Rejects NaN and infinite priorities.
pub fn validate_priority(what: &'static str, priority: f64) -> Result<()> {
    if priority.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(
            what,
            format!("{priority} is not a finite number"),
        ))
    }
}

/// `time + duration`, or [`Error::InvalidInput`] when that is past the
/// largest representable time.
pub fn add_duration(
    what: &'static str,
    time: DateTime<Utc>,
    duration: Duration,
) -> Result<DateTime<Utc>> {
    chrono::Duration::from_std(duration)
        .ok()
        .and_then(|d| time.checked_add_signed(d))
        .filter(|t| t.timestamp() < MAX_TIMESTAMP_SECS)
        .ok_or_else(|| Error::invalid(what, format!("{duration:?} is too long")))
}

/// Year 100000: far beyond any sensible lease, and within PostgreSQL's range.
const MAX_TIMESTAMP_SECS: i64 = 3_093_527_980_800;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents() {
        assert!(validate_parent(true, false).is_ok());
        assert!(matches!(
            validate_parent(false, false),
            Err(Error::InvalidInput { .. })
        ));
        assert!(matches!(
            validate_parent(true, true),
            Err(Error::InvalidInput { .. })
        ));
    }

    #[test]
    fn names() {
        assert!(validate_name("n", "ok; DROP TABLE x; --'\"").is_ok());
        assert!(validate_name("n", "").is_err());
        assert!(validate_name("n", "a\0").is_err());
        assert!(validate_name("n", &"x".repeat(MAX_NAME_BYTES + 1)).is_err());
    }

    #[test]
    fn priorities() {
        assert!(validate_priority("p", -1e300).is_ok());
        assert!(validate_priority("p", f64::NAN).is_err());
        assert!(validate_priority("p", f64::INFINITY).is_err());
    }

    #[test]
    fn durations() {
        let now = Utc::now();
        assert_eq!(
            add_duration("d", now, Duration::from_secs(60)).unwrap() - now,
            chrono::Duration::seconds(60)
        );
        assert!(add_duration("d", now, Duration::MAX).is_err());
        assert!(add_duration("d", now, Duration::from_secs(u64::MAX / 4)).is_err());
    }
}
