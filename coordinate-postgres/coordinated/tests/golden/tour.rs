//! A tour: one unit's life from an empty store to its namespace's
//! deletion, through most resources once, as go's client would walk it.

use serde_json::{json, Value};

use super::in_process::{r, InProcess, Step};
use super::{leak, T0};

const A: &str = "/namespace/ns/work_spec/spec/work_unit/-dSAx/attempt/w/2026-12-03T06:00:00Z";

/// The tour's steps, on a server of its own.
pub async fn tour() -> InProcess {
    let server = InProcess::new("");
    let spec = "/namespace/ns/work_spec/spec";
    let unit = "/namespace/ns/work_spec/spec/work_unit/-dSAx";
    let worker = "/namespace/ns/worker/w";
    let q = "{&name*,status*,previous,limit}";
    let steps: Vec<Step<'_>> = vec![
        (
            "GET",
            "/",
            None,
            200,
            json!({"url": "/", "summary_url": "/summary", "namespaces_url": "/namespace", "namespace_url": "/namespace/{namespace}"}),
        ),
        (
            "POST",
            "/namespace",
            Some(r#"{"name": "ns"}"#),
            201,
            json!({"url": "/namespace/ns?ref=1", "name": "ns", "summary_url": "/namespace/ns/summary?ref=1", "work_specs_url": "/namespace/ns/work_spec?ref=1", "work_spec_url": "/namespace/ns/work_spec/{spec}?ref=1", "workers_url": "/namespace/ns/worker?ref=1", "worker_url": "/namespace/ns/worker/{worker}?ref=1"}),
        ),
        (
            "GET",
            "/namespace",
            None,
            200,
            // A new handle each time a path is resolved by names.
            json!({"namespaces": [{"url": "/namespace/ns?ref=2", "name": "ns"}]}),
        ),
        (
            "POST",
            "/namespace/ns/work_spec",
            Some(r#"{"data": {"name": "spec", "max_retries": 2}}"#),
            201,
            json!({"url": r(spec, 3), "name": "spec"}),
        ),
        (
            "GET",
            "/namespace/ns/work_spec",
            None,
            200,
            // Listed by name: the namespace's handle looks the spec up.
            json!({"work_specs": [{"url": r(spec, 4), "name": "spec"}]}),
        ),
        (
            "GET",
            spec,
            None,
            200,
            json!({"url": r(spec, 5), "name": "spec", "data": {"name": "spec", "max_retries": 2},
            "summary_url": format!("{spec}/summary?ref=5"), "work_units_url": format!("{spec}/work_unit?ref=5"),
            "work_unit_query_url": format!("{spec}/work_unit?ref=5{q}"), "work_unit_url": format!("{spec}/work_unit/{{unit}}?ref=5"),
            "work_unit_counts_url": format!("{spec}/counts?ref=5"), "work_unit_change_url": format!("{spec}/change?ref=5{q}"),
            "work_unit_adjust_url": format!("{spec}/adjust?ref=5{q}"), "meta": format!("{spec}/meta?ref=5{{&counts}}")}),
        ),
        (
            "POST",
            leak(format!("{spec}/work_unit")),
            Some(r#"{"name": "u 1", "data": {"k": [1, "two"]}, "meta": {"priority": 5}}"#),
            201,
            json!({"url": r(unit, 6), "name": "u 1"}),
        ),
        (
            "POST",
            leak(format!("{spec}/work_units")),
            Some(r#"{"work_units": [{"name": "u2", "data": "oWFrQmJ5"}]}"#),
            204,
            Value::Null,
        ),
        (
            "GET",
            leak(format!("{spec}/work_unit?status=available&limit=1")),
            None,
            200,
            json!({"work_units": [{"url": r(unit, 7), "name": "u 1"}]}),
        ),
        (
            "GET",
            leak(format!("{spec}/counts")),
            None,
            200,
            json!({"available": 2}),
        ),
        (
            "GET",
            leak(format!("{spec}/meta?counts=true")),
            None,
            200,
            json!({"priority": 0, "weight": 20, "paused": false, "continuous": false, "can_be_continuous": false, "interval": 0, "next_continuous": null, "max_running": 0, "max_attempts_returned": 0, "max_retries": 2, "next_work_spec_name": "", "available_count": 2, "pending_count": 0, "runtime": ""}),
        ),
        (
            "PUT",
            leak(format!("{spec}/meta")),
            Some(r#"{"priority": 3, "weight": 7}"#),
            204,
            Value::Null,
        ),
        (
            "POST",
            leak(format!("{spec}/change?name=u2")),
            Some(r#"{"meta": {"priority": 9}}"#),
            204,
            Value::Null,
        ),
        (
            "POST",
            leak(format!("{spec}/adjust?name=u2")),
            Some(r#"{"meta": {"priority": 1}}"#),
            204,
            Value::Null,
        ),
        (
            "POST",
            leak(format!("{spec}/work_unit/u2/set_priority")),
            Some(r#"{"priority": 2}"#),
            204,
            Value::Null,
        ),
        (
            "GET",
            leak(format!("{spec}/work_unit/u2")),
            None,
            200,
            json!({"url": format!("{spec}/work_unit/u2?ref=8"), "name": "u2", "data": "oWFrQmJ5", "meta": {"priority": 2.0, "not_before": null}, "status": "available", "work_spec_url": r(spec, 9), "attempts_url": format!("{spec}/work_unit/u2/attempts?ref=8")}),
        ),
        (
            "GET",
            worker,
            None,
            200,
            json!({"url": r(worker, 10), "name": "w", "active": true, "mode": "", "data": {}, "expiration": "2026-12-03T06:15:00Z", "last_update": T0,
            "request_attempts_url": format!("{worker}/request_attempts?ref=10"), "make_attempt_url": format!("{worker}/make_attempt?ref=10"), "active_attempts_url": format!("{worker}/active_attempts?ref=10"), "all_attempts_url": format!("{worker}/all_attempts?ref=10"), "child_attempts_url": format!("{worker}/child_attempts?ref=10")}),
        ),
        (
            "POST",
            leak(format!("{worker}/request_attempts")),
            Some(r#"{"number_of_work_units": 1, "lifetime": 60000000000, "work_specs": ["spec"]}"#),
            200,
            super::claimed(11, vec![attempt_json([12, 13, 14], "pending")]),
        ),
        ("GET", A, None, 200, attempt_json([15, 16, 17], "pending")),
        (
            "GET",
            leak(format!("{unit}/attempts")),
            None,
            200,
            json!({"attempts": [short_attempt([18, 19, 20])]}),
        ),
        (
            "GET",
            leak(format!("{unit}/num-attempts")),
            None,
            200,
            json!(1),
        ),
        (
            "GET",
            leak(format!("{worker}/active_attempts")),
            None,
            200,
            json!({"attempts": [short_attempt([21, 22, 23])]}),
        ),
        (
            "POST",
            leak(format!("{A}/renew")),
            Some(r#"{"extend_duration": 120000000000}"#),
            204,
            Value::Null,
        ),
        (
            "POST",
            "/namespace/ns/renew_attempts",
            Some(leak(format!(
                r#"{{"attempts": ["{A}"], "extend_duration": 60000000000}}"#
            ))),
            200,
            json!({"results": [null]}),
        ),
        (
            "POST",
            leak(format!("{A}/finish")),
            Some(r#"{"data": {"done": true}}"#),
            204,
            Value::Null,
        ),
        (
            "POST",
            leak(format!("{A}/fail")),
            Some("{}"),
            409,
            json!({"error": "ErrNotPending", "message": "the attempt on work unit \"u 1\" of work spec \"spec\" is not pending", "value": "spec/-dSAx"}),
        ),
        (
            "POST",
            "/namespace/ns/complete_attempts",
            Some(leak(format!(
                r#"{{"completions": [{{"attempt": "{A}", "outcome": "retry", "delay": 0}}]}}"#
            ))),
            200,
            json!({"results": [{"error": "ErrNotPending", "message": "the attempt on work unit \"u 1\" of work spec \"spec\" is not pending", "value": "spec/-dSAx"}]}),
        ),
        (
            "GET",
            "/summary",
            None,
            200,
            json!([{"Namespace": "ns", "WorkSpec": "spec", "Status": "available", "Count": 1}, {"Namespace": "ns", "WorkSpec": "spec", "Status": "finished", "Count": 1}]),
        ),
        (
            "GET",
            "/namespace/ns/worker",
            None,
            200,
            json!({"workers": [{"url": r(worker, 24), "name": "w"}]}),
        ),
        (
            "POST",
            "/namespace/ns/wait_for_work",
            Some(r#"{"timeout": 1000000}"#),
            200,
            json!({"wakeup": "timed_out"}),
        ),
        (
            "POST",
            "/namespace/ns/count_prunable",
            Some(
                r#"{"finished_before": "2027-01-01T00:00:00Z", "failed_before": null, "workers_expired_before": null, "work_specs": [], "limit": 10}"#,
            ),
            200,
            json!({"work_units": 1, "workers": 0}),
        ),
        (
            "DELETE",
            leak(format!("{spec}/work_unit?name=u2")),
            None,
            200,
            json!({"Deleted": 1}),
        ),
        ("DELETE", spec, None, 204, Value::Null),
        (
            "GET",
            spec,
            None,
            404,
            json!({"error": "ErrNoSuchWorkSpec", "message": "no such work spec \"spec\"", "value": "spec"}),
        ),
        ("DELETE", "/namespace/ns", None, 204, Value::Null),
    ];
    server.check(&steps).await;
    server
}

#[tokio::test]
async fn a_tour_answers_as_pinned() {
    tour().await;
}

/// The tour's attempt: its identity; `refs` are the ordinals of the
/// attempt's, its unit's and its worker's tokens.
fn short_attempt(refs: [usize; 3]) -> Value {
    super::short_attempt(A, refs)
}

/// The tour's attempt in full (see [`short_attempt`]).
fn attempt_json(refs: [usize; 3], status: &str) -> Value {
    let rest = json!({"status": status, "data": {"k": [1, "two"]}, "expiration_time": "2026-12-03T06:01:00Z"});
    super::attempt_json(A, refs, rest)
}
