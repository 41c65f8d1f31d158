//! Data (`DataDict` in go) on the wire.
//!
//! Data travels as a JSON object when JSON holds it exactly: null,
//! booleans, text, integers within 64 bits, finite floats, arrays and maps
//! with text keys. Anything else (byte strings, tagged values such as
//! UUIDs (tag 37) and Python tuples (tag 128), integers beyond 64 bits,
//! NaN and infinities, maps with other keys) sends the whole map as go
//! does: a JSON string holding the standard base64 (with padding) of its
//! CBOR encoding. Readers accept both forms, whichever the writer chose.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use coordinate_api::data::{self, Data, Value};
use coordinate_api::{Error, Result};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Number, Value as Json};

/// Data in its wire form, ready to be written or just read.
///
/// Reading one checks only that it is an object or a string; [`decode`]
/// then gives the data or [`Error::InvalidInput`] naming `data`.
///
/// [`decode`]: DataDict::decode
#[derive(Debug, Clone, PartialEq)]
pub struct DataDict(Json);

impl DataDict {
    /// The wire form of `data`: a JSON object if JSON holds it exactly,
    /// otherwise base64 of CBOR. Errors: [`Error::InvalidInput`] for data
    /// nested deeper than [`data::MAX_DEPTH`].
    pub fn encode(data: &Data) -> Result<DataDict> {
        let mut object = Map::new();
        for (key, value) in data {
            match to_json(value, 1) {
                Some(json) => {
                    object.insert(key.clone(), json);
                }
                None => return Ok(DataDict(Json::String(STANDARD.encode(data::encode(data)?)))),
            }
        }
        Ok(DataDict(Json::Object(object)))
    }

    /// The data this wire form stands for. Errors: [`Error::InvalidInput`]
    /// (`data`) for bad base64, bad CBOR, CBOR that is not a map with text
    /// keys, or nesting deeper than [`data::MAX_DEPTH`].
    pub fn decode(&self) -> Result<Data> {
        match &self.0 {
            Json::String(text) => {
                let bytes = STANDARD
                    .decode(text)
                    .map_err(|e| Error::invalid("data", format!("is not base64 of CBOR: {e}")))?;
                data::decode(&bytes)
            }
            Json::Object(object) => {
                let mut data = Data::new();
                for (key, value) in object {
                    data.insert(key.clone(), from_json(value, 1)?);
                }
                Ok(data)
            }
            _ => Err(Error::invalid("data", "must be an object or a string")),
        }
    }

    /// Whether the data travels as base64 of CBOR rather than an object.
    pub fn is_cbor(&self) -> bool {
        self.0.is_string()
    }

    /// The JSON value itself.
    pub fn as_json(&self) -> &Json {
        &self.0
    }
}

/// The JSON form of a value, if JSON holds it exactly and it is not
/// nested too deep (the CBOR path then reports the depth).
fn to_json(value: &Value, depth: usize) -> Option<Json> {
    if depth > data::MAX_DEPTH {
        return None;
    }
    Some(match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Text(text) => Json::String(text.clone()),
        Value::Integer(i) => {
            if let Ok(small) = i64::try_from(*i) {
                Json::Number(small.into())
            } else {
                Json::Number(u64::try_from(*i).ok()?.into())
            }
        }
        Value::Float(f) => Json::Number(Number::from_f64(*f)?),
        Value::Array(items) => Json::Array(
            items
                .iter()
                .map(|item| to_json(item, depth + 1))
                .collect::<Option<_>>()?,
        ),
        Value::Map(map) => {
            let mut object = Map::new();
            for (key, item) in map {
                let Value::Text(key) = key else {
                    return None;
                };
                object.insert(key.clone(), to_json(item, depth + 1)?);
            }
            Json::Object(object)
        }
        _ => return None,
    })
}

/// The value a JSON value stands for: integers stay integers, numbers
/// with a fraction or exponent are floats.
fn from_json(json: &Json, depth: usize) -> Result<Value> {
    if depth > data::MAX_DEPTH {
        return Err(Error::invalid(
            "data",
            format!("nested deeper than {} levels", data::MAX_DEPTH),
        ));
    }
    Ok(match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::String(text) => Value::Text(text.clone()),
        Json::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Value::Integer(i.into()),
            (None, Some(u), _) => Value::Integer(u.into()),
            (None, None, Some(f)) => Value::Float(f),
            _ => {
                return Err(Error::invalid(
                    "data",
                    format!("number {n} is out of range"),
                ))
            }
        },
        Json::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| from_json(item, depth + 1))
                .collect::<Result<_>>()?,
        ),
        Json::Object(object) => Value::Map(
            object
                .iter()
                .map(|(key, item)| Ok((Value::Text(key.clone()), from_json(item, depth + 1)?)))
                .collect::<Result<_>>()?,
        ),
    })
}

