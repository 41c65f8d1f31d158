//! Golden requests and answers, route by route, in process against the
//! memory backend on a mock clock (so times are fixed): each step is a
//! request and the status and JSON body it must get, in order. `?ref=`
//! tokens read as their order of first appearance in the scenario.
//!
//! One module per resource. [`coverage`] reads the route table of
//! `src/routes/mod.rs` and fails when a method of a path has no golden
//! step answered with success, so a new route cannot ship without one.
//! It counts what the server answered (from its `/metrics`), which is a
//! pin only because every request here is compared whole: through
//! `InProcess::check`, or an `assert_eq!` on status and body.

#[path = "../in_process/mod.rs"]
mod in_process;

mod additions;
mod attempt;
mod coverage;
mod errors;
mod lease;
mod namespace;
mod tour;
mod work_spec;
mod work_unit;
mod worker;

use std::future::Future;
use std::pin::Pin;

use serde_json::{json, Value};

use in_process::{r, InProcess, Step};

/// The mock clock's start: every time the store stamps unless a
/// scenario moves the clock.
pub const T0: &str = "2026-12-03T06:00:00Z";

/// Namespace `ns`'s path, which [`setup`] makes.
pub const NS: &str = "/namespace/ns";

/// Work spec `spec`'s path.
pub const SPEC: &str = "/namespace/ns/work_spec/spec";

/// A step's text that lives as long as the test.
pub fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// `path` below the work spec `spec`.
pub fn spec_at(rest: &str) -> &'static str {
    leak(format!("{SPEC}{rest}"))
}

/// The path of unit `unit` (a path segment) of `spec`.
pub fn unit_path(unit: &str) -> String {
    format!("{SPEC}/work_unit/{unit}")
}

/// The path of the attempt `worker` made on unit `unit` of `spec` at
/// `start`.
pub fn attempt_path(unit: &str, worker: &str, start: &str) -> String {
    format!("{}/attempt/{worker}/{start}", unit_path(unit))
}

/// The namespace document of `name` (a path segment) with its token's
/// ordinal: every URL below it carries the same token.
pub fn namespace_json(name: &str, decoded: &str, ordinal: usize) -> Value {
    let url = format!("/namespace/{name}");
    let at = |rest: &str| format!("{url}{rest}?ref={ordinal}");
    json!({"url": r(&url, ordinal), "name": decoded, "summary_url": at("/summary"),
        "work_specs_url": at("/work_spec"), "work_spec_url": at("/work_spec/{spec}"),
        "workers_url": at("/worker"), "worker_url": at("/worker/{worker}")})
}

/// The document of work spec `spec` with its token's ordinal and its
/// definition.
pub fn spec_json(ordinal: usize, data: Value) -> Value {
    let at = |rest: &str| format!("{SPEC}{rest}?ref={ordinal}");
    let q = "{&name*,status*,previous,limit}";
    json!({"url": r(SPEC, ordinal), "name": "spec", "data": data,
        "summary_url": at("/summary"), "work_units_url": at("/work_unit"),
        "work_unit_query_url": format!("{}{q}", at("/work_unit")), "work_unit_url": at("/work_unit/{unit}"),
        "work_unit_counts_url": at("/counts"), "work_unit_change_url": format!("{}{q}", at("/change")),
        "work_unit_adjust_url": format!("{}{q}", at("/adjust")), "meta": format!("{}{{&counts}}", at("/meta"))})
}

/// A work spec's meta as the server writes it: go's defaults with
/// `changes` laid over them.
pub fn meta_json(changes: Value) -> Value {
    let mut meta = json!({"priority": 0, "weight": 20, "paused": false, "continuous": false,
        "can_be_continuous": false, "interval": 0, "next_continuous": null, "max_running": 0,
        "max_attempts_returned": 0, "max_retries": 0, "next_work_spec_name": "",
        "available_count": 0, "pending_count": 0, "runtime": ""});
    overlay(&mut meta, changes);
    meta
}

/// The document of unit `unit` of `spec`: `refs` are the ordinals of
/// its own token and of its work spec's; `rest` holds `data`, `meta`,
/// `status` and, when it has one, `active_attempt_url`.
pub fn unit_json(unit: &str, decoded: &str, refs: [usize; 2], rest: Value) -> Value {
    let path = unit_path(unit);
    let mut value = json!({"url": r(&path, refs[0]), "name": decoded, "work_spec_url": r(SPEC, refs[1]),
        "attempts_url": format!("{path}/attempts?ref={}", refs[0])});
    overlay(&mut value, rest);
    value
}

/// The document of worker `name` of `ns` with its token's ordinal;
/// `rest` holds what it reported (`active`, `mode`, `data`, times) and
/// its family (`parent`, `parent_url`, `child_urls`).
pub fn worker_json(name: &str, ordinal: usize, rest: Value) -> Value {
    let path = format!("{NS}/worker/{name}");
    let at = |rest: &str| format!("{path}{rest}?ref={ordinal}");
    let mut value = json!({"url": r(&path, ordinal), "name": name,
        "request_attempts_url": at("/request_attempts"), "make_attempt_url": at("/make_attempt"),
        "active_attempts_url": at("/active_attempts"), "all_attempts_url": at("/all_attempts"),
        "child_attempts_url": at("/child_attempts")});
    overlay(&mut value, rest);
    value
}

