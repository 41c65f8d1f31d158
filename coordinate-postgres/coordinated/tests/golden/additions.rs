//! The routes go-coordinate lacks: batched adds, a unit's priority,
//! batched completions and renewals, waiting for work, and retention.

use serde_json::{json, Value};

use super::in_process::{r, InProcess, Step};
use super::{
    attempt_json, attempt_path, claimed, error_json, leak, setup, spec_at, unit_json, unit_path, T0,
};

/// A namespace-level addition's path.
fn ns_at(rest: &str) -> &'static str {
    leak(format!("/namespace/ns{rest}"))
}

/// Units added in a batch, reprioritised, claimed, renewed and completed
/// in batches; each entry of a batch answers for itself.
pub async fn batches() -> InProcess {
    let server = InProcess::new("");
    let a = attempt_path("a", "w", T0);
    let b = attempt_path("b", "w", T0);
    let lease = |data: Value, expiration: &str| json!({"status": "pending", "data": data, "expiration_time": expiration});
    let renew = json!({"attempts": [r(&b, 6), r(&a, 9), attempt_path("c", "w", T0),
        attempt_path("zzz", "w", T0)], "extend_duration": 300_000_000_000_u64});
    let complete = json!({"completions": [
        {"attempt": r(&b, 6), "outcome": "finish", "data": {"done": 1}},
        {"attempt": r(&a, 9), "outcome": "retry", "delay": 60_000_000_000_u64},
        {"attempt": r(&b, 6), "outcome": "fail"}]});
    let mut steps = setup(json!({"name": "spec"}), &[]);
    steps.extend::<Vec<Step<'_>>>(vec![
        // Data as JSON or as go's base64 CBOR; meta or not.
        (
            "POST",
            spec_at("/work_units?ref=2"),
            Some(
                r#"{"work_units": [{"name": "a", "data": {"i": 0}, "meta": {"priority": 1}}, {"name": "b", "data": "oWFrQmJ5"}, {"name": "c", "meta": {"priority": 0, "not_before": "2026-12-03T06:05:00Z"}}]}"#,
            ),
            204,
            Value::Null,
        ),
        (
            "GET",
            spec_at("/counts?ref=2"),
            None,
            200,
            json!({"available": 2, "delayed": 1}),
        ),
        (
            "POST",
            spec_at("/work_unit/b/set_priority"),
            Some(r#"{"priority": 7}"#),
            204,
            Value::Null,
        ),
        (
            "GET",
            leak(unit_path("b")),
            None,
            200,
            unit_json("b", "b", [3, 4], json!({"data": "oWFrQmJ5", "status": "available",
                "meta": {"priority": 7.0, "not_before": null}})),
        ),
        // Highest priority first: b, then a.
        (
            "POST",
            ns_at("/worker/w/request_attempts"),
            Some(r#"{"number_of_work_units": 2, "work_specs": ["spec"], "lifetime": 60000000000}"#),
            200,
            claimed(5, vec![
                attempt_json(&b, [6, 7, 8], lease(json!("oWFrQmJ5"), "2026-12-03T06:01:00Z")),
                attempt_json(&a, [9, 10, 11], lease(json!({"i": 0}), "2026-12-03T06:01:00Z"))]),
        ),
        // An attempt URL that finds no attempt is Gone; one under a unit
        // that does not exist says so.
        (
            "POST",
            ns_at("/renew_attempts"),
            Some(leak(renew.to_string())),
            200,
            json!({"results": [null, null,
                error_json("ErrGone", "the attempt on work unit \"c\" no longer exists", "attempt:c"),
                error_json("ErrNoSuchWorkUnit", "no such work unit \"zzz\"", "zzz")]}),
        ),
        (
            "GET",
            leak(r(&b, 6)),
            None,
            200,
            attempt_json(&b, [6, 12, 13], lease(json!("oWFrQmJ5"), "2026-12-03T06:05:00Z")),
        ),
        // Applied in order: the third entry meets b already finished.
        (
            "POST",
            ns_at("/complete_attempts"),
            Some(leak(complete.to_string())),
            200,
            json!({"results": [null, null, error_json("ErrNotPending",
                "the attempt on work unit \"b\" of work spec \"spec\" is not pending", "spec/b")]}),
        ),
        (
            "GET",
            spec_at("/counts?ref=2"),
            None,
            200,
            json!({"delayed": 2, "finished": 1}),
        ),
        ("POST", ns_at("/renew_attempts"), Some(r#"{"attempts": [], "extend_duration": 0}"#), 200, json!({"results": []})),
        // A whole batch is refused, before anything is done, for an
        // attempt of another namespace or a URL that is no attempt's.
        (
            "POST",
            ns_at("/complete_attempts"),
            Some(leak(json!({"completions": [{"attempt": r(&b, 6), "outcome": "fail"},
                {"attempt": "/namespace/other/work_spec/spec/work_unit/a/attempt/w/2026-12-03T06:00:00Z",
                    "outcome": "finish"}]}).to_string())),
            400,
            error_json("ErrInvalidInput",
                "invalid attempt: entry 1 belongs to namespace \"other\", not \"ns\"", "attempt"),
        ),
        (
            "POST",
            ns_at("/complete_attempts"),
            Some(r#"{"completions": [{"attempt": "/elsewhere", "outcome": "finish"}]}"#),
            400,
            error_json("error", "entry 0: \"/elsewhere\" is not an attempt URL of this server", ""),
        ),
    ]);
    server.check(&steps).await;
    server
}

#[tokio::test]
async fn batches_answer_as_pinned() {
    batches().await;
}

/// What retention would remove, and removes, in limited rounds; a wait
/// for work that times out, and one in a namespace that is gone.
pub async fn retention_and_waiting() -> InProcess {
    let server = InProcess::new("");
    let a = attempt_path("a", "w", T0);
    let b = attempt_path("b", "w", T0);
    let lease = |i: usize| json!({"status": "pending", "data": {"i": i}, "expiration_time": "2026-12-03T06:01:00Z"});
    let cutoffs = |work_specs: &str, limit: usize| {
        leak(format!(
            r#"{{"finished_before": "2026-12-03T06:00:01Z", "failed_before": "2026-12-03T06:00:01Z", "workers_expired_before": "2026-12-04T00:00:00Z", "work_specs": {work_specs}, "limit": {limit}}}"#
        ))
    };
    let mut steps = setup(json!({"name": "spec"}), &["a", "b"]);
    steps.extend::<Vec<Step<'_>>>(vec![
        (
            "POST",
            ns_at("/worker/w/request_attempts"),
            Some(r#"{"number_of_work_units": 2, "work_specs": ["spec"], "lifetime": 60000000000}"#),
            200,
            claimed(
                5,
                vec![
                    attempt_json(&a, [6, 7, 8], lease(0)),
                    attempt_json(&b, [9, 10, 11], lease(1)),
                ],
            ),
        ),
        (
            "POST",
            leak(format!("{a}/finish?ref=6")),
            Some("{}"),
            204,
            Value::Null,
        ),
        (
            "POST",
            leak(format!("{b}/fail?ref=9")),
            Some("{}"),
            204,
            Value::Null,
        ),
        // An idle worker: inactive, no attempts, its report ran out.
        (
            "PUT",
            ns_at("/worker/idle"),
            Some(r#"{"active": false}"#),
            204,
            Value::Null,
        ),
        (
            "POST",
            ns_at("/count_prunable"),
            Some(cutoffs("[]", 10)),
            200,
            json!({"work_units": 2, "workers": 1}),
        ),
        (
            "POST",
            ns_at("/count_prunable"),
            Some(cutoffs(r#"["nope"]"#, 10)),
            404,
            error_json("ErrNoSuchWorkSpec", "no such work spec \"nope\"", "nope"),
        ),
        // Units go first, at most `limit` records a call.
        (
            "POST",
            ns_at("/prune"),
            Some(cutoffs(r#"["spec"]"#, 2)),
            200,
            json!({"work_units": 2, "workers": 0}),
        ),
        (
            "POST",
            ns_at("/prune"),
            Some(cutoffs("[]", 2)),
            200,
            json!({"work_units": 0, "workers": 1}),
        ),
        (
            "POST",
            ns_at("/count_prunable"),
            Some(cutoffs("[]", 10)),
            200,
            json!({"work_units": 0, "workers": 0}),
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
            "/namespace/ns/worker?ref=1",
            None,
            200,
            json!({"workers": [{"url": "/namespace/ns/worker/w?ref=12", "name": "w"}]}),
        ),
        (
            "POST",
            ns_at("/wait_for_work"),
            Some(r#"{"timeout": 1000000}"#),
            200,
            json!({"wakeup": "timed_out"}),
        ),
        (
            "POST",
            ns_at("/wait_for_cancellation"),
            Some(r#"{"timeout": 1000000}"#),
            200,
            json!({"wakeup": "timed_out"}),
        ),
        ("DELETE", "/namespace/ns?ref=1", None, 204, Value::Null),
        (
            "POST",
            ns_at("/wait_for_work?ref=1"),
            Some(r#"{"timeout": 1000000}"#),
            404,
            error_json(
                "ErrGone",
                "namespace \"ns\" no longer exists",
                "namespace:ns",
            ),
        ),
    ]);
    server.check(&steps).await;
    server
}

#[tokio::test]
async fn retention_and_waiting_answer_as_pinned() {
    retention_and_waiting().await;
}
