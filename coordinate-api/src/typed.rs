//! Any `serde` type as [`Data`] and back, so that callers need not build
//! CBOR maps by hand.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use coordinate_api::typed::{from_data, to_data};
//!
//! #[derive(Serialize, Deserialize, PartialEq, Debug)]
//! struct Fetch {
//!     url: String,
//!     depth: u32,
//! }
//!
//! let data = to_data(&Fetch { url: "https://example.com/".into(), depth: 2 }).unwrap();
//! assert_eq!(from_data::<Fetch>(&data).unwrap().depth, 2);
//! ```

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::data::{kind, Data, Value};
use crate::error::{Error, Result};

/// Serializes `value` into work data. The value must serialize as a map
/// with text keys (a struct, or a map keyed by strings).
///
/// Errors: [`Error::InvalidInput`] when it serializes as anything else, or
/// when serde refuses it.
pub fn to_data<T: Serialize + ?Sized>(value: &T) -> Result<Data> {
    let value =
        serde_cbor::value::to_value(value).map_err(|err| Error::invalid("typed data", err))?;
    let Value::Map(map) = value else {
        return Err(Error::invalid(
            "typed data",
            format_args!("expected a struct or map, got {}", kind(&value)),
        ));
    };
    map.into_iter()
        .map(|(key, value)| match key {
            Value::Text(key) => Ok((key, value)),
            other => Err(Error::invalid(
                "typed data",
                format_args!("map keys must be text, got {}", kind(&other)),
            )),
        })
        .collect()
}

/// Reads work data as a `T`.
///
/// Errors: [`Error::InvalidInput`] naming what did not fit, when the data
/// does not have `T`'s shape.
pub fn from_data<T: DeserializeOwned>(data: &Data) -> Result<T> {
    let map = data
        .iter()
        .map(|(key, value)| (Value::Text(key.clone()), value.clone()))
        .collect();
    serde_cbor::value::from_value(Value::Map(map)).map_err(|err| Error::invalid("typed data", err))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Page {
        url: String,
        retries: Option<u8>,
        tags: Vec<String>,
    }

    #[test]
    fn structs_round_trip() {
        let page = Page {
            url: "u".into(),
            retries: None,
            tags: vec![],
        };
        let data = to_data(&page).unwrap();
        assert_eq!(data["url"], Value::Text("u".into()));
        assert_eq!(data["tags"], Value::Array(vec![]));
        assert_eq!(from_data::<Page>(&data).unwrap(), page);
    }

    #[test]
    fn non_maps_are_refused() {
        let err = to_data(&42u32).unwrap_err();
        assert!(
            err.to_string().contains("expected a struct or map"),
            "{err}"
        );
        let mut keyed_by_numbers = BTreeMap::new();
        keyed_by_numbers.insert(1u8, "one");
        let err = to_data(&keyed_by_numbers).unwrap_err();
        assert!(err.to_string().contains("keys must be text"), "{err}");
    }

    #[test]
    fn data_of_the_wrong_shape_is_an_error_not_a_panic() {
        let mut data = Data::new();
        data.insert("url".into(), Value::Integer(7));
        let err = from_data::<Page>(&data).unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidInput {
                    what: "typed data",
                    ..
                }
            ),
            "{err}"
        );
    }
}
