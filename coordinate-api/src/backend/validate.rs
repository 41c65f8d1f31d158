//! Checks every backend applies to its inputs before touching the store.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::work_unit::NewWorkUnit;

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

/// Checks that a unit handed to `Worker::make_attempt` belongs to the
/// worker's namespace.
pub fn validate_unit_namespace(same_namespace: bool) -> Result<()> {
    if same_namespace {
        Ok(())
    } else {
        Err(Error::invalid(
            "work unit",
            "the unit belongs to another namespace",
        ))
    }
}

/// Checks that an attempt handed to a namespace's batch call belongs to
/// that namespace. Backends work out the fact from their own handles.
pub fn validate_attempt_namespace(same_namespace: bool) -> Result<()> {
    if same_namespace {
        Ok(())
    } else {
        Err(Error::invalid(
            "attempt",
            "it belongs to another namespace than the one completing it",
        ))
    }
}

/// Rejects names that are empty, hold a NUL character (PostgreSQL text
/// cannot store one) or are over [`MAX_NAME_BYTES`].
pub fn validate_name(what: &'static str, name: &str) -> Result<()> {
    if name.is_empty() {
        Err(Error::invalid(what, "must not be empty"))
    } else if name.contains('\0') {
        validate_text(what, name)
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

/// Rejects text holding a NUL character, which PostgreSQL text cannot
/// store (work spec `then` and `runtime`, a worker's mode, names).
pub fn validate_text(what: &'static str, text: &str) -> Result<()> {
    if text.contains('\0') {
        Err(Error::invalid(what, "must not contain a NUL character"))
    } else {
        Ok(())
    }
}

/// Longest work spec interval, in microseconds: PostgreSQL stores an
/// interval as a 64-bit count of them.
pub const MAX_INTERVAL_MICROS: u128 = i64::MAX as u128;

/// Rejects a work spec interval longer than [`MAX_INTERVAL_MICROS`].
pub fn validate_interval(interval: Duration) -> Result<()> {
    if interval.as_micros() > MAX_INTERVAL_MICROS {
        Err(Error::invalid("interval", "is too long"))
    } else {
        Ok(())
    }
}

/// Checks a batch for `WorkSpec::add_work_units` before anything is
/// written: every entry's name and priority, and `check` (the backend's
/// own checks, such as the data size limit), in the order given. Returns
/// the units to write: a name given twice keeps its last entry (as adding
/// the entries one by one would leave it), in name order.
pub fn validate_work_unit_batch(
    units: Vec<NewWorkUnit>,
    mut check: impl FnMut(&NewWorkUnit) -> Result<()>,
) -> Result<Vec<NewWorkUnit>> {
    for unit in &units {
        validate_name("work unit name", &unit.name)?;
        validate_priority("priority", unit.meta.priority)?;
        check(unit)?;
    }
    let mut last: BTreeMap<String, NewWorkUnit> = BTreeMap::new();
    for unit in units {
        last.insert(unit.name.clone(), unit);
    }
    Ok(last.into_values().collect())
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

/// 0001-01-01: before anything a clock stamps, and within PostgreSQL's
/// range (which ends at 4713 BC).
const MIN_TIMESTAMP_SECS: i64 = -62_135_596_800;

/// Rejects a time a caller hands in (a cutoff, say) outside the years 1
/// to 100000, which every backend can store and compare alike.
pub fn validate_time(what: &'static str, time: DateTime<Utc>) -> Result<()> {
    if (MIN_TIMESTAMP_SECS..MAX_TIMESTAMP_SECS).contains(&time.timestamp()) {
        Ok(())
    } else {
        Err(Error::invalid(
            what,
            format!("{time} is outside the years 1 to 100000"),
        ))
    }
}

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
    fn texts_and_intervals() {
        assert!(validate_text("mode", "").is_ok());
        assert!(matches!(
            validate_text("mode", "a\0"),
            Err(Error::InvalidInput { .. })
        ));
        assert!(validate_interval(Duration::from_micros(i64::MAX as u64)).is_ok());
        assert!(validate_interval(Duration::from_micros(i64::MAX as u64 + 1)).is_err());
        assert!(validate_interval(Duration::MAX).is_err());
    }

    fn unit(name: &str, priority: f64, tag: i128) -> NewWorkUnit {
        let mut data = crate::Data::new();
        data.insert("tag".into(), crate::Value::Integer(tag));
        NewWorkUnit {
            name: name.into(),
            data,
            meta: crate::WorkUnitMeta {
                priority,
                not_before: None,
            },
        }
    }

    #[test]
    fn batches_keep_the_last_entry_per_name_in_name_order() {
        let batch = vec![unit("b", 0.0, 1), unit("a", 0.0, 2), unit("b", 5.0, 3)];
        let kept = validate_work_unit_batch(batch, |_| Ok(())).unwrap();
        let shape: Vec<(&str, f64)> = kept
            .iter()
            .map(|u| (u.name.as_str(), u.meta.priority))
            .collect();
        assert_eq!(shape, [("a", 0.0), ("b", 5.0)]);
        assert_eq!(kept[1].data, unit("b", 5.0, 3).data);
        assert!(validate_work_unit_batch(Vec::new(), |_| Ok(()))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn batches_check_every_entry_before_dedup() {
        // A bad entry is refused even when a later one of its name wins.
        let bad_priority = vec![unit("a", f64::NAN, 1), unit("a", 0.0, 2)];
        assert!(validate_work_unit_batch(bad_priority, |_| Ok(())).is_err());
        assert!(validate_work_unit_batch(vec![unit("", 0.0, 1)], |_| Ok(())).is_err());
        let mut checked = Vec::new();
        let refused = validate_work_unit_batch(
            vec![unit("a", 0.0, 1), unit("b", 0.0, 2), unit("c", 0.0, 3)],
            |u| {
                checked.push(u.name.clone());
                if u.name == "b" {
                    Err(Error::invalid("data", "too big"))
                } else {
                    Ok(())
                }
            },
        );
        assert!(refused.is_err());
        assert_eq!(
            checked,
            ["a", "b"],
            "checks run in order and stop at the first"
        );
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

    #[test]
    fn times() {
        assert!(validate_time("t", Utc::now()).is_ok());
        assert!(validate_time("t", DateTime::<Utc>::MIN_UTC).is_err());
        assert!(validate_time("t", DateTime::<Utc>::MAX_UTC).is_err());
        let year_one = DateTime::from_timestamp(MIN_TIMESTAMP_SECS, 0).unwrap();
        assert_eq!(year_one.to_rfc3339(), "0001-01-01T00:00:00+00:00");
        assert!(validate_time("t", year_one).is_ok());
        assert!(validate_time("t", year_one - chrono::Duration::seconds(1)).is_err());
    }
}
