//! Golden requests and answers, route by route, in process against the
//! memory backend on a mock clock (so times are fixed): each step is a
//! request and the status and JSON body it must get, in order.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use chrono::{TimeZone, Utc};
use coordinate_api::MockClock;
use coordinate_memory::MemoryCoordinate;
use coordinated::{router, AppState, ServerConfig, SummarySampler};
use serde_json::{json, Value};
use tower::ServiceExt as _;

const T0: &str = "2026-12-03T06:00:00Z";
const A: &str = "/namespace/ns/work_spec/spec/work_unit/-dSAx/attempt/w/2026-12-03T06:00:00Z";

fn app(prefix: &str) -> axum::Router {
    let clock = Arc::new(MockClock::new(
        Utc.with_ymd_and_hms(2026, 12, 3, 6, 0, 0).unwrap(),
    ));
    let store = Arc::new(MemoryCoordinate::with_clock(clock).with_scheduler_seed(1));
    let config = ServerConfig {
        path_prefix: prefix.to_owned(),
        ..ServerConfig::default()
    };
    let sampler = SummarySampler::new(Duration::from_secs(120), false);
    router(AppState::new(store, None, config, sampler))
}

async fn send(
    app: &axum::Router,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (u16, Value, String) {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("Host", "localhost");
    if body.is_some() {
        request = request.header("Content-Type", "application/json");
    }
    let request = request
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned())))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{path}: {e}: {bytes:?}"))
    };
    (status, value, content_type)
}

/// Runs the steps in order, checking each answer exactly.
async fn check(app: &axum::Router, steps: &[(&str, &str, Option<&str>, u16, Value)]) {
    for (method, path, body, status, expected) in steps {
        let (got_status, got, content_type) = send(app, method, path, *body).await;
        assert_eq!(
            (got_status, &got),
            (*status, expected),
            "{method} {path} {body:?}"
        );
        if !got.is_null() {
            assert_eq!(
                content_type, "application/vnd.diffeo.coordinate.v1+json",
                "{path}"
            );
        }
    }
}

