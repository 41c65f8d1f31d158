//! Attempts one by one: reading one, renewing, expiring, retrying,
//! finishing and failing it, and what each refuses once it ended.

use serde_json::{json, Value};

use super::in_process::{r, InProcess, Step};
use super::{attempt_json, attempt_path, error_json, leak, setup, unit_json, unit_path, T0};

/// `path` plus `rest`, with the token `ordinal`.
pub(super) fn at(path: &str, rest: &str, ordinal: usize) -> &'static str {
    leak(format!("{path}{rest}?ref={ordinal}"))
}

/// The body of `ErrNotPending` for unit `unit`.
pub(super) fn not_pending(unit: &str) -> Value {
    let message =
        format!("the attempt on work unit \"{unit}\" of work spec \"spec\" is not pending");
    error_json("ErrNotPending", &message, &format!("spec/{unit}"))
}

/// The body of `ErrLostLease` for unit `unit`.
pub(super) fn lost_lease(unit: &str) -> Value {
    let message = format!(
        "the attempt on work unit \"{unit}\" of work spec \"spec\" is no longer the unit's active attempt (lease lost)"
    );
    error_json("ErrLostLease", &message, &format!("spec/{unit}"))
}

/// Unit `unit` (the `i`-th of the setup) read through token `refs[0]`.
pub(super) fn unit(name: &str, refs: [usize; 2], status: &str, not_before: Value) -> Value {
    let rest = json!({"data": {"i": (name.as_bytes()[0] - b'a')}, "status": status,
        "meta": {"priority": 0.0, "not_before": not_before}});
    unit_json(name, name, refs, rest)
}

/// Unit `unit` still holding `w`'s ended attempt, whose `data` shows as
/// the unit's: `refs` are the ordinals of the unit's token, its work
/// spec's and the attempt's.
fn held(name: &str, refs: [usize; 3], status: &str, data: Value) -> Value {
    let attempt = r(&attempt_path(name, "w", T0), refs[2]);
    let rest = json!({"data": data, "status": status, "active_attempt_url": attempt,
        "meta": {"priority": 0.0, "not_before": null}});
    unit_json(name, name, [refs[0], refs[1]], rest)
}

/// The request that makes worker `worker`'s attempt on `unit`.
pub(super) fn make(worker: &str, unit: &str) -> (&'static str, &'static str) {
    (
        leak(format!("/namespace/ns/worker/{worker}/make_attempt")),
        leak(format!(
            r#"{{"work_spec": "spec", "work_unit": "{unit}", "lifetime": 60000000000}}"#
        )),
    )
}

