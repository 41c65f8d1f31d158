//! The `coordinate` command as a real process against the test database:
//! exit codes, golden tables, `--json` parsed back, refusals that change
//! nothing, and the Prometheus text.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use common::{coordinate, data, spec, unique};
use coordinate_api::{
    AttemptRequest, Data, Namespace, Value, WorkUnitMeta, WorkUnitQuery, WorkUnitStatus,
};
use coordinate_postgres::test_support::database_url;
use serde_json::Value as Json;

/// What one run of the command left.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Asserts the exit code, showing both streams when it differs.
    fn expect(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    fn json(&self) -> Json {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", self.stdout))
    }
}

/// Runs `coordinate ARGS` on the test database, with `stdin` as its
/// standard input (not a terminal, so destructive verbs need `--yes`).
fn run_with(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_coordinate"))
        .args(args)
        .env("DATABASE_URL", database_url())
        .env_remove("RUST_LOG")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the coordinate command");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

fn run(args: &[&str]) -> Run {
    run_with(args, "", &[])
}

/// A fresh namespace with work specs `fetch` (then `parse`) and `parse`.
fn namespace() -> Arc<dyn Namespace> {
    let namespace = coordinate().namespace(&unique("cli")).unwrap();
    namespace
        .set_work_spec(spec(
            "fetch",
            &[
                ("then", Value::Text("parse".into())),
                ("priority", Value::Integer(2)),
            ],
        ))
        .unwrap();
    namespace.set_work_spec(spec("parse", &[])).unwrap();
    namespace
}

fn add(namespace: &dyn Namespace, spec: &str, names: &[&str]) {
    let spec = namespace.work_spec(spec).unwrap();
    for name in names {
        spec.add_work_unit(name, Data::new(), WorkUnitMeta::default())
            .unwrap();
    }
}

/// Fails `n` units of `fetch` through a worker, each with a traceback.
fn fail(namespace: &dyn Namespace, n: usize) {
    let worker = namespace.worker("failer").unwrap();
    let attempts = worker
        .request_attempts(&AttemptRequest {
            number_of_work_units: n,
            work_specs: vec!["fetch".into()],
            ..AttemptRequest::default()
        })
        .unwrap();
    assert_eq!(attempts.len(), n);
    for attempt in attempts {
        attempt
            .fail(Some(data("traceback", "Traceback: it broke")))
            .unwrap();
    }
}

fn count(namespace: &dyn Namespace, spec: &str, status: WorkUnitStatus) -> usize {
    namespace
        .work_spec(spec)
        .unwrap()
        .count_work_unit_status()
        .unwrap()
        .get(&status)
        .copied()
        .unwrap_or(0)
}

#[test]
fn summary_and_specs_print_golden_tables() {
    let namespace = namespace();
    let ns = namespace.name();
    add(namespace.as_ref(), "fetch", &["a", "b", "c", "d"]);
    namespace
        .work_spec("parse")
        .unwrap()
        .add_work_unit(
            "later",
            Data::new(),
            WorkUnitMeta {
                priority: 0.0,
                not_before: Some(Utc::now() + chrono::Duration::hours(1)),
            },
        )
        .unwrap();
    fail(namespace.as_ref(), 1);
    let summary = run(&["-n", ns, "summary"]).expect(0);
    assert_eq!(
        summary.stdout,
        "\
SPEC   AVAILABLE  PENDING  DELAYED  FINISHED  FAILED
fetch          3        0        0         0       1
parse          0        0        1         0       0
"
    );
    let specs = run(&["specs", "-n", ns]).expect(0);
    assert_eq!(
        specs.stdout,
        "\
NAME   PRIORITY  WEIGHT  PAUSED  CONTINUOUS  THEN   AVAILABLE  PENDING
fetch         2      20  no      no          parse          3        0
parse         0      20  no      no          -              0        0
"
    );
    // Without -n every namespace is listed, this one among them.
    let all = run(&["summary"]).expect(0);
    assert!(all.stdout.starts_with("NAMESPACE  "), "{}", all.stdout);
    assert!(all.stdout.lines().any(|l| l.starts_with(ns)));
    namespace.destroy().unwrap();
}

#[test]
fn json_output_parses_back_with_bytes_and_tags_marked() {
    let namespace = namespace();
    let ns = namespace.name();
    let mut unit_data = data("url", "https://example.com/");
    unit_data.insert("raw".into(), Value::Bytes(vec![0, 255]));
    unit_data.insert(
        "id".into(),
        Value::Tag(37, Box::new(Value::Bytes(vec![0xab; 16]))),
    );
    unit_data.insert("nan".into(), Value::Float(f64::NAN));
    namespace
        .work_spec("fetch")
        .unwrap()
        .add_work_unit("u1", unit_data.clone(), WorkUnitMeta::default())
        .unwrap();
    namespace
        .work_spec("fetch")
        .unwrap()
        .add_work_unit("u2", unit_data, WorkUnitMeta::default())
        .unwrap();
    fail(namespace.as_ref(), 1);

    let unit = run(&["--json", "-n", ns, "unit", "fetch", "u1"])
        .expect(0)
        .json();
    assert_eq!(unit["status"], "failed");
    assert_eq!(unit["attempts"][0]["worker"], "failer");
    assert_eq!(unit["attempts"][0]["status"], "failed");
    assert!(unit["attempts"][0]["end_time"].is_string());
    // The unit's data is its failed attempt's (the library's rule).
    assert_eq!(unit["data"]["traceback"], "Traceback: it broke");
    let own = &unit["attempts"][0]["data"];
    assert_eq!(own["traceback"], "Traceback: it broke");

    let human = run(&["-n", ns, "unit", "fetch", "u1"]).expect(0).stdout;
    assert!(
        human.starts_with("unit \"u1\" of work spec \"fetch\": failed\n"),
        "{human}"
    );
    assert!(
        human.contains("\n  \"traceback\": \"Traceback: it broke\"\n"),
        "{human}"
    );
    assert!(
        human.contains("attempt 1 traceback:\nTraceback: it broke\n"),
        "{human}"
    );
    let rich = run(&["--json", "-n", ns, "unit", "fetch", "u2"])
        .expect(0)
        .json();
    assert_eq!(
        rich["data"],
        serde_json::json!({
            "url": "https://example.com/",
            "raw": {"$bytes": "00ff"},
            "id": {"$tag": 37, "value": {"$bytes": "abababababababababababababababab"}},
            "nan": {"$float": "NaN"},
        })
    );
    assert_eq!(rich["attempts"], serde_json::json!([]));
    let listed = run(&["-n", ns, "units", "fetch", "--json"])
        .expect(0)
        .json();
    assert_eq!(
        listed,
        serde_json::json!([
            {"name": "u1", "status": "failed", "priority": 0.0, "attempts": 1},
            {"name": "u2", "status": "available", "priority": 0.0, "attempts": 0},
        ])
    );
    let summary = run(&["-n", ns, "summary", "--json"]).expect(0).json();
    assert_eq!(summary[0]["work_spec"], "fetch");
    assert_eq!(summary[0]["failed"], 1);
    assert_eq!(summary[0]["available"], 1);
    assert_eq!(summary[1]["available"], 0);

    // A definition with bytes and a tag goes in through `spec set` and
    // comes back out of `spec show` unchanged.
    let definition = r#"{"name": "tagged", "key": {"$bytes": "00ff"}, "uuid": {"$tag": 37, "value": {"$bytes": "0102"}}, "$$odd": 1}"#;
    run_with(&["-n", ns, "spec", "set", "-"], definition, &[]).expect(0);
    let stored = namespace.work_spec("tagged").unwrap().data().unwrap();
    assert_eq!(stored["key"], Value::Bytes(vec![0, 255]));
    assert_eq!(
        stored["uuid"],
        Value::Tag(37, Box::new(Value::Bytes(vec![1, 2])))
    );
    assert_eq!(stored["$odd"], Value::Integer(1));
    let shown = run(&["--json", "-n", ns, "spec", "show", "tagged"])
        .expect(0)
        .json();
    let sent: Json = serde_json::from_str(definition).unwrap();
    assert_eq!(shown["definition"], sent);
    assert_eq!(shown["meta"]["weight"], 20);
    namespace.destroy().unwrap();
}

#[test]
fn add_reads_json_lines_and_a_malformed_line_adds_nothing() {
    let namespace = namespace();
    let ns = namespace.name();
    let dir = std::env::temp_dir().join(unique("cli-add"));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"name\": \"a\"}\n{\"name\": \"b\"}\n{\"name\": \"c\", \"priority\": \"high\"}\n{\"name\": \"d\"}\n",
    )
    .unwrap();
    let refused = run(&["-n", ns, "add", "fetch", bad.to_str().unwrap()]).expect(1);
    assert!(refused.stderr.contains("line 3"), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("nothing added"),
        "{}",
        refused.stderr
    );
    assert!(namespace
        .work_spec("fetch")
        .unwrap()
        .work_units(&WorkUnitQuery::all())
        .unwrap()
        .is_empty());

    // 2,500 good lines go in three batches.
    let mut lines = String::new();
    for i in 0..2500 {
        lines.push_str(&format!(
            "{{\"name\": \"u{i:04}\", \"data\": {{\"i\": {i}}}}}\n"
        ));
    }
    lines.push_str(
        "{\"name\": \"urgent\", \"priority\": 10, \"data\": {\"b\": {\"$bytes\": \"ff\"}}}\n",
    );
    lines.push_str("{\"name\": \"later\", \"delay\": 3600}\n");
    let added = run_with(&["-n", ns, "add", "fetch", "-"], &lines, &[]).expect(0);
    assert_eq!(added.stdout, "added 2502 unit(s) to work spec \"fetch\"\n");
    let spec = namespace.work_spec("fetch").unwrap();
    assert_eq!(
        count(namespace.as_ref(), "fetch", WorkUnitStatus::Available),
        2501
    );
    assert_eq!(
        count(namespace.as_ref(), "fetch", WorkUnitStatus::Delayed),
        1
    );
    let urgent = spec.work_unit("urgent").unwrap();
    assert_eq!(urgent.priority().unwrap(), 10.0);
    assert_eq!(urgent.data().unwrap()["b"], Value::Bytes(vec![0xff]));
    assert_eq!(
        spec.work_unit("u0042").unwrap().data().unwrap()["i"],
        Value::Integer(42)
    );

    // An unknown spec is named, and nothing is added anywhere.
    let unknown = run_with(&["-n", ns, "add", "nope", "-"], "{\"name\": \"x\"}\n", &[]).expect(1);
    assert!(unknown.stderr.contains("\"nope\""), "{}", unknown.stderr);
    std::fs::remove_dir_all(&dir).unwrap();
    namespace.destroy().unwrap();
}

