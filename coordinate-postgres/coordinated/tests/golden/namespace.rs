//! The root document, `/summary`, and namespaces: listing, getting or
//! making, deleting, and their summaries.

use serde_json::{json, Value};

use super::in_process::{InProcess, Step};
use super::{namespace_json, summary_row as row};

/// Namespaces come and go, and the summaries follow them.
pub async fn namespaces() -> InProcess {
    let server = InProcess::new("");
    let steps: Vec<Step<'_>> = vec![
        (
            "GET",
            "/",
            None,
            200,
            json!({"url": "/", "summary_url": "/summary", "namespaces_url": "/namespace", "namespace_url": "/namespace/{namespace}"}),
        ),
        // An empty store: lists are empty lists, never null.
        ("GET", "/summary", None, 200, json!([])),
        ("GET", "/namespace", None, 200, json!({"namespaces": []})),
        (
            "POST",
            "/namespace",
            Some(r#"{"name": "b"}"#),
            201,
            namespace_json("b", "b", 1),
        ),
        // A name that is not URL-safe travels base64-encoded.
        (
            "POST",
            "/namespace",
            Some(r#"{"name": "a b"}"#),
            201,
            namespace_json("-YSBi", "a b", 2),
        ),
        // POST gets what exists: the same namespace, through a new handle.
        (
            "POST",
            "/namespace",
            Some(r#"{"name": "b"}"#),
            201,
            namespace_json("b", "b", 3),
        ),
        // GET by name makes what does not exist, as go's server does.
        (
            "GET",
            "/namespace/c",
            None,
            200,
            namespace_json("c", "c", 4),
        ),
        // Through its token: the very handle, and the same token back.
        (
            "GET",
            "/namespace/b?ref=1",
            None,
            200,
            namespace_json("b", "b", 1),
        ),
        (
            "GET",
            "/namespace",
            None,
            200,
            json!({"namespaces": [{"url": "/namespace/-YSBi?ref=5", "name": "a b"}, {"url": "/namespace/b?ref=6", "name": "b"}, {"url": "/namespace/c?ref=7", "name": "c"}]}),
        ),
        (
            "POST",
            "/namespace/b/work_spec?ref=1",
            Some(r#"{"data": {"name": "s"}}"#),
            201,
            json!({"url": "/namespace/b/work_spec/s?ref=8", "name": "s"}),
        ),
        (
            "POST",
            "/namespace/b/work_spec/s/work_units?ref=8",
            Some(r#"{"work_units": [{"name": "u"}, {"name": "v"}]}"#),
            204,
            Value::Null,
        ),
        (
            "POST",
            "/namespace/c/work_spec?ref=4",
            Some(r#"{"data": {"name": "t"}}"#),
            201,
            json!({"url": "/namespace/c/work_spec/t?ref=9", "name": "t"}),
        ),
        (
            "POST",
            "/namespace/c/work_spec/t/work_unit?ref=9",
            Some(r#"{"name": "x", "meta": {"priority": 0, "not_before": "2026-12-03T07:00:00Z"}}"#),
            201,
            json!({"url": "/namespace/c/work_spec/t/work_unit/x?ref=10", "name": "x"}),
        ),
        (
            "GET",
            "/namespace/b/summary?ref=1",
            None,
            200,
            json!([row("b", "s", "available", 2)]),
        ),
        (
            "GET",
            "/namespace/c/summary",
            None,
            200,
            json!([row("c", "t", "delayed", 1)]),
        ),
        (
            "GET",
            "/summary",
            None,
            200,
            json!([row("b", "s", "available", 2), row("c", "t", "delayed", 1)]),
        ),
        ("DELETE", "/namespace/c?ref=4", None, 204, Value::Null),
        // The deleted namespace's handle has nothing to count (the API's
        // summaries never answer Gone), and does not bring it back, as a
        // lookup by name (go's get-or-make) would.
        ("GET", "/namespace/c/summary?ref=4", None, 200, json!([])),
        (
            "GET",
            "/summary",
            None,
            200,
            json!([row("b", "s", "available", 2)]),
        ),
        ("DELETE", "/namespace/-YSBi", None, 204, Value::Null),
        (
            "GET",
            "/namespace",
            None,
            200,
            json!({"namespaces": [{"url": "/namespace/b?ref=11", "name": "b"}]}),
        ),
    ];
    server.check(&steps).await;
    server
}

#[tokio::test]
async fn namespaces_answer_as_pinned() {
    namespaces().await;
}

#[tokio::test]
async fn a_path_prefix_nests_every_route_and_url() {
    let server = InProcess::new("/coord");
    let steps: Vec<Step<'_>> = vec![
        (
            "GET",
            "/coord",
            None,
            200,
            json!({"url": "/coord/", "summary_url": "/coord/summary", "namespaces_url": "/coord/namespace", "namespace_url": "/coord/namespace/{namespace}"}),
        ),
        ("GET", "/coord/healthz", None, 200, json!({"status": "ok"})),
        (
            "POST",
            "/coord/namespace",
            Some(r#"{"name": "ns"}"#),
            201,
            json!({"url": "/coord/namespace/ns?ref=1", "name": "ns", "summary_url": "/coord/namespace/ns/summary?ref=1", "work_specs_url": "/coord/namespace/ns/work_spec?ref=1", "work_spec_url": "/coord/namespace/ns/work_spec/{spec}?ref=1", "workers_url": "/coord/namespace/ns/worker?ref=1", "worker_url": "/coord/namespace/ns/worker/{worker}?ref=1"}),
        ),
        (
            "GET",
            "/namespace",
            None,
            404,
            json!({"error": "error", "message": "no resource at /namespace"}),
        ),
    ];
    server.check(&steps).await;
}
