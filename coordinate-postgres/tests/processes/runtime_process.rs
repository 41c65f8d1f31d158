//! The worker runtime on PostgreSQL, stopped from the outside: a worker
//! process (`examples/runtime_worker.rs`) gets SIGTERM or SIGKILL with
//! units in flight, and a runtime in this process has its connections
//! terminated while it sends results.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::time::{Duration, Instant};

use coordinate_api::runtime::{CompletionMode, Job, JobOutcome, Runtime};
use coordinate_api::{AttemptRequest, Coordinate, Namespace, WorkUnitMeta, WorkUnitStatus};
use coordinate_conformance::{definition, unique_name};
use coordinate_postgres::test_support::database_url;
use coordinate_postgres::PostgresCoordinate;
use diesel::{Connection, PgConnection};

use crate::common::{example_binary, terminate_sessions, with_application_name};

/// Longer than anything here should take.
const PATIENCE: Duration = Duration::from_secs(30);

/// A running worker process and the lines it prints.
struct Worker {
    child: Child,
    lines: Receiver<String>,
    name: String,
}

/// Settings of one worker process.
struct Settings {
    work_ms: u64,
    lease_ms: u64,
    grace_ms: u64,
    concurrency: usize,
}

impl Worker {
    fn start(namespace: &str, settings: &Settings) -> Worker {
        let mut child = Command::new(example_binary("runtime_worker"))
            .env("DATABASE_URL", database_url())
            .env("COORDINATE_NAMESPACE", namespace)
            .env("WORK_SPEC", "work")
            .env("WORK_MS", settings.work_ms.to_string())
            .env("LEASE_MS", settings.lease_ms.to_string())
            .env("GRACE_MS", settings.grace_ms.to_string())
            .env("CONCURRENCY", settings.concurrency.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the worker process");
        let (send, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = send.send(line);
            }
        });
        let ready = lines
            .recv_timeout(PATIENCE)
            .expect("the worker said it was ready");
        let name = ready
            .strip_prefix("ready ")
            .unwrap_or_else(|| panic!("unexpected first line {ready:?}"))
            .to_owned();
        Worker { child, lines, name }
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {signal} failed");
    }

    /// Waits for the process to end; returns how long that took.
    fn wait_for_exit(&mut self) -> Duration {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                assert!(
                    status.success() || status.code().is_none(),
                    "exit status {status}"
                );
                return started.elapsed();
            }
            assert!(started.elapsed() < PATIENCE, "the worker did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The next line that starts with `prefix`, skipping others.
    fn line_starting(&self, prefix: &str, patience: Duration) -> String {
        loop {
            let line = self
                .lines
                .recv_timeout(patience)
                .unwrap_or_else(|_| panic!("no line starting with {prefix:?}"));
            if line.starts_with(prefix) {
                return line;
            }
        }
    }

    /// The `key=value` pairs of the report line printed at the end, then
    /// the lines before it (`cancelled …`), which a failed assertion shows.
    fn report(&self) -> (Vec<(String, u64)>, Vec<String>) {
        let mut before = Vec::new();
        let line = loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(5))
                .unwrap_or_else(|_| panic!("no report line after {before:?}"));
            match line.strip_prefix("report ") {
                Some(pairs) => break pairs.to_owned(),
                None => before.push(line),
            }
        };
        let pairs = line
            .split(' ')
            .map(|pair| {
                let (key, value) = pair.split_once('=').expect("key=value");
                (key.to_owned(), value.parse().expect("a number"))
            })
            .collect();
        (pairs, before)
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn namespace_with_units(prefix: &str, units: usize) -> (Arc<dyn Namespace>, String) {
    let coordinate = PostgresCoordinate::builder(&database_url())
        .pool_size(2)
        .notifications(false)
        .build()
        .expect("connect");
    let name = unique_name(prefix);
    let namespace = coordinate.namespace(&name).expect("namespace");
    let spec = namespace
        .set_work_spec(definition("work", &[]))
        .expect("spec");
    for i in 0..units {
        spec.add_work_unit(
            &format!("u{i:03}"),
            Default::default(),
            WorkUnitMeta::default(),
        )
        .expect("add");
    }
    (namespace, name)
}