#[test]
fn retry_failed_makes_units_available_and_summary_shows_it() {
    let namespace = namespace();
    let ns = namespace.name();
    add(namespace.as_ref(), "fetch", &["a", "b", "c", "d"]);
    fail(namespace.as_ref(), 3);
    // A named unit that is not failed refuses the whole call.
    let available = namespace
        .work_spec("fetch")
        .unwrap()
        .work_units(&WorkUnitQuery::statuses([WorkUnitStatus::Available]))
        .unwrap()[0]
        .name()
        .to_owned();
    let refused = run(&["-n", ns, "retry", "fetch", "a", "b", "c", "d", &available]).expect(1);
    assert!(
        refused.stderr.contains("only failed units"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        count(namespace.as_ref(), "fetch", WorkUnitStatus::Failed),
        3
    );
    let missing = run(&["-n", ns, "retry", "fetch", "zzz"]).expect(1);
    assert!(
        missing.stderr.contains("no unit \"zzz\""),
        "{}",
        missing.stderr
    );
    // Neither names nor --failed is a usage error.
    run(&["-n", ns, "retry", "fetch"]).expect(2);

    let retried = run(&["-n", ns, "retry", "fetch", "--failed"]).expect(0);
    assert_eq!(retried.stdout, "retried 3 unit(s) of work spec \"fetch\"\n");
    let summary = run(&["-n", ns, "summary"]).expect(0);
    assert_eq!(
        summary.stdout.lines().nth(1).unwrap(),
        "fetch          4        0        0         0       0"
    );
    // The failed attempts stay in the history.
    let spec = namespace.work_spec("fetch").unwrap();
    let attempts: usize = ["a", "b", "c", "d"]
        .iter()
        .map(|n| spec.work_unit(n).unwrap().num_attempts().unwrap())
        .sum();
    assert_eq!(attempts, 3);
    namespace.destroy().unwrap();
}

#[test]
fn release_gives_a_dead_workers_units_back() {
    let namespace = namespace();
    let ns = namespace.name();
    add(namespace.as_ref(), "fetch", &["a", "b", "c"]);
    // A worker process took two units with long leases and died: its
    // last report ran out, the leases have not.
    let parent = namespace.worker("host-1").unwrap();
    let child = namespace.worker("host-1.0").unwrap();
    child.set_parent(Some(parent.clone())).unwrap();
    let attempts = parent
        .request_attempts(&AttemptRequest {
            number_of_work_units: 2,
            lifetime: Duration::from_secs(3600),
            ..AttemptRequest::default()
        })
        .unwrap();
    assert_eq!(attempts.len(), 2);
    let past = Utc::now() - chrono::Duration::minutes(5);
    for worker in [&parent, &child] {
        worker
            .update(
                Data::new(),
                past,
                past + chrono::Duration::seconds(60),
                "RUN",
            )
            .unwrap();
    }
    let tree = run(&["-n", ns, "workers"]).expect(0);
    let rows: Vec<Vec<&str>> = tree
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0][..3], ["WORKER", "STATE", "MODE"], "{}", tree.stdout);
    assert_eq!(
        rows[1][..3],
        ["host-1", "expired", "RUN"],
        "{}",
        tree.stdout
    );
    assert_eq!(rows[1].last(), Some(&"2"), "{}", tree.stdout);
    assert!(tree
        .stdout
        .lines()
        .nth(2)
        .unwrap()
        .starts_with("  host-1.0  "));
    assert_eq!(
        rows[2][..3],
        ["host-1.0", "expired", "RUN"],
        "{}",
        tree.stdout
    );
    let json = run(&["-n", ns, "workers", "--json"]).expect(0).json();
    assert_eq!(json[1]["parent"], "host-1");

    // Off a terminal, without --yes: a usage error, nothing released.
    let refused = run(&["-n", ns, "release", "host-1"]).expect(2);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert_eq!(
        count(namespace.as_ref(), "fetch", WorkUnitStatus::Pending),
        2
    );
    run(&["-n", ns, "release", "nobody", "--yes"]).expect(1);

    let released = run(&["-n", ns, "release", "host-1", "--yes"]).expect(0);
    assert_eq!(released.stdout, "released 2 unit(s) of worker \"host-1\"\n");
    assert_eq!(
        count(namespace.as_ref(), "fetch", WorkUnitStatus::Available),
        3
    );
    assert!(!parent.active().unwrap() && !child.active().unwrap());
    // Released workers are left out unless --all.
    assert_eq!(
        run(&["-n", ns, "workers"]).expect(0).stdout.lines().count(),
        1
    );
    assert_eq!(
        run(&["-n", ns, "workers", "--all"])
            .expect(0)
            .stdout
            .lines()
            .count(),
        3
    );

    // A worker whose report is current may be alive: --force only.
    let live = namespace.worker("live").unwrap();
    live.request_attempts(&AttemptRequest::default()).unwrap();
    let refused = run(&["-n", ns, "release", "live", "--yes"]).expect(1);
    assert!(refused.stderr.contains("--force"), "{}", refused.stderr);
    assert_eq!(
        count(namespace.as_ref(), "fetch", WorkUnitStatus::Pending),
        1
    );
    run(&["-n", ns, "release", "live", "--yes", "--force"]).expect(0);
    assert_eq!(
        count(namespace.as_ref(), "fetch", WorkUnitStatus::Pending),
        0
    );
    namespace.destroy().unwrap();
}

