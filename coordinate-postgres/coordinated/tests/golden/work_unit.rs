//! Work units: queries, adding and replacing, reading and changing one,
//! its attempts, clearing its active attempt, and deleting by query.

use std::time::Duration;

use serde_json::{json, Value};

use super::in_process::{r, InProcess, Step};
use super::{
    attempt_json, attempt_path, error_json, leak, setup, short_attempt, spec_at, unit_json,
    unit_path, T0,
};

/// `…/work_unit/{unit}` plus `rest`, with the token `ordinal`.
fn unit_at(unit: &str, rest: &str, ordinal: usize) -> &'static str {
    leak(format!("{}{rest}?ref={ordinal}", unit_path(unit)))
}

/// A short unit entry of a list.
fn listed(unit: &str, ordinal: usize) -> Value {
    json!({"url": r(&unit_path(unit), ordinal), "name": unit})
}

/// Units are queried, added, replaced and changed.
pub async fn work_units() -> InProcess {
    let server = InProcess::new("");
    let mut steps = setup(json!({"name": "spec"}), &["a", "b", "c"]);
    steps.extend::<Vec<Step<'_>>>(vec![
        (
            "GET",
            spec_at("/work_unit?ref=2"),
            None,
            200,
            json!({"work_units": [listed("a", 6), listed("b", 7), listed("c", 8)]}),
        ),
        // The query template filled in: names repeat, and come back in
        // name order whatever order they were asked in.
        (
            "GET",
            spec_at("/work_unit?ref=2&name=c&name=a"),
            None,
            200,
            json!({"work_units": [listed("a", 9), listed("c", 10)]}),
        ),
        (
            "GET",
            spec_at("/work_unit?ref=2&previous=a&limit=1"),
            None,
            200,
            json!({"work_units": [listed("b", 11)]}),
        ),
        (
            "GET",
            spec_at("/work_unit?ref=2&status=pending&status=delayed"),
            None,
            200,
            json!({"work_units": []}),
        ),
        (
            "PUT",
            unit_at("a", "", 3),
            Some(r#"{"meta": {"priority": 2, "not_before": "2026-12-03T06:30:00Z"}}"#),
            204,
            Value::Null,
        ),
        (
            "GET",
            unit_at("a", "", 3),
            None,
            200,
            unit_json(
                "a",
                "a",
                [3, 12],
                json!({"data": {"i": 0}, "status": "delayed",
                    "meta": {"priority": 2.0, "not_before": "2026-12-03T06:30:00Z"}}),
            ),
        ),
        (
            "GET",
            spec_at("/work_unit?ref=2&status=delayed"),
            None,
            200,
            json!({"work_units": [listed("a", 13)]}),
        ),
        // Adding a unit that exists replaces its data and meta; the old
        // handle still reaches it.
        (
            "POST",
            spec_at("/work_unit?ref=2"),
            Some(r#"{"name": "b", "data": {"i": 10}, "meta": {"priority": 1}}"#),
            201,
            listed("b", 14),
        ),
        (
            "GET",
            unit_at("b", "", 4),
            None,
            200,
            unit_json(
                "b",
                "b",
                [4, 15],
                json!({"data": {"i": 10}, "status": "available",
                    "meta": {"priority": 1.0, "not_before": null}}),
            ),
        ),
        // A name that is not URL-safe is base64 in the path.
        (
            "POST",
            spec_at("/work_unit?ref=2"),
            Some(r#"{"name": "x/y"}"#),
            201,
            json!({"url": r(&unit_path("-eC95"), 16), "name": "x/y"}),
        ),
        (
            "GET",
            leak(unit_path("-eC95")),
            None,
            200,
            unit_json(
                "-eC95",
                "x/y",
                [17, 18],
                json!({"data": {}, "status": "available",
                    "meta": {"priority": 0.0, "not_before": null}}),
            ),
        ),
    ]);
    server.check(&steps).await;
    // Half an hour on, `a`'s not-before time has passed.
    server.clock().advance(Duration::from_secs(30 * 60));
    let steps: Vec<Step<'_>> = vec![(
        "GET",
        unit_at("a", "", 3),
        None,
        200,
        unit_json(
            "a",
            "a",
            [3, 19],
            json!({"data": {"i": 0}, "status": "available",
                "meta": {"priority": 2.0, "not_before": "2026-12-03T06:30:00Z"}}),
        ),
    )];
    server.check(&steps).await;
    server
}

