//! Workers: listing, getting or making, their reports and parents, asking
//! for work, making attempts, and their attempt lists.

use serde_json::{json, Value};

use super::in_process::{r, InProcess, Step};
use super::{
    attempt_json, attempt_path, claimed, error_json, leak, namespace_json, setup, short_attempt,
    worker_json, NS, T0,
};

/// `…/worker/{name}` plus `rest`, with the token `ordinal` (none if 0).
fn worker_at(name: &str, rest: &str, ordinal: usize) -> &'static str {
    match ordinal {
        0 => leak(format!("{NS}/worker/{name}{rest}")),
        _ => leak(format!("{NS}/worker/{name}{rest}?ref={ordinal}")),
    }
}

/// The report `child` makes in this file: a mode, data and an hour.
const REPORT: &str = r#"{"parent": "parent", "active": true, "mode": "batch", "data": {"cpus": 4}, "last_update": "2026-12-03T06:00:00Z", "expiration": "2026-12-03T07:00:00Z"}"#;

/// Workers report, get a parent and lose it.
pub async fn workers() -> InProcess {
    let server = InProcess::new("");
    let made = json!({"active": true, "mode": "", "data": {}, "expiration": "2026-12-03T06:15:00Z", "last_update": T0});
    let reported = json!({"active": true, "mode": "batch", "data": {"cpus": 4},
        "expiration": "2026-12-03T07:00:00Z", "last_update": T0});
    let with = |base: &Value, more: Value| {
        let mut value = base.clone();
        for (key, field) in more.as_object().unwrap() {
            value[key] = field.clone();
        }
        value
    };
    let parent_of = |ordinal| json!({"parent": "parent", "parent_url": r(&format!("{NS}/worker/parent"), ordinal)});
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
            "/namespace/ns/worker?ref=1",
            None,
            200,
            json!({"workers": []}),
        ),
        // The worker template filled in: got or made, as go does.
        (
            "GET",
            worker_at("parent", "", 0),
            None,
            200,
            worker_json("parent", 2, made.clone()),
        ),
        // A report, through the namespace's worker template; the parent
        // is named, and made if need be.
        (
            "PUT",
            "/namespace/ns/worker/child?ref=1",
            Some(REPORT),
            204,
            Value::Null,
        ),
        (
            "GET",
            "/namespace/ns/worker/child?ref=1",
            None,
            200,
            worker_json("child", 3, with(&reported, parent_of(4))),
        ),
        (
            "GET",
            worker_at("parent", "", 2),
            None,
            200,
            worker_json(
                "parent",
                2,
                with(
                    &made,
                    json!({"child_urls": [r(&format!("{NS}/worker/child"), 5)]}),
                ),
            ),
        ),
        (
            "GET",
            "/namespace/ns/worker?ref=1",
            None,
            200,
            json!({"workers": [{"url": r(&format!("{NS}/worker/child"), 6), "name": "child"}, {"url": r(&format!("{NS}/worker/parent"), 7), "name": "parent"}]}),
        ),
        // Without `parent`, the parent stays; `active: false` deactivates
        // and leaves the last report as it was.
        (
            "PUT",
            worker_at("child", "", 3),
            Some(r#"{"active": false}"#),
            204,
            Value::Null,
        ),
        (
            "GET",
            worker_at("child", "", 3),
            None,
            200,
            worker_json(
                "child",
                3,
                with(&reported, with(&parent_of(8), json!({"active": false}))),
            ),
        ),
        // `""` clears the parent; no `active` leaves the report alone.
        (
            "PUT",
            worker_at("child", "", 3),
            Some(r#"{"parent": ""}"#),
            204,
            Value::Null,
        ),
        (
            "GET",
            worker_at("child", "", 3),
            None,
            200,
            worker_json("child", 3, with(&reported, json!({"active": false}))),
        ),
        (
            "GET",
            worker_at("parent", "", 2),
            None,
            200,
            worker_json("parent", 2, made.clone()),
        ),
        (
            "PUT",
            worker_at("child", "", 3),
            Some(r#"{"parent": "child"}"#),
            400,
            error_json(
                "ErrInvalidInput",
                "invalid parent: a worker cannot be its own parent",
                "parent",
            ),
        ),
    ];
    server.check(&steps).await;
    server
}

#[tokio::test]
async fn workers_answer_as_pinned() {
    workers().await;
}

/// A parent and its child ask for work and make attempts; the lists show
/// whose attempts are whose.
pub async fn worker_attempts() -> InProcess {
    let server = InProcess::new("");
    let [pa, cb, cc, cd] = [
        ("a", "parent"),
        ("b", "child"),
        ("c", "child"),
        ("d", "child"),
    ]
    .map(|(unit, worker)| attempt_path(unit, worker, T0));
    let pending = |i: usize, expiration: &str| json!({"status": "pending", "data": {"i": i}, "expiration_time": expiration});
    let a_minute = "2026-12-03T06:01:00Z";
    let attempts = |list: &[(&String, [usize; 3])]| {
        let list: Vec<Value> = list
            .iter()
            .map(|(path, refs)| short_attempt(path, *refs))
            .collect();
        json!({ "attempts": list })
    };
    let mut steps = setup(json!({"name": "spec"}), &["a", "b", "c", "d"]);
    steps.extend::<Vec<Step<'_>>>(vec![
        (
            "PUT",
            worker_at("child", "", 0),
            Some(REPORT),
            204,
            Value::Null,
        ),
        // A lifetime of 0 is go's "the default": fifteen minutes.
        (
            "POST",
            worker_at("parent", "/request_attempts", 0),
            Some(r#"{"number_of_work_units": 1, "work_specs": ["spec"], "lifetime": 0}"#),
            200,
            claimed(
                7,
                vec![attempt_json(
                    &pa,
                    [8, 9, 10],
                    pending(0, "2026-12-03T06:15:00Z"),
                )],
            ),
        ),
        (
            "POST",
            worker_at("child", "/make_attempt", 0),
            Some(r#"{"work_spec": "spec", "work_unit": "d", "lifetime": 30000000000}"#),
            200,
            attempt_json(&cd, [11, 12, 13], pending(3, "2026-12-03T06:00:30Z")),
        ),
        // Asked for five, given what is available.
        (
            "POST",
            worker_at("child", "/request_attempts", 0),
            Some(r#"{"number_of_work_units": 5, "work_specs": ["spec"], "lifetime": 60000000000}"#),
            200,
            claimed(
                14,
                vec![
                    attempt_json(&cb, [15, 16, 17], pending(1, a_minute)),
                    attempt_json(&cc, [18, 19, 20], pending(2, a_minute)),
                ],
            ),
        ),
        // Nothing left: no attempts, and no work spec URL at all.
        (
            "POST",
            worker_at("child", "/request_attempts", 0),
            Some(r#"{"number_of_work_units": 5, "work_specs": ["spec"], "lifetime": 60000000000}"#),
            200,
            json!({"attempts": []}),
        ),
        (
            "GET",
            worker_at("parent", "/active_attempts", 0),
            None,
            200,
            attempts(&[(&pa, [21, 22, 23])]),
        ),
        (
            "GET",
            worker_at("parent", "/all_attempts", 0),
            None,
            200,
            attempts(&[(&pa, [24, 25, 26])]),
        ),
        // The children's active attempts, oldest first.
        (
            "GET",
            worker_at("parent", "/child_attempts", 0),
            None,
            200,
            attempts(&[
                (&cd, [27, 28, 29]),
                (&cb, [30, 31, 32]),
                (&cc, [33, 34, 35]),
            ]),
        ),
        (
            "GET",
            worker_at("child", "/child_attempts", 0),
            None,
            200,
            json!({"attempts": []}),
        ),
        (
            "POST",
            leak(format!("{cd}/finish?ref=11")),
            Some("{}"),
            204,
            Value::Null,
        ),
        (
            "GET",
            worker_at("child", "/active_attempts", 0),
            None,
            200,
            attempts(&[(&cb, [36, 37, 38]), (&cc, [39, 40, 41])]),
        ),
        // Every attempt it made, finished ones too.
        (
            "GET",
            worker_at("child", "/all_attempts", 0),
            None,
            200,
            attempts(&[
                (&cd, [42, 43, 44]),
                (&cb, [45, 46, 47]),
                (&cc, [48, 49, 50]),
            ]),
        ),
        (
            "GET",
            worker_at("parent", "/child_attempts", 0),
            None,
            200,
            attempts(&[(&cb, [51, 52, 53]), (&cc, [54, 55, 56])]),
        ),
    ]);
    server.check(&steps).await;
    server
}

#[tokio::test]
async fn worker_attempts_answer_as_pinned() {
    worker_attempts().await;
}