#[test]
fn delete_pause_and_prioritize_change_only_what_they_name() {
    let namespace = namespace();
    let ns = namespace.name();
    add(namespace.as_ref(), "fetch", &["a", "b", "c", "d"]);
    fail(namespace.as_ref(), 1);
    run(&["-n", ns, "delete", "fetch", "--status", "failed"]).expect(2);
    let deleted = run(&["-n", ns, "delete", "fetch", "--status", "failed", "--yes"]).expect(0);
    assert_eq!(deleted.stdout, "deleted 1 unit(s) of work spec \"fetch\"\n");
    run(&["-n", ns, "delete", "fetch", "zzz", "--yes"]).expect(1);
    let spec = namespace.work_spec("fetch").unwrap();
    assert_eq!(spec.work_units(&WorkUnitQuery::all()).unwrap().len(), 3);

    let left: Vec<String> = spec
        .work_units(&WorkUnitQuery::all())
        .unwrap()
        .iter()
        .map(|u| u.name().to_owned())
        .collect();
    run(&[
        "-n",
        ns,
        "prioritize",
        "fetch",
        &left[0],
        "--priority",
        "-2.5",
    ])
    .expect(0);
    assert_eq!(spec.work_unit(&left[0]).unwrap().priority().unwrap(), -2.5);
    run(&[
        "-n",
        ns,
        "prioritize",
        "fetch",
        &left[1],
        "zzz",
        "--priority",
        "9",
    ])
    .expect(1);
    assert_eq!(spec.work_unit(&left[1]).unwrap().priority().unwrap(), 0.0);

    run(&["-n", ns, "pause", "fetch"]).expect(0);
    assert!(spec.meta(false).unwrap().paused);
    run(&["-n", ns, "resume", "fetch"]).expect(0);
    assert!(!spec.meta(false).unwrap().paused);
    let unknown = run(&["-n", ns, "pause", "nope"]).expect(1);
    assert!(unknown.stderr.contains("\"nope\""), "{}", unknown.stderr);
    namespace.destroy().unwrap();
}

