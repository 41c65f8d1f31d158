//! The `coordinate` command as a real process against the test database,
//! the verbs that change things: `add` all or nothing, `retry --failed`,
//! `release` of a dead worker, `delete`, `prioritize`, `pause`, `prune`.

use std::time::Duration;

use chrono::Utc;
use coordinate_api::{AttemptRequest, Data, Value, WorkUnitQuery, WorkUnitStatus};

use crate::common::cli::{add, count, fail, namespace, run, run_with};
use crate::common::unique;

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
        missing.stderr.contains("\"zzz\" does not exist"),
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
fn prune_removes_only_old_finished_units_and_asks_first() {
    let namespace = namespace();
    let ns = namespace.name();
    add(namespace.as_ref(), "parse", &["a", "b", "c"]);
    add(namespace.as_ref(), "fetch", &["x"]);
    fail(namespace.as_ref(), 1);
    let worker = namespace.worker("finisher").unwrap();
    let attempts = worker
        .request_attempts(&AttemptRequest {
            number_of_work_units: 2,
            work_specs: vec!["parse".into()],
            ..AttemptRequest::default()
        })
        .unwrap();
    assert_eq!(attempts.len(), 2);
    for attempt in &attempts {
        attempt.finish(None).unwrap();
    }
    // Their end times must be strictly before the command's "now".
    std::thread::sleep(Duration::from_millis(20));

    let would = run(&[
        "-n",
        ns,
        "--json",
        "prune",
        "--finished-before",
        "0s",
        "--dry-run",
    ])
    .expect(0);
    assert_eq!(would.json()["work_units"], 2);
    run(&["-n", ns, "prune", "--finished-before", "0s"]).expect(2);
    assert_eq!(
        count(namespace.as_ref(), "parse", WorkUnitStatus::Finished),
        2,
        "asked, not pruned"
    );
    run(&["-n", ns, "prune"]).expect(2);
    run(&["-n", ns, "prune", "--finished-before", "7w", "--yes"]).expect(2);

    let pruned = run(&["-n", ns, "prune", "--finished-before", "0s", "--yes"]).expect(0);
    assert_eq!(pruned.stdout, "pruned 2 work unit(s) and 0 worker(s)\n");
    assert_eq!(
        count(namespace.as_ref(), "parse", WorkUnitStatus::Finished),
        0
    );
    assert_eq!(
        count(namespace.as_ref(), "parse", WorkUnitStatus::Available),
        1
    );
    assert_eq!(
        count(namespace.as_ref(), "fetch", WorkUnitStatus::Failed),
        1,
        "no --failed-before"
    );
}

#[test]
fn cancel_expires_pending_attempts_and_names_units_without_one() {
    let namespace = namespace();
    let ns = namespace.name();
    add(namespace.as_ref(), "fetch", &["a", "b"]);
    let held = namespace
        .worker("w")
        .unwrap()
        .request_attempts(&AttemptRequest::default())
        .unwrap();
    assert_eq!(held.len(), 1);
    let held_name = held[0].work_unit().name().to_owned();
    let idle_name = if held_name == "a" { "b" } else { "a" };

    let missing = run(&["-n", ns, "cancel", "fetch", &held_name, "zzz"]).expect(1);
    assert!(
        missing.stderr.contains("nothing changed"),
        "{}",
        missing.stderr
    );
    assert_eq!(
        held[0].status().unwrap(),
        coordinate_api::AttemptStatus::Pending
    );

    let cancelled = run(&["-n", ns, "--json", "cancel", "fetch", &held_name, idle_name]).expect(0);
    let answer = cancelled.json();
    assert_eq!(answer["cancelled"], serde_json::json!([held_name]));
    assert_eq!(answer["not_pending"], serde_json::json!([idle_name]));
    assert_eq!(
        held[0].status().unwrap(),
        coordinate_api::AttemptStatus::Expired
    );
    assert_eq!(
        count(namespace.as_ref(), "fetch", WorkUnitStatus::Available),
        2
    );

    let plain = run(&["-n", ns, "cancel", "fetch", &held_name]).expect(0);
    assert!(
        plain.stdout.contains("cancelled 0 unit(s)")
            && plain
                .stdout
                .contains(&format!("no pending attempt, left alone: {held_name:?}")),
        "{}",
        plain.stdout
    );
    namespace.destroy().unwrap();
}
