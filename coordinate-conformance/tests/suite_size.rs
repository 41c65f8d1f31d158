//! The suite's size. That every case is run and described in `CASES.md`,
//! and `CASES.md` describes nothing else, is xtask's tidy check
//! (`xtask/src/tidy.rs`), which also finds a case function left out of the
//! case list.

#[test]
fn the_suite_is_large_enough() {
    // The issue that introduced the suite asked for at least 80 cases.
    assert!(coordinate_conformance::CASES.len() >= 80);
}