#[test]
fn usage_errors_exit_2_and_unknown_names_exit_1() {
    run(&["frobnicate"]).expect(2);
    run(&["units"]).expect(2);
    let no_namespace = run(&["specs"]).expect(2);
    assert!(
        no_namespace.stderr.contains("--namespace"),
        "{}",
        no_namespace.stderr
    );
    let name = unique("absent");
    let absent = run(&["-n", &name, "specs"]).expect(1);
    assert!(absent.stderr.contains(&name), "{}", absent.stderr);
    // A definition without a name is refused before the namespace is made.
    let nameless = run_with(&["-n", &name, "spec", "set", "-"], "{\"weight\": 3}", &[]).expect(1);
    assert!(nameless.stderr.contains("\"name\""), "{}", nameless.stderr);
    run_with(&["-n", &name, "spec", "set", "-"], "{\"name\": ", &[]).expect(1);
    // Looking did not create it, nor did the refused definitions.
    assert!(!coordinate()
        .namespaces()
        .unwrap()
        .iter()
        .any(|n| n.name() == name));
    run(&["migrate"]).expect(0);
    run(&["drop"]).expect(2);
}

#[test]
fn connection_failures_never_show_the_password() {
    let secret = "s3cret-Pa55word";
    let nobody = format!("postgres://someone:{secret}@127.0.0.1:1/coordinate");
    for (args, env) in [
        (vec!["-d", nobody.as_str(), "namespaces"], vec![]),
        (vec!["namespaces"], vec![("DATABASE_URL", nobody.as_str())]),
        (
            vec!["migrate", "-v"],
            vec![("DATABASE_URL", nobody.as_str())],
        ),
    ] {
        let failed = run_with(&args, "", &env).expect(1);
        assert!(failed.stderr.contains("cannot reach"), "{}", failed.stderr);
        assert!(!failed.stderr.contains(secret), "{}", failed.stderr);
        assert!(!failed.stdout.contains(secret));
    }
    // Nor does --help, which names DATABASE_URL.
    let help = run_with(&["--help"], "", &[("DATABASE_URL", nobody.as_str())]).expect(0);
    assert!(help.stdout.contains("DATABASE_URL"));
    assert!(!help.stdout.contains(secret), "{}", help.stdout);
}

#[test]
fn summary_prints_the_prometheus_gauge() {
    let namespace = namespace();
    let ns = namespace.name();
    add(namespace.as_ref(), "fetch", &["a", "b"]);
    fail(namespace.as_ref(), 1);
    let text = run(&["-n", ns, "summary", "--format", "prometheus"])
        .expect(0)
        .stdout;
    let mut lines = text.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("# HELP coordinate_work_units "));
    assert_eq!(lines.next().unwrap(), "# TYPE coordinate_work_units gauge");
    let samples: Vec<&str> = lines.collect();
    assert_eq!(samples.len(), 10, "{text}");
    for status in ["available", "pending", "delayed", "finished", "failed"] {
        let expected = if status == "available" || status == "failed" {
            1
        } else {
            0
        };
        assert!(
            samples.contains(&format!(
                "coordinate_work_units{{namespace=\"{ns}\",work_spec=\"fetch\",status=\"{status}\"}} {expected}"
            ).as_str()),
            "{status}: {text}"
        );
    }
    assert!(text.ends_with('\n'));
    namespace.destroy().unwrap();
}
