//! Work data: string-keyed maps of CBOR values, and their byte encoding.
//!
//! Every use of the CBOR library lives in this module so that the choice of
//! library can change in one place.

use std::collections::BTreeMap;

use crate::error::{Error, Result};

/// One CBOR value: null, bool, integer, float, bytes, text, array, map or
/// tagged value.
pub use serde_cbor::Value;

/// The data attached to work specs, work units, attempts and workers.
///
/// It round-trips exactly through every backend: empty lists stay empty
/// lists, byte strings stay bytes and tagged values keep their tags.
pub type Data = BTreeMap<String, Value>;

/// CBOR tag go-coordinate uses for UUIDs (16 bytes).
pub const TAG_UUID: u64 = 37;
/// CBOR tag go-coordinate uses for Python tuples (wrapping an array).
pub const TAG_TUPLE: u64 = 128;

/// Deepest nesting of arrays, maps and tags [`decode`] accepts; deeper input
/// is rejected instead of exhausting the stack.
pub const MAX_DEPTH: usize = 100;

/// Encodes data as a CBOR map.
///
/// Fails with [`Error::InvalidInput`] when the data nests deeper than
/// [`MAX_DEPTH`].
pub fn encode(data: &Data) -> Result<Vec<u8>> {
    for value in data.values() {
        check_depth(value, 1)?;
    }
    serde_cbor::to_vec(data).map_err(|e| Error::invalid("data", e))
}

/// Largest encoded size of one piece of data a coordinate accepts unless
/// configured otherwise (16 MiB). Data describes work; a payload bigger
/// than this belongs in a blob store, with its address in the data.
pub const DEFAULT_MAX_DATA_BYTES: usize = 16 << 20;

/// Encodes data a caller hands in, refusing it with
/// [`Error::InvalidInput`] when it nests deeper than [`MAX_DEPTH`] or its
/// encoding is over `max_bytes`.
pub fn encode_within(data: &Data, max_bytes: usize) -> Result<Vec<u8>> {
    let bytes = encode(data)?;
    check_size(bytes.len(), max_bytes)?;
    Ok(bytes)
}

/// Checks data a caller hands in as [`encode_within`] does, without keeping
/// the encoding (for stores that keep data decoded).
pub fn check_within(data: &Data, max_bytes: usize) -> Result<()> {
    for value in data.values() {
        check_depth(value, 1)?;
    }
    let mut counter = ByteCounter {
        count: 0,
        limit: max_bytes,
    };
    match serde_cbor::to_writer(&mut counter, data) {
        Ok(()) => Ok(()),
        // The counter stops the encoder as soon as it passes the limit.
        Err(_) if counter.count > max_bytes => check_size(counter.count, max_bytes),
        Err(e) => Err(Error::invalid("data", e)),
    }
}

fn check_size(size: usize, max_bytes: usize) -> Result<()> {
    if size > max_bytes {
        return Err(Error::invalid(
            "data",
            format!("encodes to more than {max_bytes} bytes, the configured limit"),
        ));
    }
    Ok(())
}

/// A writer that only counts, and fails once past its limit.
struct ByteCounter {
    count: usize,
    limit: usize,
}

impl std::io::Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.count += buf.len();
        if self.count > self.limit {
            return Err(std::io::Error::other("over the data size limit"));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Decodes bytes written by [`encode`] (or by go-coordinate).
///
/// Anything that is not a CBOR map with text keys, or that nests deeper than
/// [`MAX_DEPTH`], gives [`Error::InvalidInput`]; it never panics.
pub fn decode(bytes: &[u8]) -> Result<Data> {
    // serde_cbor refuses input nested deeper than its own recursion limit, so
    // hostile bytes cannot overflow the stack before our own check runs.
    let value: Value = serde_cbor::from_slice(bytes).map_err(|e| Error::invalid("data", e))?;
    check_depth(&value, 0)?;
    match value {
        Value::Map(map) => map
            .into_iter()
            .map(|(key, value)| match key {
                Value::Text(key) => Ok((key, value)),
                other => Err(Error::invalid(
                    "data",
                    format!("map keys must be text, found {}", kind(&other)),
                )),
            })
            .collect(),
        other => Err(Error::invalid(
            "data",
            format!("expected a map, found {}", kind(&other)),
        )),
    }
}

/// Encodes a single value (used for values outside a [`Data`] map).
pub fn encode_value(value: &Value) -> Result<Vec<u8>> {
    check_depth(value, 0)?;
    serde_cbor::to_vec(value).map_err(|e| Error::invalid("data", e))
}

fn check_depth(value: &Value, depth: usize) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Error::invalid(
            "data",
            format!("nested deeper than {MAX_DEPTH} levels"),
        ));
    }
    match value {
        Value::Array(items) => items.iter().try_for_each(|v| check_depth(v, depth + 1)),
        Value::Map(map) => map.iter().try_for_each(|(k, v)| {
            check_depth(k, depth + 1)?;
            check_depth(v, depth + 1)
        }),
        Value::Tag(_, inner) => check_depth(inner, depth + 1),
        _ => Ok(()),
    }
}

/// A short name for the kind of a value, for error messages.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Bytes(_) => "a byte string",
        Value::Text(_) => "a text string",
        Value::Array(_) => "an array",
        Value::Map(_) => "a map",
        Value::Tag(_, _) => "a tagged value",
        _ => "an unknown value",
    }
}

