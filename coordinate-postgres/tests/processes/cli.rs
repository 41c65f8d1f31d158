//! The `coordinate` command as a real process against the test database,
//! the verbs that read: golden tables, `--json` parsed back, the
//! Prometheus text, exit codes and connection errors. `cli_changes.rs`
//! beside it has the verbs that change things.

use chrono::Utc;
use coordinate_api::{Data, Value, WorkUnitMeta};
use serde_json::Value as Json;

use crate::common::cli::{add, fail, namespace, run, run_with};
use crate::common::{coordinate, data, unique};

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
