//! The one mapping between CBOR data and JSON for people, both ways: the
//! `coordinate` command's `--json` output, the data shown in its tables
//! and in `coordinated`'s dashboard, and the JSON that `spec set` and
//! `add` read. (go's REST wire format is another mapping: [`crate::wire`].)
//!
//! JSON has no byte strings, tags, non-finite floats or integers past
//! 64 bits, and its object keys are text only, so those are written as
//! one-key (or, for tags, two-key) objects whose key starts with `$`:
//!
//! | CBOR | JSON |
//! | --- | --- |
//! | null, true, false, text, array | the same |
//! | integer within i64 or u64 | a number: `7`, `-3` |
//! | integer outside them (CBOR reaches -2^64) | `{"$int": "-18446744073709551616"}` |
//! | finite float | a number with a fraction or exponent: `1.0`, `2.5e-7` |
//! | NaN, infinities | `{"$float": "NaN"}`, `{"$float": "Infinity"}`, `{"$float": "-Infinity"}` |
//! | byte string | `{"$bytes": "00ff"}` (lower-case hex) |
//! | tag n | `{"$tag": n, "value": …}` (37 is a UUID, 128 a Python tuple) |
//! | map with text keys | an object; a key starting with `$` gets one more: `"$x"` → `"$$x"` |
//! | map with any other key | `{"$map": [[key, value], …]}` |
//!
//! So every object key with a single `$` is one of these markers, and an
//! object never means two things. Reading JSON back applies the same
//! table in reverse: a number with a fraction or exponent is a float, one
//! without is an integer, an unknown `$` key is an error.

use std::collections::BTreeMap;

use coordinate_api::{Data, Value};
use serde_json::{Map, Number, Value as Json};

/// JSON that does not follow the module's table; the text says where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataJsonError(String);

impl DataJsonError {
    fn new(message: impl Into<String>) -> Self {
        DataJsonError(message.into())
    }
}

impl std::fmt::Display for DataJsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DataJsonError {}

type Result<T> = std::result::Result<T, DataJsonError>;

/// CBOR data (a text-keyed map) as a JSON object.
pub fn data_to_json(data: &Data) -> Json {
    Json::Object(
        data.iter()
            .map(|(key, value)| (escape_key(key), to_json(value)))
            .collect(),
    )
}

/// One CBOR value as JSON.
pub fn to_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Integer(i) => integer(*i),
        Value::Float(f) => match Number::from_f64(*f) {
            Some(number) => Json::Number(number),
            None => marker("$float", Json::String(non_finite_name(*f).into())),
        },
        Value::Bytes(bytes) => marker("$bytes", Json::String(hex(bytes))),
        Value::Text(text) => Json::String(text.clone()),
        Value::Array(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Map(map) => {
            let text_keys: Option<Map<String, Json>> = map
                .iter()
                .map(|(k, v)| match k {
                    Value::Text(k) => Some((escape_key(k), to_json(v))),
                    _ => None,
                })
                .collect();
            text_keys.map(Json::Object).unwrap_or_else(|| {
                let pairs = map
                    .iter()
                    .map(|(k, v)| Json::Array(vec![to_json(k), to_json(v)]))
                    .collect();
                marker("$map", Json::Array(pairs))
            })
        }
        Value::Tag(tag, inner) => {
            let mut object = Map::new();
            object.insert("$tag".into(), Json::Number((*tag).into()));
            object.insert("value".into(), to_json(inner));
            Json::Object(object)
        }
        // serde_cbor's Value is non-exhaustive; it has no other kinds today.
        _ => Json::Null,
    }
}

/// A JSON object as CBOR data (for definitions and unit data).
pub fn json_to_data(json: &Json) -> Result<Data> {
    match json {
        Json::Object(object) if !is_marker(object) => object
            .iter()
            .map(|(key, value)| Ok((unescape_key(key)?, from_json(value)?)))
            .collect(),
        other => Err(DataJsonError::new(format!(
            "expected a JSON object, found {}",
            kind(other)
        ))),
    }
}

/// One JSON value as CBOR, reading the markers of the module's table.
pub fn from_json(json: &Json) -> Result<Value> {
    Ok(match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Integer(i.into())
            } else if let Some(u) = n.as_u64() {
                Value::Integer(u.into())
            } else {
                Value::Float(
                    n.as_f64()
                        .ok_or_else(|| DataJsonError::new("a number JSON cannot hold"))?,
                )
            }
        }
        Json::String(s) => Value::Text(s.clone()),
        Json::Array(items) => Value::Array(items.iter().map(from_json).collect::<Result<_>>()?),
        Json::Object(object) if is_marker(object) => from_marker(object)?,
        Json::Object(object) => Value::Map(
            object
                .iter()
                .map(|(k, v)| Ok((Value::Text(unescape_key(k)?), from_json(v)?)))
                .collect::<Result<BTreeMap<_, _>>>()?,
        ),
    })
}