#[tokio::test]
async fn work_units_answer_as_pinned() {
    work_units().await;
}

/// A unit's attempts; its active attempt cleared (the attempt then loses
/// its lease); units deleted by query.
pub async fn active_attempts_and_deletion() -> InProcess {
    let server = InProcess::new("");
    let b = attempt_path("b", "w", T0);
    let attempt = |refs, rest| attempt_json(&b, refs, rest);
    let pending =
        json!({"status": "pending", "data": {"i": 1}, "expiration_time": "2026-12-03T06:01:00Z"});
    let unit_meta = json!({"priority": 0.0, "not_before": null});
    let mut steps = setup(json!({"name": "spec"}), &["a", "b", "c"]);
    steps.extend::<Vec<Step<'_>>>(vec![
        (
            "POST",
            "/namespace/ns/worker/w/make_attempt",
            Some(r#"{"work_spec": "spec", "work_unit": "b", "lifetime": 60000000000}"#),
            200,
            attempt([6, 7, 8], pending.clone()),
        ),
        (
            "GET",
            unit_at("b", "", 4),
            None,
            200,
            unit_json(
                "b",
                "b",
                [4, 9],
                json!({"data": {"i": 1}, "meta": unit_meta, "status": "pending",
                    "active_attempt_url": r(&b, 10)}),
            ),
        ),
        (
            "GET",
            unit_at("b", "/attempts", 4),
            None,
            200,
            json!({"attempts": [short_attempt(&b, [11, 12, 13])]}),
        ),
        ("GET", unit_at("b", "/num-attempts", 4), None, 200, json!(1)),
        (
            "PUT",
            unit_at("b", "", 4),
            Some(r#"{"active_attempt_url": "-"}"#),
            204,
            Value::Null,
        ),
        (
            "GET",
            unit_at("b", "", 4),
            None,
            200,
            unit_json(
                "b",
                "b",
                [4, 14],
                json!({"data": {"i": 1}, "meta": unit_meta, "status": "available"}),
            ),
        ),
        // The attempt does not know yet: still pending, until it renews.
        (
            "GET",
            leak(r(&b, 6)),
            None,
            200,
            attempt([6, 15, 16], pending.clone()),
        ),
        (
            "POST",
            leak(format!("{b}/renew?ref=6")),
            Some(r#"{"extend_duration": 60000000000}"#),
            409,
            error_json(
                "ErrLostLease",
                "the attempt on work unit \"b\" of work spec \"spec\" is no longer the unit's active attempt (lease lost)",
                "spec/b",
            ),
        ),
        (
            "GET",
            leak(r(&b, 6)),
            None,
            200,
            attempt(
                [6, 17, 18],
                json!({"status": "expired", "data": {"i": 1}, "end_time": T0,
                    "expiration_time": "2026-12-03T06:01:00Z"}),
            ),
        ),
        ("GET", unit_at("b", "/num-attempts", 4), None, 200, json!(1)),
        (
            "DELETE",
            spec_at("/work_unit?ref=2&name=a"),
            None,
            200,
            json!({"Deleted": 1}),
        ),
        (
            "GET",
            unit_at("a", "", 3),
            None,
            404,
            error_json("ErrGone", "work unit \"a\" no longer exists", "work_unit:a"),
        ),
        (
            "GET",
            leak(unit_path("a")),
            None,
            404,
            error_json("ErrNoSuchWorkUnit", "no such work unit \"a\"", "a"),
        ),
        (
            "DELETE",
            spec_at("/work_unit?ref=2&status=pending"),
            None,
            200,
            json!({"Deleted": 0}),
        ),
        // No query: every unit.
        (
            "DELETE",
            spec_at("/work_unit?ref=2"),
            None,
            200,
            json!({"Deleted": 2}),
        ),
        (
            "GET",
            spec_at("/work_unit?ref=2"),
            None,
            200,
            json!({"work_units": []}),
        ),
        (
            "GET",
            unit_at("b", "/attempts", 4),
            None,
            404,
            error_json("ErrGone", "work unit \"b\" no longer exists", "work_unit:b"),
        ),
    ]);
    server.check(&steps).await;
    server
}

#[tokio::test]
async fn active_attempts_and_deletion_answer_as_pinned() {
    active_attempts_and_deletion().await;
}
