//! A primary with a synchronous standby: what the standby has, and that
//! after the primary is killed the promoted standby takes writes at once
//! (its commits do not wait for a standby it does not have).

use std::time::Duration;

use throwaway_postgres::Cluster;

#[test]
fn a_promoted_standby_has_the_primarys_commits_and_takes_writes() {
    let mut primary = Cluster::init().expect("initdb");
    primary
        .start(&[("synchronous_standby_names", "*")])
        .expect("start the primary");
    let standby = primary.start_standby(&[]).expect("start the standby");
    primary
        .wait_for_standby(true, Duration::from_secs(60))
        .expect("the standby becomes synchronous");

    primary
        .query(
            "postgres",
            "CREATE TABLE t (n int); INSERT INTO t VALUES (1)",
        )
        .expect("a write on the primary");
    // Synchronous commit waited for the standby's flush, not its replay:
    // look until the row shows.
    let mut seen = String::new();
    for _ in 0..100 {
        seen = standby
            .query("postgres", "SELECT count(*) FROM t")
            .unwrap_or_default();
        if seen.trim() == "1" {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(seen.trim(), "1", "the standby replays the primary's row");
    let refused = standby
        .query("postgres", "INSERT INTO t VALUES (2)")
        .expect_err("a standby refuses writes");
    assert!(refused.to_string().contains("read-only"), "{refused}");

    primary.kill().expect("kill the primary");
    assert!(primary.query("postgres", "SELECT 1").is_err());
    standby.promote().expect("promote the standby");
    let (done, finished) = std::sync::mpsc::channel();
    let writer = std::thread::spawn(move || {
        let result = standby.query(
            "postgres",
            "INSERT INTO t VALUES (3); SELECT count(*) FROM t",
        );
        let _ = done.send(result.map_err(|e| e.to_string()));
        standby
    });
    let answer = finished
        .recv_timeout(Duration::from_secs(30))
        .expect("a commit on the promoted standby does not wait for a standby of its own");
    assert_eq!(answer.expect("a write after promotion").trim(), "2");
    drop(writer.join());
}