#[tokio::test]
async fn every_route_answers_as_pinned() {
    let app = app("");
    let spec = "/namespace/ns/work_spec/spec";
    let unit = "/namespace/ns/work_spec/spec/work_unit/-dSAx";
    let worker = "/namespace/ns/worker/w";
    let q = "{?name*,status*,previous,limit}";
    let steps: Vec<(&str, &str, Option<&str>, u16, Value)> = vec![
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
            json!({"url": "/namespace/ns", "name": "ns", "summary_url": "/namespace/ns/summary", "work_specs_url": "/namespace/ns/work_spec", "work_spec_url": "/namespace/ns/work_spec/{spec}", "workers_url": "/namespace/ns/worker", "worker_url": "/namespace/ns/worker/{worker}"}),
        ),
        (
            "GET",
            "/namespace",
            None,
            200,
            json!({"namespaces": [{"url": "/namespace/ns", "name": "ns"}]}),
        ),
        (
            "POST",
            "/namespace/ns/work_spec",
            Some(r#"{"data": {"name": "spec", "max_retries": 2}}"#),
            201,
            json!({"url": spec, "name": "spec"}),
        ),
        (
            "GET",
            "/namespace/ns/work_spec",
            None,
            200,
            json!({"work_specs": [{"url": spec, "name": "spec"}]}),
        ),
        (
            "GET",
            spec,
            None,
            200,
            json!({"url": spec, "name": "spec", "data": {"name": "spec", "max_retries": 2},
            "summary_url": format!("{spec}/summary"), "work_units_url": format!("{spec}/work_unit"),
            "work_unit_query_url": format!("{spec}/work_unit{q}"), "work_unit_url": format!("{spec}/work_unit/{{unit}}"),
            "work_unit_counts_url": format!("{spec}/counts"), "work_unit_change_url": format!("{spec}/change{q}"),
            "work_unit_adjust_url": format!("{spec}/adjust{q}"), "meta": format!("{spec}/meta{{?counts}}")}),
        ),
        (
            "POST",
            leak(format!("{spec}/work_unit")),
            Some(r#"{"name": "u 1", "data": {"k": [1, "two"]}, "meta": {"priority": 5}}"#),
            201,
            json!({"url": unit, "name": "u 1"}),
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
            json!({"work_units": [{"url": unit, "name": "u 1"}]}),
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
            json!({"url": format!("{spec}/work_unit/u2"), "name": "u2", "data": "oWFrQmJ5", "meta": {"priority": 2.0, "not_before": null}, "status": "available", "work_spec_url": spec, "attempts_url": format!("{spec}/work_unit/u2/attempts")}),
        ),
        (
            "GET",
            worker,
            None,
            200,
            json!({"url": worker, "name": "w", "active": true, "mode": "", "data": {}, "expiration": "2026-12-03T06:15:00Z", "last_update": T0,
            "request_attempts_url": format!("{worker}/request_attempts"), "make_attempt_url": format!("{worker}/make_attempt"), "active_attempts_url": format!("{worker}/active_attempts"), "all_attempts_url": format!("{worker}/all_attempts"), "child_attempts_url": format!("{worker}/child_attempts")}),
        ),
        (
            "POST",
            leak(format!("{worker}/request_attempts")),
            Some(r#"{"number_of_work_units": 1, "lifetime": 60000000000, "work_specs": ["spec"]}"#),
            200,
            json!({"work_spec_url": spec, "attempts": [attempt_json("pending", None)]}),
        ),
        ("GET", A, None, 200, attempt_json("pending", None)),
        (
            "GET",
            leak(format!("{unit}/attempts")),
            None,
            200,
            json!({"attempts": [short_attempt()]}),
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
            json!({"attempts": [short_attempt()]}),
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
            json!({"workers": [{"url": worker, "name": "w"}]}),
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
    check(&app, &steps).await;
}

/// A step's text that lives as long as the test.
fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

fn short_attempt() -> Value {
    json!({"url": A, "work_unit_url": "/namespace/ns/work_spec/spec/work_unit/-dSAx", "worker_url": "/namespace/ns/worker/w", "start_time": T0})
}

fn attempt_json(status: &str, end: Option<&str>) -> Value {
    let mut value = json!({"url": A, "work_unit_url": "/namespace/ns/work_spec/spec/work_unit/-dSAx", "worker_url": "/namespace/ns/worker/w",
        "start_time": T0, "status": status, "data": {"k": [1, "two"]}, "expiration_time": "2026-12-03T06:01:00Z",
        "renew_url": format!("{A}/renew"), "expire_url": format!("{A}/expire"), "finish_url": format!("{A}/finish"), "fail_url": format!("{A}/fail"), "retry_url": format!("{A}/retry")});
    if let Some(end) = end {
        value["end_time"] = json!(end);
    }
    value
}

#[tokio::test]
async fn refusals_are_json_and_name_what_was_wrong() {
    let app = app("");
    let steps: Vec<(&str, &str, Option<&str>, u16, Value)> = vec![
        (
            "GET",
            "/nowhere",
            None,
            404,
            json!({"error": "error", "message": "no resource at /nowhere"}),
        ),
        (
            "PATCH",
            "/namespace",
            None,
            405,
            json!({"error": "error", "message": "method PATCH not allowed on /namespace"}),
        ),
        (
            "POST",
            "/namespace",
            Some("{"),
            400,
            json!({"error": "error", "message": "malformed JSON body: EOF while parsing an object at line 1 column 1"}),
        ),
        (
            "POST",
            "/namespace/ns/work_spec",
            Some(r#"{"data": {"nom": "x"}}"#),
            400,
            json!({"error": "ErrNoWorkSpecName", "message": "the work spec definition has no 'name' key"}),
        ),
        (
            "GET",
            "/namespace/-%21/summary",
            None,
            400,
            json!({"error": "error", "message": "\"-!\" is not an encoded name: the text after '-' is not URL-safe base64 without padding"}),
        ),
        (
            "GET",
            "/namespace/ns/work_spec/s/work_unit?status=sleeping",
            None,
            400,
            json!({"error": "error", "message": "work unit query: \"sleeping\" is not a work unit status"}),
        ),
        (
            "GET",
            "/namespace",
            None,
            200,
            json!({"namespaces": [{"url": "/namespace/ns", "name": "ns"}]}),
        ),
    ];
    check(&app, &steps).await;
}

#[tokio::test]
async fn accept_and_content_type_are_negotiated() {
    let app = app("");
    let request = |accept: &str, content_type: &str| {
        Request::builder()
            .method("POST")
            .uri("/namespace")
            .header("Host", "localhost")
            .header("Accept", accept)
            .header("Content-Type", content_type)
            .body(Body::from(r#"{"name": "n"}"#))
            .unwrap()
    };
    let response = app
        .clone()
        .oneshot(request("text/html", "application/json"))
        .await
        .unwrap();
    assert_eq!(response.status(), 406);
    let response = app
        .clone()
        .oneshot(request("*/*", "text/plain"))
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    let response = app
        .clone()
        .oneshot(request("application/json", "text/json"))
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["location"], "/namespace/n");
}

#[tokio::test]
async fn a_path_prefix_nests_every_route_and_url() {
    let app = app("/coord");
    let steps: Vec<(&str, &str, Option<&str>, u16, Value)> = vec![
        (
            "GET",
            "/coord",
            None,
            200,
            json!({"url": "/coord/", "summary_url": "/coord/summary", "namespaces_url": "/coord/namespace", "namespace_url": "/coord/namespace/{namespace}"}),
        ),
        ("GET", "/coord/healthz", None, 200, json!({"status": "ok"})),
        (
            "GET",
            "/namespace",
            None,
            404,
            json!({"error": "error", "message": "no resource at /namespace"}),
        ),
    ];
    check(&app, &steps).await;
}
