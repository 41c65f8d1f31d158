//! Error bodies: one of each store error kind in go's shape, and the
//! server's own refusals (unknown routes, wrong methods, bad names,
//! queries, bodies and media types, oversized bodies), each a JSON body
//! naming what was wrong.

use serde_json::{json, Value};

use super::in_process::{InProcess, Step};
use super::{attempt_json, attempt_path, error_json, setup, spec_at, unit_path, SPEC, T0};

/// Every store error a client can meet from the memory backend (the
/// `Backend` kinds need a failing store), each with its status.
pub async fn store_errors() -> InProcess {
    let server = InProcess::new("");
    let w = attempt_path("a", "w", T0);
    let v = attempt_path("a", "v", T0);
    let pending =
        json!({"status": "pending", "data": {"i": 0}, "expiration_time": "2026-12-03T06:01:00Z"});
    let lost = "the attempt on work unit \"a\" of work spec \"spec\" is no longer the unit's active attempt (lease lost)";
    let not_pending = "the attempt on work unit \"a\" of work spec \"spec\" is not pending";
    let make = |worker: &str| super::leak(format!("/namespace/ns/worker/{worker}/make_attempt"));
    let mut steps = setup(json!({"name": "spec"}), &["a"]);
    steps.extend::<Vec<Step<'_>>>(vec![
        (
            "GET",
            "/namespace/ns/work_spec/nope",
            None,
            404,
            error_json("ErrNoSuchWorkSpec", "no such work spec \"nope\"", "nope"),
        ),
        // Under a namespace that does not exist: the same, and the
        // namespace is not made by looking.
        (
            "GET",
            "/namespace/absent/work_spec/spec/counts",
            None,
            404,
            error_json("ErrNoSuchWorkSpec", "no such work spec \"spec\"", "spec"),
        ),
        (
            "GET",
            "/namespace",
            None,
            200,
            json!({"namespaces": [{"url": "/namespace/ns?ref=4", "name": "ns"}]}),
        ),
        (
            "GET",
            super::leak(unit_path("nope")),
            None,
            404,
            error_json("ErrNoSuchWorkUnit", "no such work unit \"nope\"", "nope"),
        ),
        (
            "POST",
            make("w"),
            Some(r#"{"work_spec": "nope", "work_unit": "a", "lifetime": 1000000000}"#),
            404,
            error_json("ErrNoSuchWorkSpec", "no such work spec \"nope\"", "nope"),
        ),
        (
            "POST",
            make("w"),
            Some(r#"{"work_spec": "spec", "work_unit": "nope", "lifetime": 1000000000}"#),
            404,
            error_json("ErrNoSuchWorkUnit", "no such work unit \"nope\"", "nope"),
        ),
        (
            "POST",
            make("w"),
            Some(r#"{"work_spec": "spec", "work_unit": "a", "lifetime": 60000000000}"#),
            200,
            attempt_json(&w, [5, 6, 7], pending.clone()),
        ),
        (
            "POST",
            make("v"),
            Some(r#"{"work_spec": "spec", "work_unit": "a", "lifetime": 60000000000}"#),
            200,
            attempt_json(&v, [8, 9, 10], pending),
        ),
        (
            "POST",
            super::leak(format!("{w}/renew?ref=5")),
            Some(r#"{"extend_duration": 60000000000}"#),
            409,
            error_json("ErrLostLease", lost, "spec/a"),
        ),
        (
            "POST",
            super::leak(format!("{v}/finish?ref=8")),
            Some("{}"),
            204,
            Value::Null,
        ),
        (
            "POST",
            super::leak(format!("{v}/finish?ref=8")),
            Some("{}"),
            409,
            error_json("ErrNotPending", not_pending, "spec/a"),
        ),
        (
            "POST",
            spec_at("/work_unit?ref=2"),
            Some(r#"{"name": ""}"#),
            400,
            error_json(
                "ErrInvalidInput",
                "invalid work unit name: must not be empty",
                "work unit name",
            ),
        ),
        (
            "POST",
            "/namespace/ns/work_spec?ref=1",
            Some(r#"{"data": {"name": 5}}"#),
            400,
            error_json(
                "ErrBadWorkSpecName",
                "the work spec 'name' must be a string",
                "",
            ),
        ),
        (
            "POST",
            "/namespace/ns/work_spec?ref=1",
            Some(r#"{"data": {"nom": "spec"}}"#),
            400,
            error_json(
                "ErrNoWorkSpecName",
                "the work spec definition has no 'name' key",
                "",
            ),
        ),
        ("DELETE", spec_at("?ref=2"), None, 204, Value::Null),
        (
            "GET",
            spec_at("/counts?ref=2"),
            None,
            404,
            error_json(
                "ErrGone",
                "work spec \"spec\" no longer exists",
                "work_spec:spec",
            ),
        ),
        // A unit of a deleted spec is gone with it.
        (
            "GET",
            super::leak(format!("{}?ref=3", unit_path("a"))),
            None,
            404,
            error_json("ErrGone", "work unit \"a\" no longer exists", "work_unit:a"),
        ),
        (
            "GET",
            super::leak(format!("{w}?ref=5")),
            None,
            404,
            error_json(
                "ErrGone",
                "the attempt on work unit \"a\" no longer exists",
                "attempt:a",
            ),
        ),
    ]);
    server.check(&steps).await;
    server
}

#[tokio::test]
async fn store_errors_answer_as_pinned() {
    store_errors().await;
}

/// Requests the server refuses before the store sees them, and the one
/// store refusal that still makes a namespace (go's get-or-make).
pub async fn refusals() -> InProcess {
    let server = InProcess::new("");
    let other = |message: &str| error_json("error", message, "");
    let steps: Vec<Step<'_>> = vec![
        ("GET", "/nowhere", None, 404, other("no resource at /nowhere")),
        // An attempt path without its start time is no route.
        (
            "GET",
            "/namespace/ns/work_spec/spec/work_unit/u/attempt/w",
            None,
            404,
            other("no resource at /namespace/ns/work_spec/spec/work_unit/u/attempt/w"),
        ),
        ("PATCH", "/namespace", None, 405, other("method PATCH not allowed on /namespace")),
        ("PUT", "/", Some("{}"), 405, other("method PUT not allowed on /")),
        (
            "DELETE",
            "/namespace/ns/worker/w",
            None,
            405,
            other("method DELETE not allowed on /namespace/ns/worker/w"),
        ),
        (
            "GET",
            spec_at("/change"),
            None,
            405,
            other("method GET not allowed on /namespace/ns/work_spec/spec/change"),
        ),
        (
            "POST",
            "/namespace",
            Some("{"),
            400,
            other("malformed JSON body: EOF while parsing an object at line 1 column 1"),
        ),
        ("POST", "/namespace", None, 400, other("the request needs a JSON body")),
        (
            "POST",
            "/namespace/ns/work_unit/spec/work_units",
            Some(r#"{"work_units": {}}"#),
            404,
            other("no resource at /namespace/ns/work_unit/spec/work_units"),
        ),
        (
            "POST",
            spec_at("/work_units"),
            Some(r#"{"work_units": {}}"#),
            400,
            other("malformed JSON body: invalid type: map, expected a sequence at line 1 column 15"),
        ),
        (
            "GET",
            "/namespace/-%21/summary",
            None,
            400,
            other("\"-!\" is not an encoded name: the text after '-' is not URL-safe base64 without padding"),
        ),
        (
            "GET",
            spec_at("/work_unit?status=sleeping"),
            None,
            400,
            other("work unit query: \"sleeping\" is not a work unit status"),
        ),
        (
            "GET",
            spec_at("/work_unit?limit=many"),
            None,
            400,
            other("work unit query: limit \"many\" is not a whole number"),
        ),
        ("GET", "/namespace/ns?ref=x", None, 400, other("ref \"x\" is not a handle token")),
        ("GET", "/namespace/ns?ref=7&ref=8", None, 400, other("ref is given more than once")),
        // Nothing above touched the store.
        ("GET", "/namespace", None, 200, json!({"namespaces": []})),
        // A definition without a name is refused by the store, after the
        // namespace was got or made, as go does.
        (
            "POST",
            "/namespace/ns/work_spec",
            Some(r#"{"data": {"nom": "x"}}"#),
            400,
            error_json("ErrNoWorkSpecName", "the work spec definition has no 'name' key", ""),
        ),
        (
            "GET",
            "/namespace",
            None,
            200,
            json!({"namespaces": [{"url": "/namespace/ns?ref=1", "name": "ns"}]}),
        ),
        (
            "GET",
            SPEC,
            None,
            404,
            error_json("ErrNoSuchWorkSpec", "no such work spec \"spec\"", "spec"),
        ),
    ];
    server.check(&steps).await;
    server
}

#[tokio::test]
async fn refusals_answer_as_pinned() {
    refusals().await;
}

/// Status, body and media type of a POST of a namespace with these
/// `Accept` and `Content-Type` headers.
async fn negotiated(server: &InProcess, accept: &str, content_type: &str) -> (u16, Value, String) {
    let headers = [("Accept", accept), ("Content-Type", content_type)];
    let answer = server
        .send_with("POST", "/namespace", &headers, Some(r#"{"name": "n"}"#))
        .await;
    (answer.status, answer.body, answer.content_type)
}

#[tokio::test]
async fn accept_and_content_type_are_negotiated() {
    let server = InProcess::new("");
    let v1 = "application/vnd.diffeo.coordinate.v1+json".to_owned();
    let other = |message: &str| error_json("error", message, "");
    assert_eq!(
        negotiated(&server, "text/html", "application/json").await,
        (
            406,
            other("no acceptable representation for the response"),
            v1.clone()
        )
    );
    assert_eq!(
        negotiated(&server, "application/json;q=x", "application/json").await,
        (
            400,
            other("invalid Accept header: quality \"x\" is not a number"),
            v1.clone()
        )
    );
    assert_eq!(
        negotiated(&server, "*/*", "text/plain").await,
        (
            415,
            other("unsupported media type \"text/plain\": send JSON"),
            v1
        )
    );
    // None of those made the namespace: this is the first handle.
    let answer = server
        .send_with(
            "POST",
            "/namespace",
            &[
                ("Accept", "application/json"),
                ("Content-Type", "text/json"),
            ],
            Some(r#"{"name": "n"}"#),
        )
        .await;
    assert_eq!(
        (
            answer.status,
            answer.content_type.as_str(),
            answer.location.as_deref()
        ),
        (201, "application/json", Some("/namespace/n?ref=1"))
    );
    // An error body is labelled with the type chosen too.
    assert_eq!(
        negotiated(&server, "text/*", "text/plain").await,
        (
            415,
            other("unsupported media type \"text/plain\": send JSON"),
            "text/json".to_owned()
        )
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_json() {
    let server = InProcess::configured(coordinated::ServerConfig {
        max_body_bytes: 64,
        ..coordinated::ServerConfig::default()
    });
    let name = "n".repeat(64);
    let body = format!(r#"{{"name": "{name}"}}"#);
    let answer = server.send("POST", "/namespace", Some(&body)).await;
    assert_eq!(
        (answer.status, answer.body),
        (
            413,
            error_json(
                "error",
                "Failed to buffer the request body: length limit exceeded",
                ""
            )
        )
    );
    let steps: Vec<Step<'_>> = vec![("GET", "/namespace", None, 200, json!({"namespaces": []}))];
    server.check(&steps).await;
}