fn count(namespace: &dyn Namespace, status: WorkUnitStatus) -> usize {
    let counts = namespace
        .work_spec("work")
        .unwrap()
        .count_work_unit_status()
        .unwrap();
    counts.get(&status).copied().unwrap_or(0)
}

fn wait_for_pending(namespace: &dyn Namespace, pending: usize) {
    let started = Instant::now();
    while count(namespace, WorkUnitStatus::Pending) < pending {
        assert!(
            started.elapsed() < PATIENCE,
            "the worker never held {pending} units"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts a worker on a fresh namespace of `units` units, waits until it
/// holds `busy` of them, sends `signal` and waits for it to exit. Returns
/// the namespace, the worker and how long the exit took.
fn stop_while_busy(
    prefix: &str,
    units: usize,
    settings: &Settings,
    busy: usize,
    signal: &str,
) -> (Arc<dyn Namespace>, Worker, Duration) {
    let (namespace, name) = namespace_with_units(prefix, units);
    let mut worker = Worker::start(&name, settings);
    wait_for_pending(namespace.as_ref(), busy);
    worker.signal(signal);
    let took = worker.wait_for_exit();
    (namespace, worker, took)
}

/// No attempt of the worker's records is left pending.
fn assert_nothing_held(namespace: &dyn Namespace, worker: &str) {
    let parent = namespace.worker(worker).unwrap();
    assert!(
        parent.active_attempts().unwrap().is_empty(),
        "the parent holds attempts"
    );
    assert!(
        parent.child_attempts().unwrap().is_empty(),
        "an executor holds attempts"
    );
    assert!(
        !parent.active().unwrap(),
        "the parent record is still active"
    );
    assert_eq!(count(namespace, WorkUnitStatus::Pending), 0);
}

#[test]
fn sigterm_cancels_handlers_after_the_grace_and_gives_their_units_back() {
    let grace = Duration::from_millis(1000);
    let settings = Settings {
        work_ms: 60_000,
        lease_ms: 30_000,
        grace_ms: grace.as_millis() as u64,
        concurrency: 4,
    };
    let (namespace, worker, took) = stop_while_busy("rt_term", 12, &settings, 4, "-TERM");
    assert!(
        took <= grace + Duration::from_secs(1),
        "exited {took:?} after SIGTERM"
    );
    let (report, printed) = worker.report();
    assert!(
        report.contains(&("released".into(), 4)),
        "{report:?} after {printed:?}"
    );
    assert!(
        report.contains(&("abandoned".into(), 0)),
        "{report:?} after {printed:?}"
    );
    assert_nothing_held(namespace.as_ref(), &worker.name);
    assert_eq!(count(namespace.as_ref(), WorkUnitStatus::Available), 12);
    namespace.destroy().unwrap();
}

#[test]
fn sigterm_lets_short_handlers_finish() {
    let settings = Settings {
        work_ms: 400,
        lease_ms: 30_000,
        grace_ms: 10_000,
        concurrency: 4,
    };
    let (namespace, worker, took) = stop_while_busy("rt_drain", 8, &settings, 4, "-TERM");
    assert!(
        took < Duration::from_secs(5),
        "exited {took:?} after SIGTERM"
    );
    assert_nothing_held(namespace.as_ref(), &worker.name);
    assert!(count(namespace.as_ref(), WorkUnitStatus::Finished) >= 4);
    assert_eq!(
        count(namespace.as_ref(), WorkUnitStatus::Finished)
            + count(namespace.as_ref(), WorkUnitStatus::Available),
        8
    );
    namespace.destroy().unwrap();
}

#[test]
fn after_sigkill_the_units_come_back_when_the_lease_runs_out() {
    let settings = Settings {
        work_ms: 60_000,
        lease_ms: 1_500,
        grace_ms: 1_000,
        concurrency: 2,
    };
    let (namespace, _worker, _) = stop_while_busy("rt_kill", 2, &settings, 2, "-KILL");
    let killed = Instant::now();
    let other = namespace.worker("survivor").unwrap();
    let request = AttemptRequest {
        number_of_work_units: 10,
        ..AttemptRequest::default()
    };
    assert!(
        other.request_attempts(&request).unwrap().is_empty(),
        "still leased"
    );
    let mut taken = 0;
    while taken < 2 {
        assert!(killed.elapsed() < PATIENCE, "the units never came back");
        taken += other.request_attempts(&request).unwrap().len();
        std::thread::sleep(Duration::from_millis(50));
    }
    namespace.destroy().unwrap();
}

#[test]
fn terminated_connections_while_sending_results_lose_nothing() {
    const UNITS: usize = 1000;
    let (namespace, name) = namespace_with_units("rt_flush", UNITS);
    let application = unique_name("rt-flush-pool").replace('.', "-");
    let coordinate =
        PostgresCoordinate::builder(&with_application_name(&database_url(), &application))
            .pool_size(4)
            .notifications(false)
            .build()
            .expect("connect");
    let runtime_namespace = coordinate.namespace(&name).unwrap();
    let runtime = Runtime::builder(runtime_namespace)
        .handler("work", |_: &Job| Ok(JobOutcome::finish()))
        .concurrency(4)
        .prefetch(100)
        .lease(Duration::from_secs(3))
        .poll_interval(Duration::from_millis(50))
        .completion(CompletionMode::Batched {
            size: 100,
            delay: Duration::from_millis(10),
        })
        .start()
        .expect("start");

    let stop = Arc::new(AtomicBool::new(false));
    let terminated = Arc::new(AtomicI64::new(0));
    let killer = {
        let (stop, terminated, application) =
            (stop.clone(), terminated.clone(), application.clone());
        std::thread::spawn(move || {
            let mut admin = PgConnection::establish(&database_url()).expect("admin connection");
            while !stop.load(Ordering::SeqCst) {
                terminated.fetch_add(
                    terminate_sessions(&mut admin, &application),
                    Ordering::SeqCst,
                );
                std::thread::sleep(Duration::from_millis(150));
            }
        })
    };
    let started = Instant::now();
    while count(namespace.as_ref(), WorkUnitStatus::Finished) < UNITS {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "not every unit finished"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::SeqCst);
    killer.join().unwrap();
    runtime.shutdown();
    let report = runtime.wait();
    assert!(
        terminated.load(Ordering::SeqCst) > 0,
        "no connection was terminated"
    );
    assert_eq!(report.totals.failed, 0, "{report:?}");
    assert_eq!(count(namespace.as_ref(), WorkUnitStatus::Finished), UNITS);
    namespace.destroy().unwrap();
}

#[test]
fn a_unit_cancelled_by_the_coordinate_command_stops_its_handler_at_once() {
    // A lease of a minute: its renewal, 20 s away, cannot be what tells.
    let settings = Settings {
        work_ms: 60_000,
        lease_ms: 60_000,
        grace_ms: 1_000,
        concurrency: 1,
    };
    let (namespace, name) = namespace_with_units("cancel", 1);
    let mut worker = Worker::start(&name, &settings);
    wait_for_pending(namespace.as_ref(), 1);

    let asked = Instant::now();
    let cancel = crate::common::cli::run(&["-n", &name, "cancel", "work", "u000"]).expect(0);
    assert!(
        cancel.stdout.contains("cancelled 1 unit"),
        "{}",
        cancel.stdout
    );
    let line = worker.line_starting("cancelled ", PATIENCE);
    let took = asked.elapsed();
    assert_eq!(line, "cancelled u000 LeaseLost");
    assert!(
        took < Duration::from_secs(10),
        "the handler stopped only after {took:?}"
    );

    worker.signal("-TERM");
    worker.wait_for_exit();
    let (report, _) = worker.report();
    let lost = report
        .iter()
        .find(|(k, _)| k == "lost_leases")
        .map(|(_, v)| *v);
    assert!(lost >= Some(1), "{report:?}");
    namespace.destroy().unwrap();
}