/// Text of a value that is a text string, or a byte string holding UTF-8.
pub fn as_name(value: &Value) -> Option<String> {
    match value {
        Value::Text(text) => Some(text.clone()),
        Value::Bytes(bytes) => String::from_utf8(bytes.clone()).ok(),
        _ => None,
    }
}

/// The number in an integer or float value, as `f64`.
pub fn as_f64(value: &Value) -> Option<f64> {
    match value {
        Value::Integer(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// The items of an array, or of a tuple (tag 128 around an array).
pub fn as_list(value: &Value) -> Option<&[Value]> {
    match value {
        Value::Array(items) => Some(items),
        Value::Tag(TAG_TUPLE, inner) => match inner.as_ref() {
            Value::Array(items) => Some(items),
            _ => None,
        },
        _ => None,
    }
}

/// Converts a CBOR map with text (or UTF-8 byte) keys into [`Data`].
pub fn as_data(value: &Value) -> Option<Data> {
    match value {
        Value::Map(map) => map
            .iter()
            .map(|(k, v)| as_name(k).map(|k| (k, v.clone())))
            .collect(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Data {
        let mut data = Data::new();
        data.insert("empty".into(), Value::Array(vec![]));
        data.insert("bytes".into(), Value::Bytes(vec![0, 1, 255]));
        data.insert(
            "uuid".into(),
            Value::Tag(TAG_UUID, Box::new(Value::Bytes(vec![7; 16]))),
        );
        data.insert(
            "tuple".into(),
            Value::Tag(
                TAG_TUPLE,
                Box::new(Value::Array(vec![
                    Value::Text("a".into()),
                    Value::Integer(1),
                ])),
            ),
        );
        data.insert("null".into(), Value::Null);
        data.insert("float".into(), Value::Float(1.5));
        data.insert("nested".into(), Value::Map(Default::default()));
        data
    }

    #[test]
    fn round_trip_preserves_everything() {
        let data = sample();
        let bytes = encode(&data).unwrap();
        assert_eq!(decode(&bytes).unwrap(), data);
    }

    #[test]
    fn empty_data_round_trips() {
        let bytes = encode(&Data::new()).unwrap();
        assert_eq!(bytes, vec![0xa0]);
        assert!(decode(&bytes).unwrap().is_empty());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bytes in [&b""[..], b"\xff", b"\x1f", b"\x82\x01", b"hello", b"\x01"] {
            assert!(matches!(decode(bytes), Err(Error::InvalidInput { .. })));
        }
    }

    #[test]
    fn non_text_keys_are_rejected() {
        let mut map = std::collections::BTreeMap::new();
        map.insert(Value::Integer(1), Value::Null);
        let bytes = serde_cbor::to_vec(&Value::Map(map)).unwrap();
        assert!(matches!(decode(&bytes), Err(Error::InvalidInput { .. })));
    }

    #[test]
    fn deep_nesting_is_rejected_both_ways() {
        // 100,000 nested one-element arrays inside a one-entry map.
        let mut bytes = vec![0xa1, 0x61, b'x'];
        bytes.extend(std::iter::repeat_n(0x81, 100_000));
        bytes.push(0x00);
        assert!(matches!(decode(&bytes), Err(Error::InvalidInput { .. })));

        let mut value = Value::Null;
        for _ in 0..(MAX_DEPTH + 5) {
            value = Value::Array(vec![value]);
        }
        let mut data = Data::new();
        data.insert("deep".into(), value);
        assert!(matches!(encode(&data), Err(Error::InvalidInput { .. })));
    }

    #[test]
    fn helpers_read_names_numbers_and_lists() {
        assert_eq!(as_name(&Value::Bytes(b"u".to_vec())).as_deref(), Some("u"));
        assert_eq!(as_name(&Value::Bytes(vec![0xff])), None);
        assert_eq!(as_f64(&Value::Integer(3)), Some(3.0));
        let tuple = Value::Tag(TAG_TUPLE, Box::new(Value::Array(vec![Value::Null])));
        assert_eq!(as_list(&tuple).map(<[Value]>::len), Some(1));
        assert!(as_list(&Value::Null).is_none());
    }

    #[test]
    fn size_limits_count_the_encoding() {
        let mut data = Data::new();
        data.insert("k".into(), Value::Bytes(vec![7; 100]));
        let exact = encode(&data).unwrap().len();
        assert_eq!(encode_within(&data, exact).unwrap().len(), exact);
        check_within(&data, exact).unwrap();
        for refused in [
            encode_within(&data, exact - 1).map(|_| ()),
            check_within(&data, exact - 1),
        ] {
            let error = refused.unwrap_err();
            assert!(matches!(error, Error::InvalidInput { .. }), "{error:?}");
            assert!(
                error.to_string().contains(&format!("{} bytes", exact - 1)),
                "{error}"
            );
        }
    }

    #[test]
    fn size_checks_also_refuse_deep_nesting() {
        let mut value = Value::Null;
        for _ in 0..(MAX_DEPTH + 5) {
            value = Value::Array(vec![value]);
        }
        let mut data = Data::new();
        data.insert("deep".into(), value);
        assert!(check_within(&data, usize::MAX).is_err());
        assert!(encode_within(&data, usize::MAX).is_err());
    }
}
