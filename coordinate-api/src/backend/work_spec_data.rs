//! Reading a work spec definition into its name and [`WorkSpecMeta`].

use std::time::Duration;

use crate::backend::validate::{validate_name, validate_text};
use crate::data::{as_f64, Data, Value};
use crate::error::{Error, Result};
use crate::meta::{WorkSpecMeta, DEFAULT_WEIGHT};

/// Extracts the name and scheduling metadata from a work spec definition.
///
/// Keys: `name` (required text), `priority`, `weight` (else 20 − `nice`,
/// never below 1), `disabled`, `continuous`, `interval` (seconds), `min_gb`,
/// `max_running`, `max_getwork`, `max_retries`, `then`, `runtime`. A key of
/// the wrong type is ignored as if absent.
///
/// Errors: [`Error::NoWorkSpecName`] without a `name` (or with an empty
/// one), [`Error::BadWorkSpecName`] when it is not text,
/// [`Error::InvalidInput`] when the name, `then` or `runtime` holds a NUL
/// character (no backend could store it).
pub fn extract_work_spec_meta(data: &Data) -> Result<(String, WorkSpecMeta)> {
    let name = match data.get("name") {
        None => return Err(Error::NoWorkSpecName),
        Some(Value::Text(name)) if name.is_empty() => return Err(Error::NoWorkSpecName),
        Some(Value::Text(name)) => name.clone(),
        Some(_) => return Err(Error::BadWorkSpecName),
    };
    validate_name("work spec name", &name)?;

    let int = |key: &str| data.get(key).and_then(as_f64).map(saturating_i32);
    let boolean = |key: &str| matches!(data.get(key), Some(Value::Bool(true)));
    let text = |key: &str| match data.get(key) {
        Some(Value::Text(text)) => text.clone(),
        _ => String::new(),
    };

    let weight = match int("weight").filter(|w| *w != 0) {
        Some(weight) => weight,
        None => DEFAULT_WEIGHT.saturating_sub(int("nice").unwrap_or(0)),
    }
    .max(1);
    let interval = data
        .get("interval")
        .and_then(as_f64)
        .filter(|s| s.is_finite() && *s > 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .unwrap_or(Duration::ZERO);
    let continuous = boolean("continuous");

    let meta = WorkSpecMeta {
        priority: int("priority").unwrap_or(0),
        weight,
        paused: boolean("disabled"),
        continuous,
        can_be_continuous: continuous,
        min_memory_gb: data
            .get("min_gb")
            .and_then(as_f64)
            .filter(|g| g.is_finite())
            .unwrap_or(0.0),
        interval,
        next_continuous: None,
        max_running: int("max_running").unwrap_or(0).max(0),
        max_attempts_returned: int("max_getwork").unwrap_or(0).max(0),
        max_retries: int("max_retries").unwrap_or(0).max(0),
        next_work_spec_name: text("then"),
        available_count: 0,
        pending_count: 0,
        runtime: text("runtime"),
    };
    validate_text("then", &meta.next_work_spec_name)?;
    validate_text("runtime", &meta.runtime)?;
    Ok((name, meta))
}

fn saturating_i32(value: f64) -> i32 {
    // `as` saturates at the bounds and maps NaN to 0, which is what we want.
    value as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(pairs: &[(&str, Value)]) -> Data {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn defaults() {
        let (name, meta) = extract_work_spec_meta(&spec(&[("name", text("s"))])).unwrap();
        assert_eq!(name, "s");
        assert_eq!(meta, WorkSpecMeta::default());
    }

    #[test]
    fn every_key() {
        let data = spec(&[
            ("name", text("s")),
            ("priority", Value::Integer(7)),
            ("weight", Value::Integer(3)),
            ("disabled", Value::Bool(true)),
            ("continuous", Value::Bool(true)),
            ("interval", Value::Float(1.5)),
            ("min_gb", Value::Integer(2)),
            ("max_running", Value::Integer(4)),
            ("max_getwork", Value::Integer(5)),
            ("max_retries", Value::Integer(6)),
            ("then", text("next")),
            ("runtime", text("python_2")),
        ]);
        let (_, meta) = extract_work_spec_meta(&data).unwrap();
        assert_eq!(meta.priority, 7);
        assert_eq!(meta.weight, 3);
        assert!(meta.paused && meta.continuous && meta.can_be_continuous);
        assert_eq!(meta.interval, Duration::from_millis(1500));
        assert_eq!(meta.min_memory_gb, 2.0);
        assert_eq!(meta.max_running, 4);
        assert_eq!(meta.max_attempts_returned, 5);
        assert_eq!(meta.max_retries, 6);
        assert_eq!(meta.next_work_spec_name, "next");
        assert_eq!(meta.runtime, "python_2");
    }

    #[test]
    fn weight_comes_from_nice_and_never_drops_below_one() {
        let weight = |pairs: &[(&str, Value)]| {
            let mut data = spec(pairs);
            data.insert("name".into(), text("s"));
            extract_work_spec_meta(&data).unwrap().1.weight
        };
        assert_eq!(weight(&[("nice", Value::Integer(5))]), 15);
        assert_eq!(weight(&[("nice", Value::Integer(50))]), 1);
        assert_eq!(weight(&[("weight", Value::Integer(-3))]), 1);
        assert_eq!(
            weight(&[("weight", Value::Integer(9)), ("nice", Value::Integer(5))]),
            9
        );
    }

    #[test]
    fn wrong_types_are_ignored() {
        let data = spec(&[
            ("name", text("s")),
            ("priority", text("high")),
            ("weight", Value::Bool(true)),
            ("disabled", Value::Integer(1)),
            ("continuous", text("yes")),
            ("interval", text("60")),
            ("max_running", Value::Null),
            ("then", Value::Integer(3)),
            ("runtime", Value::Array(vec![])),
        ]);
        let (_, meta) = extract_work_spec_meta(&data).unwrap();
        assert_eq!(meta, WorkSpecMeta::default());
    }

    #[test]
    fn name_errors() {
        assert!(matches!(
            extract_work_spec_meta(&spec(&[])),
            Err(Error::NoWorkSpecName)
        ));
        assert!(matches!(
            extract_work_spec_meta(&spec(&[("name", text(""))])),
            Err(Error::NoWorkSpecName)
        ));
        assert!(matches!(
            extract_work_spec_meta(&spec(&[("name", Value::Integer(1))])),
            Err(Error::BadWorkSpecName)
        ));
        assert!(matches!(
            extract_work_spec_meta(&spec(&[("name", Value::Bytes(b"s".to_vec()))])),
            Err(Error::BadWorkSpecName)
        ));
        assert!(matches!(
            extract_work_spec_meta(&spec(&[("name", text("a\0b"))])),
            Err(Error::InvalidInput { .. })
        ));
        for key in ["then", "runtime"] {
            assert!(matches!(
                extract_work_spec_meta(&spec(&[("name", text("s")), (key, text("x\0"))])),
                Err(Error::InvalidInput { .. })
            ));
        }
    }
}
