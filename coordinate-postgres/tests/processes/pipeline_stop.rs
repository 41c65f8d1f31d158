//! The pipeline example, as a new user runs it on PostgreSQL, stopped with
//! SIGTERM while slow units are in flight: it stops claiming, lets running
//! units finish or gives them back, exits within its grace plus a second,
//! and leaves no attempt pending.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use coordinate_api::WorkUnitStatus;
use coordinate_postgres::test_support::database_url;

use crate::common::{coordinate, example_binary};

const GRACE: Duration = Duration::from_secs(2);

#[test]
fn sigterm_stops_the_pipeline_example_cleanly() {
    let mut child = Command::new(example_binary("pipeline"))
        .args(["--backend-env", "PIPELINE_DATABASE"])
        .args(["--units", "400", "--workers", "4", "--work-ms", "300"])
        .args(["--grace-ms", &GRACE.as_millis().to_string()])
        .env("PIPELINE_DATABASE", database_url())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting the pipeline example");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("a first line").expect("readable");
    let namespace_name = first
        .strip_prefix("namespace ")
        .and_then(|rest| rest.split(':').next())
        .unwrap_or_else(|| panic!("no namespace in {first:?}"))
        .to_owned();
    let namespace = coordinate().namespace(&namespace_name).unwrap();
    let fetch = namespace.work_spec("fetch").unwrap();
    let count = |status| {
        fetch
            .count_work_unit_status()
            .unwrap()
            .get(&status)
            .copied()
            .unwrap_or(0)
    };
    // Slow units in flight: some done, some running.
    let until = Instant::now() + Duration::from_secs(30);
    while count(WorkUnitStatus::Finished) < 8 || count(WorkUnitStatus::Pending) == 0 {
        assert!(Instant::now() < until, "the pipeline never got going");
        std::thread::sleep(Duration::from_millis(50));
    }

    let asked = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let exited = child.wait().expect("the example exits");
    let took = asked.elapsed();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(exited.success(), "{exited}: {rest:?}");
    assert!(
        took <= GRACE + Duration::from_secs(1),
        "took {took:?} to stop"
    );
    assert!(
        rest.iter().any(|line| line.contains("stopped by a signal")),
        "{rest:?}"
    );

    for spec in ["fetch", "parse"] {
        let counts = namespace
            .work_spec(spec)
            .unwrap()
            .count_work_unit_status()
            .unwrap();
        assert_eq!(
            counts.get(&WorkUnitStatus::Pending),
            None,
            "{spec}: {counts:?}"
        );
    }
    assert!(
        count(WorkUnitStatus::Available) > 0,
        "work was left for the next run"
    );
    namespace.destroy().unwrap();
}
