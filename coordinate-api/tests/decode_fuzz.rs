//! The data decoder on hostile input: arbitrary bytes, damaged valid
//! encodings and very deep nesting must give `Ok` or a typed error, never a
//! panic or a stack overflow. Every stored blob passes through `decode`, so a
//! crash here would take a whole worker down on one bad row.

use coordinate_api::data::{decode, encode, MAX_DEPTH};
use coordinate_api::{Data, Error, Value};
use proptest::prelude::*;

/// Enough cases to reach odd corners of the CBOR grammar, few enough to
/// stay well under a second on a small CI machine.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 2_000,
        ..ProptestConfig::default()
    }
}

/// Decoding either succeeds or fails with the invalid-input error.
fn decodes_or_rejects(bytes: &[u8]) {
    match decode(bytes) {
        Ok(_) | Err(Error::InvalidInput { .. }) => {}
        Err(other) => panic!("unexpected error kind: {other:?}"),
    }
}

/// A small CBOR value of any kind, nested a few levels.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| Value::Integer(n.into())),
        any::<f64>().prop_map(Value::Float),
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(Value::Bytes),
        "[a-z\u{e9}\u{1F600}]{0,6}".prop_map(Value::Text),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z]{0,3}", inner.clone(), 0..4).prop_map(|map| {
                Value::Map(map.into_iter().map(|(k, v)| (Value::Text(k), v)).collect())
            }),
            (0u64..200, inner).prop_map(|(tag, v)| Value::Tag(tag, Box::new(v))),
        ]
    })
}

/// A valid encoding of some data.
fn valid_encoding() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::btree_map("[a-z]{0,4}", value(), 0..4)
        .prop_map(|data: Data| encode(&data).expect("shallow data encodes"))
}

/// One damage done to an encoding.
#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, bits: u8 },
    Truncate { at: usize },
    Insert { at: usize, byte: u8 },
    Remove { at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(at, bits)| Mutation::Flip { at, bits }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Insert { at, byte }),
        any::<usize>().prop_map(|at| Mutation::Remove { at }),
    ]
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    if bytes.is_empty() {
        return;
    }
    match *mutation {
        Mutation::Flip { at, bits } => {
            let at = at % bytes.len();
            bytes[at] ^= bits;
        }
        Mutation::Truncate { at } => bytes.truncate(at % bytes.len()),
        Mutation::Insert { at, byte } => bytes.insert(at % (bytes.len() + 1), byte),
        Mutation::Remove { at } => {
            bytes.remove(at % bytes.len());
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        decodes_or_rejects(&bytes);
    }

    #[test]
    fn valid_encodings_round_trip(bytes in valid_encoding()) {
        let data = decode(&bytes).expect("a valid encoding decodes");
        prop_assert_eq!(encode(&data).expect("re-encode"), bytes);
    }

    #[test]
    fn damaged_encodings_never_panic(
        bytes in valid_encoding(),
        damage in proptest::collection::vec(mutation(), 1..4),
    ) {
        let mut bytes = bytes;
        for mutation in &damage {
            apply(&mut bytes, mutation);
        }
        decodes_or_rejects(&bytes);
    }
}

/// `count` nested one-element array headers, inside a map entry.
fn nested_arrays(count: usize) -> Vec<u8> {
    // {"k": [[[ ... ]]]}: map of one, key "k", then the arrays.
    let mut bytes = vec![0xa1, 0x61, b'k'];
    bytes.extend(std::iter::repeat_n(0x81, count));
    bytes.push(0x00);
    bytes
}

#[test]
fn deep_array_headers_are_rejected() {
    // 100,000 levels would overflow any recursive decoder's stack.
    let bytes = nested_arrays(100_000);
    assert!(matches!(decode(&bytes), Err(Error::InvalidInput { .. })));
    // The bare form, without the enclosing map.
    let bare = vec![0x81; 100_000];
    assert!(matches!(decode(&bare), Err(Error::InvalidInput { .. })));
}

#[test]
fn deep_maps_and_tags_are_rejected() {
    // {"": {"": ... }} and tag(37, tag(37, ...)) nested 100,000 deep.
    let mut maps = Vec::new();
    for _ in 0..100_000 {
        maps.extend([0xa1, 0x60]);
    }
    maps.push(0x00);
    assert!(matches!(decode(&maps), Err(Error::InvalidInput { .. })));

    let mut tags = vec![0xa1, 0x61, b'k'];
    for _ in 0..100_000 {
        tags.extend([0xd8, 37]);
    }
    tags.push(0x00);
    assert!(matches!(decode(&tags), Err(Error::InvalidInput { .. })));
}

#[test]
fn nesting_at_the_limit_is_accepted() {
    // The map is level 0 and the innermost scalar counts as a level too, so
    // MAX_DEPTH - 1 arrays reach the limit exactly.
    assert!(decode(&nested_arrays(MAX_DEPTH - 1)).is_ok());
    assert!(matches!(
        decode(&nested_arrays(MAX_DEPTH)),
        Err(Error::InvalidInput { .. })
    ));
}
