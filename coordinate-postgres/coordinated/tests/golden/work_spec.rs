//! Work specs: listing, setting, reading, redefining and deleting them;
//! their meta, counts and summary, and the bulk priority changes.

use serde_json::{json, Value};

use super::in_process::{r, InProcess, Step};
use super::{
    error_json, meta_json, namespace_json, setup, spec_at, spec_json, summary_row, unit_json,
    unit_path, SPEC,
};

/// Work specs are defined, redefined and deleted.
pub async fn work_specs() -> InProcess {
    let server = InProcess::new("");
    let later = "/namespace/ns/work_spec/later";
    let definition = json!({"name": "spec", "weight": 5, "then": "later", "runtime": "python",
        "min_gb": 1.5, "interval": 60, "continuous": true, "max_retries": 3});
    let steps: Vec<Step<'_>> = vec![
        (
            "POST",
            "/namespace",
            Some(r#"{"name": "ns"}"#),
            201,
            namespace_json("ns", "ns", 1),
        ),
        (
            "GET",
            "/namespace/ns/work_spec?ref=1",
            None,
            200,
            json!({"work_specs": []}),
        ),
        (
            "POST",
            "/namespace/ns/work_spec?ref=1",
            Some(super::leak(format!(r#"{{"data": {definition}}}"#))),
            201,
            json!({"url": r(SPEC, 2), "name": "spec"}),
        ),
        (
            "POST",
            "/namespace/ns/work_spec?ref=1",
            Some(r#"{"data": {"name": "later", "disabled": true}}"#),
            201,
            json!({"url": r(later, 3), "name": "later"}),
        ),
        // Listed by name: each URL carries the namespace's token, through
        // which the spec is looked up when followed.
        (
            "GET",
            "/namespace/ns/work_spec?ref=1",
            None,
            200,
            json!({"work_specs": [{"url": r(later, 1), "name": "later"}, {"url": r(SPEC, 1), "name": "spec"}]}),
        ),
        (
            "GET",
            spec_at("?ref=2"),
            None,
            200,
            spec_json(2, definition.clone()),
        ),
        // Followed from the list: looked up in the namespace, a new token.
        (
            "GET",
            spec_at("?ref=1"),
            None,
            200,
            spec_json(4, definition.clone()),
        ),
        // Every key of the definition that go reads shows in the meta.
        (
            "GET",
            spec_at("/meta?ref=2"),
            None,
            200,
            meta_json(
                json!({"weight": 5, "continuous": true, "can_be_continuous": true,
                "min_memory_gb": 1.5, "interval": 60_000_000_000_u64, "max_retries": 3,
                "next_work_spec_name": "later", "runtime": "python"}),
            ),
        ),
        (
            "PUT",
            spec_at("?ref=2"),
            Some(r#"{"data": {"name": "spec", "weight": 9}}"#),
            204,
            Value::Null,
        ),
        (
            "GET",
            spec_at("?ref=2"),
            None,
            200,
            spec_json(2, json!({"name": "spec", "weight": 9})),
        ),
        // A new definition derives the meta afresh.
        (
            "GET",
            spec_at("/meta?ref=2"),
            None,
            200,
            meta_json(json!({"weight": 9})),
        ),
        (
            "PUT",
            spec_at("?ref=2"),
            Some(r#"{"data": {"name": "renamed"}}"#),
            400,
            error_json(
                "ErrChangedName",
                "a work spec's 'name' cannot be changed",
                "",
            ),
        ),
        // A PUT without data changes nothing.
        ("PUT", spec_at("?ref=2"), Some("{}"), 204, Value::Null),
        (
            "GET",
            spec_at("?ref=2"),
            None,
            200,
            spec_json(2, json!({"name": "spec", "weight": 9})),
        ),
        ("DELETE", leak_at(later, 3), None, 204, Value::Null),
        (
            "GET",
            leak_at(later, 3),
            None,
            404,
            error_json(
                "ErrGone",
                "work spec \"later\" no longer exists",
                "work_spec:later",
            ),
        ),
        // Deleting through a gone handle is Gone too, not a deletion of
        // whatever now has the name.
        (
            "DELETE",
            leak_at(later, 3),
            None,
            404,
            error_json(
                "ErrGone",
                "work spec \"later\" no longer exists",
                "work_spec:later",
            ),
        ),
        (
            "GET",
            later,
            None,
            404,
            error_json("ErrNoSuchWorkSpec", "no such work spec \"later\"", "later"),
        ),
        ("DELETE", SPEC, None, 204, Value::Null),
        (
            "GET",
            "/namespace/ns/work_spec?ref=1",
            None,
            200,
            json!({"work_specs": []}),
        ),
    ];
    server.check(&steps).await;
    server
}

#[tokio::test]
async fn work_specs_answer_as_pinned() {
    work_specs().await;
}

/// `path?ref=ordinal`, living as long as the test.
fn leak_at(path: &str, ordinal: usize) -> &'static str {
    super::leak(r(path, ordinal))
}

/// The meta is set apart from the definition; counts, the summary and
/// the bulk priority changes see the spec's units.
pub async fn meta_and_priorities() -> InProcess {
    let server = InProcess::new("");
    let unit = |name: &str, refs: [usize; 2], priority: f64| {
        let rest = json!({"data": {"i": (name.as_bytes()[0] - b'a')}, "status": "available",
            "meta": {"priority": priority, "not_before": null}});
        unit_json(name, name, refs, rest)
    };
    let mut steps = setup(json!({"name": "spec"}), &["a", "b", "c"]);
    steps.extend::<Vec<Step<'_>>>(vec![
        (
            "GET",
            spec_at("/counts?ref=2"),
            None,
            200,
            json!({"available": 3}),
        ),
        // Counts only when asked for.
        (
            "GET",
            spec_at("/meta?ref=2&counts=true"),
            None,
            200,
            meta_json(json!({"available_count": 3})),
        ),
        // The derived fields (min_memory_gb, next work spec, runtime) and
        // the counts are the definition's and the store's: ignored here.
        (
            "PUT",
            spec_at("/meta?ref=2"),
            Some(
                r#"{"priority": 3, "weight": 7, "paused": true, "interval": 120000000000, "max_running": 2, "max_attempts_returned": 4, "max_retries": 1, "next_work_spec_name": "ignored", "runtime": "ignored", "min_memory_gb": 8, "available_count": 99}"#,
            ),
            204,
            Value::Null,
        ),
        (
            "GET",
            spec_at("/meta?ref=2"),
            None,
            200,
            meta_json(json!({"priority": 3, "weight": 7, "paused": true,
                "interval": 120_000_000_000_u64, "max_running": 2, "max_attempts_returned": 4,
                "max_retries": 1})),
        ),
        (
            "PUT",
            spec_at("/meta?ref=2"),
            Some(r#"{"weight": 7, "continuous": true}"#),
            400,
            error_json(
                "ErrCannotBecomeContinuous",
                "the work spec was not defined as continuous and cannot become continuous",
                "",
            ),
        ),
        // The change and adjust templates filled in: `name` repeats.
        (
            "POST",
            spec_at("/change?ref=2&name=a&name=b"),
            Some(r#"{"meta": {"priority": 4}}"#),
            204,
            Value::Null,
        ),
        (
            "POST",
            spec_at("/adjust?ref=2&status=available"),
            Some(r#"{"meta": {"priority": 1.5}}"#),
            204,
            Value::Null,
        ),
        (
            "GET",
            leak_at(&unit_path("a"), 3),
            None,
            200,
            unit("a", [3, 6], 5.5),
        ),
        (
            "GET",
            leak_at(&unit_path("c"), 5),
            None,
            200,
            unit("c", [5, 7], 1.5),
        ),
        // The units after `a`, at most one: only `b`.
        (
            "POST",
            spec_at("/change?ref=2&previous=a&limit=1"),
            Some(r#"{"meta": {"priority": 0}}"#),
            204,
            Value::Null,
        ),
        // Without meta, a change changes nothing.
        ("POST", spec_at("/change?ref=2"), Some("{}"), 204, Value::Null),
        (
            "GET",
            leak_at(&unit_path("b"), 4),
            None,
            200,
            unit("b", [4, 8], 0.0),
        ),
        (
            "POST",
            spec_at("/work_unit?ref=2"),
            Some(r#"{"name": "d", "meta": {"priority": 0, "not_before": "2026-12-03T07:00:00Z"}}"#),
            201,
            json!({"url": r(&unit_path("d"), 9), "name": "d"}),
        ),
        (
            "GET",
            spec_at("/counts?ref=2"),
            None,
            200,
            json!({"available": 3, "delayed": 1}),
        ),
        (
            "GET",
            spec_at("/summary?ref=2"),
            None,
            200,
            json!([summary_row("ns", "spec", "available", 3), summary_row("ns", "spec", "delayed", 1)]),
        ),
    ]);
    server.check(&steps).await;
    server
}

#[tokio::test]
async fn meta_and_priorities_answer_as_pinned() {
    meta_and_priorities().await;
}