/// Four attempts, ended four ways.
pub async fn attempt_endings() -> InProcess {
    let server = InProcess::new("");
    let [a, b, c, d] = ["a", "b", "c", "d"].map(|u| attempt_path(u, "w", T0));
    let pending = |i: usize| json!({"status": "pending", "data": {"i": i}, "expiration_time": "2026-12-03T06:01:00Z"});
    let ended = |status: &str, data: Value, expiration: &str| json!({"status": status, "data": data, "end_time": T0, "expiration_time": expiration});
    let mut steps = setup(json!({"name": "spec"}), &["a", "b", "c", "d"]);
    for (i, unit) in ["a", "b", "c", "d"].into_iter().enumerate() {
        let (path, body) = make("w", unit);
        let attempt = attempt_path(unit, "w", T0);
        let refs = [7 + 3 * i, 8 + 3 * i, 9 + 3 * i];
        steps.push((
            "POST",
            path,
            Some(body),
            200,
            attempt_json(&attempt, refs, pending(i)),
        ));
    }
    steps.extend::<Vec<Step<'_>>>(vec![
        (
            "GET",
            at(&a, "", 7),
            None,
            200,
            attempt_json(&a, [7, 19, 20], pending(0)),
        ),
        // Renewing extends the lease from now and may replace the data.
        (
            "POST",
            at(&a, "/renew", 7),
            Some(r#"{"extend_duration": 120000000000, "data": {"progress": 1}}"#),
            204,
            Value::Null,
        ),
        (
            "GET",
            at(&a, "", 7),
            None,
            200,
            attempt_json(
                &a,
                [7, 21, 22],
                json!({"status": "pending", "data": {"progress": 1},
                "expiration_time": "2026-12-03T06:02:00Z"}),
            ),
        ),
        ("POST", at(&a, "/expire", 7), Some("{}"), 204, Value::Null),
        (
            "GET",
            at(&a, "", 7),
            None,
            200,
            attempt_json(
                &a,
                [7, 23, 24],
                ended("expired", json!({"progress": 1}), "2026-12-03T06:02:00Z"),
            ),
        ),
        // Expiring gives the unit back.
        (
            "GET",
            at(&unit_path("a"), "", 3),
            None,
            200,
            unit("a", [3, 25], "available", Value::Null),
        ),
        // Expiring what expired does nothing, and is no error.
        ("POST", at(&a, "/expire", 7), Some("{}"), 204, Value::Null),
        // A retry after ten minutes: the unit waits until then.
        (
            "POST",
            at(&b, "/retry", 10),
            Some(r#"{"delay": 600000000000}"#),
            204,
            Value::Null,
        ),
        (
            "GET",
            at(&b, "", 10),
            None,
            200,
            attempt_json(
                &b,
                [10, 26, 27],
                ended("retryable", json!({"i": 1}), "2026-12-03T06:01:00Z"),
            ),
        ),
        (
            "GET",
            at(&unit_path("b"), "", 4),
            None,
            200,
            unit("b", [4, 28], "delayed", json!("2026-12-03T06:10:00Z")),
        ),
        (
            "POST",
            at(&c, "/finish", 13),
            Some(r#"{"data": {"out": 1}}"#),
            204,
            Value::Null,
        ),
        (
            "GET",
            at(&c, "", 13),
            None,
            200,
            attempt_json(
                &c,
                [13, 29, 30],
                ended("finished", json!({"out": 1}), "2026-12-03T06:01:00Z"),
            ),
        ),
        // Once finished, every other ending is refused, renewal too.
        (
            "POST",
            at(&c, "/fail", 13),
            Some("{}"),
            409,
            not_pending("c"),
        ),
        (
            "POST",
            at(&c, "/retry", 13),
            Some("{}"),
            409,
            not_pending("c"),
        ),
        (
            "POST",
            at(&c, "/expire", 13),
            Some("{}"),
            409,
            not_pending("c"),
        ),
        (
            "POST",
            at(&c, "/renew", 13),
            Some(r#"{"extend_duration": 1000000000}"#),
            409,
            not_pending("c"),
        ),
        (
            "POST",
            at(&d, "/fail", 16),
            Some(r#"{"data": {"why": "x"}}"#),
            204,
            Value::Null,
        ),
        // Failing does not release the unit: the failed attempt stays its
        // active one, and its data is the unit's data now.
        (
            "GET",
            at(&unit_path("d"), "", 6),
            None,
            200,
            held("d", [6, 31, 32], "failed", json!({"why": "x"})),
        ),
        // go lets a failed attempt finish after all.
        ("POST", at(&d, "/finish", 16), Some("{}"), 204, Value::Null),
        (
            "GET",
            at(&d, "", 16),
            None,
            200,
            attempt_json(
                &d,
                [16, 33, 34],
                ended("finished", json!({"why": "x"}), "2026-12-03T06:01:00Z"),
            ),
        ),
        (
            "GET",
            at(&unit_path("d"), "", 6),
            None,
            200,
            held("d", [6, 35, 36], "finished", json!({"why": "x"})),
        ),
        // Without a token, the path alone finds the attempt: its worker
        // and exact start time.
        (
            "GET",
            leak(c.clone()),
            None,
            200,
            attempt_json(
                &c,
                [37, 38, 39],
                ended("finished", json!({"out": 1}), "2026-12-03T06:01:00Z"),
            ),
        ),
        (
            "GET",
            leak(attempt_path("c", "w", "2026-12-03T06:00:01Z")),
            None,
            404,
            error_json(
                "error",
                "no attempt of worker \"w\" started at 2026-12-03 06:00:01 UTC on work unit \"c\"",
                "",
            ),
        ),
        (
            "GET",
            leak(attempt_path("c", "w", "yesterday")),
            None,
            400,
            error_json(
                "error",
                "attempt start time \"yesterday\" is not RFC 3339: premature end of input",
                "",
            ),
        ),
    ]);
    server.check(&steps).await;
    server
}

#[tokio::test]
async fn attempt_endings_answer_as_pinned() {
    attempt_endings().await;
}