/// An attempt's identity, from its path: `refs` are the ordinals of the
/// attempt's token, its unit's and its worker's.
pub fn short_attempt(path: &str, refs: [usize; 3]) -> Value {
    let (unit, rest) = path.split_once("/attempt/").expect("an attempt path");
    let (worker, start) = rest.split_once('/').expect("worker/start");
    let ns = &unit[..unit.find("/work_spec/").expect("a unit path")];
    json!({"url": r(path, refs[0]), "work_unit_url": r(unit, refs[1]),
        "worker_url": r(&format!("{ns}/worker/{worker}"), refs[2]), "start_time": start})
}

/// An attempt in full (see [`short_attempt`]), with its unit's name (our
/// addition to go's shape); `rest` holds `status`, `data`,
/// `expiration_time` and, once it ended, `end_time`.
pub fn attempt_json(path: &str, refs: [usize; 3], rest: Value) -> Value {
    let mut value = short_attempt(path, refs);
    let at = |end: &str| format!("{path}/{end}?ref={}", refs[0]);
    let (unit, _) = path.split_once("/attempt/").expect("an attempt path");
    let segment = &unit[unit.rfind('/').expect("a unit segment") + 1..];
    let name = coordinate_rest::wire::decode_name(segment).expect("an encoded name");
    overlay(
        &mut value,
        json!({"renew_url": at("renew"), "expire_url": at("expire"), "finish_url": at("finish"),
            "fail_url": at("fail"), "retry_url": at("retry"), "work_unit": name}),
    );
    overlay(&mut value, rest);
    value
}

/// The answer to a request for attempts that got some: the work spec's
/// URL and its document without data (our addition, which spares a client
/// the lookup), both with the token `ordinal`, and the attempts in full.
pub fn claimed(ordinal: usize, attempts: Vec<Value>) -> Value {
    json!({"work_spec_url": r(SPEC, ordinal), "work_spec": spec_json(ordinal, Value::Null),
        "attempts": attempts})
}

/// A summary row as go writes it (go gives the type no JSON tags, so the
/// field names are capitalised).
pub fn summary_row(namespace: &str, work_spec: &str, status: &str, count: usize) -> Value {
    json!({"Namespace": namespace, "WorkSpec": work_spec, "Status": status, "Count": count})
}

/// go's error body: its name, message and value (left out when empty,
/// as the server does).
pub fn error_json(error: &str, message: &str, value: &str) -> Value {
    let mut body = json!({"error": error, "message": message});
    if !value.is_empty() {
        body["value"] = json!(value);
    }
    body
}

/// `changes`' fields set on `value` (both objects).
fn overlay(value: &mut Value, changes: Value) {
    for (key, field) in changes.as_object().expect("an object") {
        value[key] = field.clone();
    }
}

/// The steps that make namespace `ns` (token 1), work spec `spec` from
/// `definition` (token 2), and one unit per name of `units` with data
/// `{"i": its index}` (tokens 3, 4, …): what most scenarios start from.
pub fn setup(definition: Value, units: &[&'static str]) -> Vec<Step<'static>> {
    let mut steps: Vec<Step<'static>> = vec![
        (
            "POST",
            "/namespace",
            Some(r#"{"name": "ns"}"#),
            201,
            namespace_json("ns", "ns", 1),
        ),
        (
            "POST",
            "/namespace/ns/work_spec?ref=1",
            Some(leak(json!({ "data": definition }).to_string())),
            201,
            json!({"url": r(SPEC, 2), "name": "spec"}),
        ),
    ];
    for (index, unit) in units.iter().enumerate() {
        steps.push((
            "POST",
            spec_at("/work_unit?ref=2"),
            Some(leak(
                json!({"name": unit, "data": {"i": index}}).to_string(),
            )),
            201,
            json!({"url": r(&unit_path(unit), index + 3), "name": unit}),
        ));
    }
    steps
}

/// A golden scenario: it runs its steps on a server of its own and hands
/// the server back, so that [`coverage`] can read the routes it reached.
type Scenario = fn() -> Pin<Box<dyn Future<Output = InProcess>>>;

/// Every scenario, by name. Each also runs as a test of its own; this
/// list is what the coverage test runs again and reads.
fn scenarios() -> Vec<(&'static str, Scenario)> {
    macro_rules! listed {
        ($($module:ident::$name:ident),* $(,)?) => {
            vec![$((
                concat!(stringify!($module), "::", stringify!($name)),
                (|| Box::pin($module::$name())) as Scenario,
            )),*]
        };
    }
    listed![
        tour::tour,
        namespace::namespaces,
        work_spec::work_specs,
        work_spec::meta_and_priorities,
        work_unit::work_units,
        work_unit::active_attempts_and_deletion,
        attempt::attempt_endings,
        lease::lost_leases,
        worker::workers,
        worker::worker_attempts,
        additions::batches,
        additions::retention_and_waiting,
        errors::store_errors,
        errors::refusals,
    ]
}