fn from_marker(object: &Map<String, Json>) -> Result<Value> {
    let (key, value) = object.iter().next().expect("a marker has a key");
    let text = || {
        value.as_str().ok_or_else(|| {
            DataJsonError::new(format!("{key:?} needs a string, found {}", kind(value)))
        })
    };
    Ok(match key.as_str() {
        "$int" => {
            let i: i128 = text()?
                .parse()
                .map_err(|_| DataJsonError::new(format!("\"$int\" {value} is not an integer")))?;
            if !(-(1i128 << 64)..(1i128 << 64)).contains(&i) {
                return Err(DataJsonError::new(format!(
                    "\"$int\" {i} is outside CBOR's range (-2^64 to 2^64-1)"
                )));
            }
            Value::Integer(i)
        }
        "$float" => Value::Float(match text()? {
            "NaN" => f64::NAN,
            "Infinity" => f64::INFINITY,
            "-Infinity" => f64::NEG_INFINITY,
            other => {
                return Err(DataJsonError::new(format!(
                    "\"$float\" is NaN, Infinity or -Infinity, not {other:?}"
                )))
            }
        }),
        "$bytes" => Value::Bytes(unhex(text()?)?),
        "$map" => {
            let pairs = value
                .as_array()
                .ok_or_else(|| DataJsonError::new("\"$map\" needs an array of pairs"))?;
            let mut map = BTreeMap::new();
            for pair in pairs {
                match pair.as_array().map(Vec::as_slice) {
                    Some([k, v]) => map.insert(from_json(k)?, from_json(v)?),
                    _ => {
                        return Err(DataJsonError::new(format!(
                            "\"$map\" entries are [key, value] pairs, found {pair}"
                        )))
                    }
                };
            }
            Value::Map(map)
        }
        "$tag" | "value" => {
            let tag = object
                .get("$tag")
                .and_then(Json::as_u64)
                .ok_or_else(|| DataJsonError::new("\"$tag\" needs a non-negative integer"))?;
            let inner = object
                .get("value")
                .ok_or_else(|| DataJsonError::new("\"$tag\" needs a \"value\""))?;
            Value::Tag(tag, Box::new(from_json(inner)?))
        }
        other => {
            return Err(DataJsonError::new(format!(
                "unknown marker {other:?} (a literal key starting with $ is written $$)"
            )))
        }
    })
}

/// Whether an object is one of the `$` markers rather than a map.
fn is_marker(object: &Map<String, Json>) -> bool {
    let single = |k: &String| k.starts_with('$') && !k.starts_with("$$");
    match object.len() {
        1 => object.keys().all(single),
        2 => object.contains_key("$tag") && object.contains_key("value"),
        _ => false,
    }
}

fn escape_key(key: &str) -> String {
    if key.starts_with('$') {
        format!("${key}")
    } else {
        key.to_owned()
    }
}

fn unescape_key(key: &str) -> Result<String> {
    match key.strip_prefix('$') {
        None => Ok(key.to_owned()),
        Some(rest) if rest.starts_with('$') => Ok(rest.to_owned()),
        Some(_) => Err(DataJsonError::new(format!(
            "key {key:?}: a literal key starting with $ is written ${key}"
        ))),
    }
}

fn marker(key: &str, value: Json) -> Json {
    let mut object = Map::new();
    object.insert(key.into(), value);
    Json::Object(object)
}

fn integer(i: i128) -> Json {
    if let Ok(i) = i64::try_from(i) {
        Json::Number(i.into())
    } else if let Ok(u) = u64::try_from(i) {
        Json::Number(u.into())
    } else {
        marker("$int", Json::String(i.to_string()))
    }
}

fn non_finite_name(f: f64) -> &'static str {
    if f.is_nan() {
        "NaN"
    } else if f > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Result<Vec<u8>> {
    if text.len() % 2 != 0 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(DataJsonError::new(format!(
            "\"$bytes\" needs an even number of hex digits, found {text:?}"
        )));
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&text[i..i + 2], 16)
                .map_err(|_| DataJsonError::new(format!("{text:?} is not hex")))
        })
        .collect()
}

