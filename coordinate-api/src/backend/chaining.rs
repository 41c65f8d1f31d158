//! Turning a finished attempt's `output` into units of the next work spec.
//!
//! `output` may be:
//! - a map of unit name to unit data;
//! - a list of names (text or UTF-8 bytes), each becoming a unit with empty
//!   data;
//! - a list of `[name, data, meta?, priority?]` items (arrays or tuples),
//!   where `meta` may hold `priority` and `delay` (seconds) and a non-null
//!   `priority` item overrides the meta's priority.
//!
//! Items that fit none of these shapes are skipped.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::backend::validate::{add_duration, validate_name, validate_priority};
use crate::data::{as_data, as_f64, as_list, as_name, Data, Value};
use crate::meta::WorkUnitMeta;
use crate::work_unit::NewWorkUnit;

/// Reads `output` into the units it asks for, in name order. When a name
/// appears twice, the later item wins.
pub fn extract_output(output: &Value, now: DateTime<Utc>) -> Vec<NewWorkUnit> {
    let mut units = BTreeMap::new();
    let mut keep = |unit: Option<NewWorkUnit>| {
        if let Some(unit) = unit.filter(|u| validate_name("work unit name", &u.name).is_ok()) {
            units.insert(unit.name.clone(), unit);
        }
    };
    if let Value::Map(map) = output {
        for (name, data) in map {
            keep(
                as_name(name)
                    .zip(as_data(data))
                    .map(|(name, data)| NewWorkUnit {
                        name,
                        data,
                        meta: WorkUnitMeta::default(),
                    }),
            );
        }
    } else if let Some(items) = as_list(output) {
        for item in items {
            keep(extract_item(item, now));
        }
    }
    units.into_values().collect()
}

fn extract_item(item: &Value, now: DateTime<Utc>) -> Option<NewWorkUnit> {
    if let Some(name) = as_name(item) {
        return Some(NewWorkUnit {
            name,
            data: Data::new(),
            meta: WorkUnitMeta::default(),
        });
    }
    let parts = as_list(item)?;
    let (name, data) = match parts {
        [name, data, ..] => (as_name(name)?, data),
        _ => return None,
    };
    let data = match data {
        Value::Null => Data::new(),
        other => as_data(other)?,
    };
    let mut meta = WorkUnitMeta::default();
    match parts.get(2) {
        None | Some(Value::Null) => {}
        Some(Value::Map(_)) => {
            let fields = as_data(&parts[2])?;
            if let Some(priority) = fields.get("priority") {
                meta.priority = as_f64(priority)?;
            }
            if let Some(delay) = fields.get("delay") {
                let seconds = as_f64(delay)?;
                if seconds > 0.0 {
                    let delay = Duration::try_from_secs_f64(seconds).ok()?;
                    meta.not_before = Some(add_duration("delay", now, delay).ok()?);
                }
            }
        }
        Some(_) => return None,
    }
    match parts.get(3) {
        None | Some(Value::Null) => {}
        Some(priority) => meta.priority = as_f64(priority)?,
    }
    validate_priority("priority", meta.priority).ok()?;
    Some(NewWorkUnit { name, data, meta })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::TAG_TUPLE;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap()
    }

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    fn map(pairs: &[(&str, Value)]) -> Value {
        Value::Map(pairs.iter().map(|(k, v)| (text(k), v.clone())).collect())
    }

    fn names(units: &[NewWorkUnit]) -> Vec<&str> {
        units.iter().map(|u| u.name.as_str()).collect()
    }

    #[test]
    fn map_of_name_to_data() {
        let output = map(&[("b", map(&[("k", Value::Integer(1))])), ("a", map(&[]))]);
        let units = extract_output(&output, now());
        assert_eq!(names(&units), ["a", "b"]);
        assert_eq!(units[1].data["k"], Value::Integer(1));
    }

    #[test]
    fn list_of_names_text_or_bytes() {
        let output = Value::Array(vec![text("a"), Value::Bytes(b"b".to_vec())]);
        let units = extract_output(&output, now());
        assert_eq!(names(&units), ["a", "b"]);
        assert!(units.iter().all(|u| u.data.is_empty()));
    }

    #[test]
    fn full_items_with_meta_priority_and_delay() {
        let output = Value::Array(vec![
            Value::Array(vec![text("plain"), map(&[("x", Value::Integer(1))])]),
            Value::Array(vec![
                text("meta"),
                map(&[]),
                map(&[
                    ("priority", Value::Integer(3)),
                    ("delay", Value::Integer(90)),
                ]),
            ]),
            Value::Array(vec![
                Value::Bytes(b"override".to_vec()),
                map(&[]),
                map(&[("priority", Value::Integer(3))]),
                Value::Float(7.5),
            ]),
            Value::Tag(
                TAG_TUPLE,
                Box::new(Value::Array(vec![
                    text("tuple"),
                    map(&[]),
                    Value::Null,
                    Value::Null,
                ])),
            ),
        ]);
        let units = extract_output(&output, now());
        assert_eq!(names(&units), ["meta", "override", "plain", "tuple"]);
        assert_eq!(units[0].meta.priority, 3.0);
        assert_eq!(
            units[0].meta.not_before,
            Some(now() + chrono::Duration::seconds(90))
        );
        assert_eq!(units[1].meta.priority, 7.5);
        assert_eq!(units[2].data["x"], Value::Integer(1));
        assert_eq!(units[3].meta, WorkUnitMeta::default());
    }

    #[test]
    fn tuple_output_is_a_list() {
        let output = Value::Tag(TAG_TUPLE, Box::new(Value::Array(vec![text("a")])));
        assert_eq!(names(&extract_output(&output, now())), ["a"]);
    }

    #[test]
    fn bad_items_are_skipped() {
        let output = Value::Array(vec![
            Value::Integer(1),
            Value::Array(vec![text("too short")]),
            Value::Array(vec![Value::Integer(5), map(&[])]),
            Value::Array(vec![text("bad data"), Value::Integer(5)]),
            Value::Array(vec![text("bad meta"), map(&[]), text("m")]),
            Value::Array(vec![text("bad priority"), map(&[]), Value::Null, text("p")]),
            Value::Array(vec![
                text("nan"),
                map(&[]),
                Value::Null,
                Value::Float(f64::NAN),
            ]),
            text(""),
            text("good"),
        ]);
        assert_eq!(names(&extract_output(&output, now())), ["good"]);
    }

    #[test]
    fn non_collections_give_nothing() {
        assert!(extract_output(&Value::Null, now()).is_empty());
        assert!(extract_output(&text("a"), now()).is_empty());
        assert!(extract_output(&map(&[("a", Value::Integer(1))]), now()).is_empty());
    }

    #[test]
    fn later_duplicates_win() {
        let output = Value::Array(vec![
            Value::Array(vec![text("a"), map(&[("v", Value::Integer(1))])]),
            Value::Array(vec![text("a"), map(&[("v", Value::Integer(2))])]),
        ]);
        let units = extract_output(&output, now());
        assert_eq!(units.len(), 1);
        assert_eq!(units[0].data["v"], Value::Integer(2));
    }
}