impl Serialize for DataDict {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for DataDict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = Json::deserialize(deserializer)?;
        if json.is_object() || json.is_string() {
            Ok(DataDict(json))
        } else {
            Err(serde::de::Error::custom(
                "data must be a JSON object or a base64 CBOR string",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(entries: &[(&str, Value)]) -> Data {
        entries
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    /// Through JSON text and back, as a body would go.
    fn round_trip(original: &Data) -> (Data, bool) {
        let wire = DataDict::encode(original).unwrap();
        let text = serde_json::to_string(&wire).unwrap();
        let read: DataDict = serde_json::from_str(&text).unwrap();
        (read.decode().unwrap(), wire.is_cbor())
    }

    #[test]
    fn plain_data_is_a_json_object() {
        let original = data(&[
            ("n", Value::Null),
            ("b", Value::Bool(true)),
            ("s", Value::Text("x\u{0}y".into())),
            ("i", Value::Integer(-7)),
            ("max", Value::Integer(u64::MAX.into())),
            ("min", Value::Integer(i64::MIN.into())),
            ("f", Value::Float(0.1)),
            ("whole", Value::Float(2.0)),
            ("neg0", Value::Float(-0.0)),
            ("empty", Value::Array(vec![])),
            (
                "nested",
                Value::Map(
                    [(
                        Value::Text("k".into()),
                        Value::Array(vec![Value::Integer(1)]),
                    )]
                    .into(),
                ),
            ),
        ]);
        let (back, cbor) = round_trip(&original);
        assert!(!cbor);
        assert_eq!(back, original);
        assert!(matches!(back["whole"], Value::Float(_)));
        assert!(matches!(back["neg0"], Value::Float(f) if f.is_sign_negative()));
        let wire = DataDict::encode(&data(&[
            ("a", Value::Integer(1)),
            ("e", Value::Array(vec![])),
        ]))
        .unwrap();
        assert_eq!(serde_json::to_string(&wire).unwrap(), r#"{"a":1,"e":[]}"#);
    }

    #[test]
    fn awkward_values_go_as_cbor_and_come_back_exactly() {
        let awkward = [
            ("bytes", Value::Bytes(vec![0, 159, 255])),
            ("uuid", Value::Tag(37, Box::new(Value::Bytes(vec![7; 16])))),
            (
                "tuple",
                Value::Tag(
                    128,
                    Box::new(Value::Array(vec![
                        Value::Integer(1),
                        Value::Text("a".into()),
                    ])),
                ),
            ),
            ("nan", Value::Float(f64::NAN)),
            ("inf", Value::Float(f64::NEG_INFINITY)),
            ("big", Value::Integer(-(1i128 << 64))),
            (
                "int_keys",
                Value::Map(
                    [(
                        Value::Integer(1),
                        Value::Map([(Value::Integer(-2), Value::Null)].into()),
                    )]
                    .into(),
                ),
            ),
        ];
        for (name, value) in awkward {
            let original = data(&[(name, value), ("plain", Value::Text("t".into()))]);
            let (back, cbor) = round_trip(&original);
            assert!(cbor, "{name} should travel as CBOR");
            // NaN is not equal to itself: compare the encodings.
            assert_eq!(
                data::encode(&back).unwrap(),
                data::encode(&original).unwrap(),
                "{name}"
            );
        }
    }

    #[test]
    fn readers_accept_both_forms_and_refuse_others() {
        let original = data(&[("k", Value::Text("v".into()))]);
        let cbor = format!("\"{}\"", STANDARD.encode(data::encode(&original).unwrap()));
        for text in [r#"{"k":"v"}"#, cbor.as_str()] {
            let read: DataDict = serde_json::from_str(text).unwrap();
            assert_eq!(read.decode().unwrap(), original, "{text}");
        }
        assert!(serde_json::from_str::<DataDict>("[1]").is_err());
        assert!(serde_json::from_str::<DataDict>("3").is_err());
        for bad in [r#""not base64!""#, r#""AAAA""#] {
            let read: DataDict = serde_json::from_str(bad).unwrap();
            assert!(
                matches!(read.decode(), Err(Error::InvalidInput { what: "data", .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn too_deep_data_is_invalid_either_way() {
        let mut deep = Value::Null;
        for _ in 0..=data::MAX_DEPTH {
            deep = Value::Array(vec![deep]);
        }
        let original = data(&[("deep", deep)]);
        assert!(matches!(
            DataDict::encode(&original),
            Err(Error::InvalidInput { what: "data", .. })
        ));
        let mut json = String::from("null");
        for _ in 0..=data::MAX_DEPTH {
            json = format!("[{json}]");
        }
        let read: DataDict = serde_json::from_str(&format!(r#"{{"deep":{json}}}"#)).unwrap();
        assert!(matches!(
            read.decode(),
            Err(Error::InvalidInput { what: "data", .. })
        ));
    }
}