/// A short name for the kind of a JSON value, for error messages.
pub fn kind(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    fn round_trip(value: Value, expected: Json) {
        let json = to_json(&value);
        assert_eq!(json, expected, "{value:?}");
        // Through text too, as a script would see it.
        let reread: Json = serde_json::from_str(&json.to_string()).unwrap();
        let back = from_json(&reread).unwrap();
        match (&back, &value) {
            (Value::Float(a), Value::Float(b)) if a.is_nan() => assert!(b.is_nan()),
            _ => assert_eq!(back, value),
        }
    }

    #[test]
    fn plain_values_are_plain_json() {
        round_trip(Value::Null, json!(null));
        round_trip(Value::Bool(true), json!(true));
        round_trip(text("a"), json!("a"));
        round_trip(Value::Integer(-3), json!(-3));
        round_trip(Value::Array(vec![]), json!([]));
        round_trip(Value::Map(BTreeMap::new()), json!({}));
    }

    #[test]
    fn integers_keep_their_kind_and_floats_theirs() {
        round_trip(Value::Integer(u64::MAX.into()), json!(u64::MAX));
        round_trip(Value::Integer(i64::MIN.into()), json!(i64::MIN));
        round_trip(Value::Float(1.0), json!(1.0));
        assert_eq!(to_json(&Value::Float(1.0)).to_string(), "1.0");
        round_trip(
            Value::Integer(-(1i128 << 64)),
            json!({"$int": "-18446744073709551616"}),
        );
        round_trip(
            Value::Integer(i128::from(i64::MIN) - 1),
            json!({"$int": "-9223372036854775809"}),
        );
    }

    #[test]
    fn non_finite_floats_are_named() {
        round_trip(Value::Float(f64::NAN), json!({"$float": "NaN"}));
        round_trip(Value::Float(f64::INFINITY), json!({"$float": "Infinity"}));
        round_trip(
            Value::Float(f64::NEG_INFINITY),
            json!({"$float": "-Infinity"}),
        );
    }

    #[test]
    fn bytes_and_tags_are_marked() {
        round_trip(Value::Bytes(vec![0, 1, 255]), json!({"$bytes": "0001ff"}));
        round_trip(Value::Bytes(vec![]), json!({"$bytes": ""}));
        round_trip(
            Value::Tag(37, Box::new(Value::Bytes(vec![0xab; 2]))),
            json!({"$tag": 37, "value": {"$bytes": "abab"}}),
        );
        round_trip(
            Value::Tag(
                128,
                Box::new(Value::Array(vec![text("a"), Value::Integer(1)])),
            ),
            json!({"$tag": 128, "value": ["a", 1]}),
        );
    }

    #[test]
    fn dollar_keys_are_escaped_so_markers_stay_unambiguous() {
        let mut map = BTreeMap::new();
        map.insert(text("$bytes"), text("not bytes"));
        round_trip(Value::Map(map), json!({"$$bytes": "not bytes"}));
        let mut data = Data::new();
        data.insert("$tag".into(), Value::Integer(1));
        data.insert("value".into(), Value::Integer(2));
        let json = data_to_json(&data);
        assert_eq!(json, json!({"$$tag": 1, "value": 2}));
        assert_eq!(json_to_data(&json).unwrap(), data);
    }

    #[test]
    fn maps_with_other_keys_become_pairs() {
        let mut map = BTreeMap::new();
        map.insert(Value::Integer(1), text("one"));
        map.insert(Value::Bytes(vec![2]), Value::Null);
        round_trip(
            Value::Map(map),
            json!({"$map": [[1, "one"], [{"$bytes": "02"}, null]]}),
        );
    }

    #[test]
    fn bad_markers_are_refused_with_a_reason() {
        for (bad, says) in [
            (json!({"$bytes": "abc"}), "hex"),
            (json!({"$bytes": 1}), "needs a string"),
            (json!({"$float": "inf"}), "NaN, Infinity"),
            (json!({"$int": "1.5"}), "not an integer"),
            (json!({"$int": "99999999999999999999999"}), "outside"),
            (json!({"$tag": -1, "value": 1}), "non-negative"),
            (json!({"$map": [[1]]}), "pairs"),
            (json!({"$what": 1}), "unknown marker"),
            (json!({"$x": 1, "y": 2}), "written $$"),
        ] {
            let error = format!("{:#}", from_json(&bad).unwrap_err());
            assert!(error.contains(says), "{bad}: {error}");
        }
        assert!(json_to_data(&json!([1])).is_err());
        assert!(json_to_data(&json!({"$bytes": "00"})).is_err());
    }
}
