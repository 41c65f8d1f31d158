//! `CASES.md` lists exactly the cases the suite runs, so the doc cannot
//! drift from the code.

use std::collections::BTreeSet;

#[test]
fn cases_md_lists_every_case_once() {
    let documented: Vec<&str> = include_str!("../CASES.md")
        .lines()
        .filter_map(|line| line.strip_prefix("- `"))
        .filter_map(|rest| rest.split('`').next())
        .collect();
    let unique: BTreeSet<&str> = documented.iter().copied().collect();
    assert_eq!(unique.len(), documented.len(), "a case is listed twice");
    let run: BTreeSet<&str> = coordinate_conformance::CASES.iter().copied().collect();
    assert_eq!(run.len(), coordinate_conformance::CASES.len());
    let missing: Vec<_> = run.difference(&unique).collect();
    let stale: Vec<_> = unique.difference(&run).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "CASES.md is missing {missing:?} and lists cases that do not exist: {stale:?}"
    );
}

#[test]
fn the_suite_is_large_enough() {
    // The issue that introduced the suite asked for at least 80 cases.
    assert!(coordinate_conformance::CASES.len() >= 80);
}
