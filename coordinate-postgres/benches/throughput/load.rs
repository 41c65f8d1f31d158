//! The load row (issue 21): 256 clients, each a `RestCoordinate` of its
//! own (its own keep-alive connection), claim one unit and finish it in a
//! loop through one `coordinated` for a fixed time. What must hold: no
//! call fails (a 503 of `--max-waiting` is retried by the client after
//! `Retry-After`; the server's `/metrics` counts them), and afterwards, in
//! SQL, every unit handed out has exactly one finished attempt. Also
//! reported: p50/p99 of a claim + finish and the server's peak memory.

use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use coordinate_api::{AttemptRequest, Coordinate, Worker};
use coordinate_rest::RestCoordinate;
use diesel::pg::PgConnection;

use crate::api::{fresh_spec, preload, Measured};
use crate::coordinated::Launcher;
use crate::pg;
use crate::report::{Row, RunInfo, Verdict};
use crate::Config;

/// Concurrent clients.
pub const CLIENTS: usize = 256;
/// Units per second assumed when no `rest/b1/…` row of this run tells
/// how fast the server drains; only sizes the queue.
const ASSUMED_RATE: f64 = 3_000.0;
/// The queue holds this many times what the row is expected to drain, so
/// that it does not run dry before the time is up.
const HEADROOM: f64 = 2.0;
/// Fewest units preloaded.
const MIN_UNITS: u64 = 20_000;
/// A failed call is tried again after this pause, so that a dead server
/// does not turn 256 threads into a busy loop.
const FAILURE_PAUSE: Duration = Duration::from_millis(100);

/// What one client thread did.
#[derive(Default)]
struct Client {
    finished: u64,
    failed: u64,
    /// The queue was empty before the time was up.
    ran_dry: bool,
    latencies: Vec<Duration>,
}

/// Runs the load row against a server of its own (so that its peak memory
/// is this row's), preloading through `coordinate` (direct), and checking
/// through `conn`.
pub fn run(
    config: &Config,
    coordinate: &Arc<dyn Coordinate>,
    launcher: &Launcher,
    conn: &mut PgConnection,
    rows: &mut Vec<Row>,
    info: &mut RunInfo,
) -> Result<()> {
    let seconds = config.load_seconds;
    let rate = rows
        .iter()
        .filter(|r| r.key.starts_with("rest/b1/"))
        .map(Row::rate)
        .fold(ASSUMED_RATE, f64::max);
    let units = ((rate * seconds as f64 * HEADROOM) as u64).max(MIN_UNITS);
    let (namespace, spec) = fresh_spec(coordinate, "load")?;
    preload(&spec, "u", units)?;
    // Workers exist before the clock starts.
    for t in 0..CLIENTS {
        namespace.worker(&worker_name(t))?;
    }
    let (spec_id, _) = pg::ids(conn, namespace.name(), "spec", &worker_name(0))?;
    pg::vacuum(conn)?;
    let server = launcher.start(&[])?;
    // Every client connects (and so holds its connection) before the
    // clock starts, as a fleet of workers would.
    let workers = (0..CLIENTS)
        .map(|t| -> Result<Arc<dyn Worker>> {
            let client: Arc<dyn Coordinate> = Arc::new(RestCoordinate::new(&server.url)?);
            Ok(client
                .namespace(namespace.name())?
                .worker(&worker_name(t))?)
        })
        .collect::<Result<Vec<_>>>()?;
    let request = AttemptRequest {
        work_specs: vec!["spec".into()],
        ..AttemptRequest::default()
    };
    let first_error = Mutex::new(None::<String>);
    let mut failed = 0;
    let mut ran_dry = false;
    let (measured, footprint) = crate::measure(|| {
        let start = Barrier::new(CLIENTS + 1);
        let length = Duration::from_secs(seconds);
        let (clients, elapsed) = std::thread::scope(|scope| {
            let handles: Vec<_> = workers
                .iter()
                .map(|worker| {
                    let (start, request, first_error) = (&start, &request, &first_error);
                    scope.spawn(move || {
                        start.wait();
                        client_loop(
                            worker.as_ref(),
                            request,
                            Instant::now() + length,
                            first_error,
                        )
                    })
                })
                .collect();
            // The clock starts when every client is about to send.
            start.wait();
            let began = Instant::now();
            let clients: Vec<_> = handles.into_iter().map(|h| h.join()).collect();
            (clients, began.elapsed())
        });
        let mut finished = 0;
        let mut latencies = Vec::new();
        for client in clients {
            let Ok(mut client) = client else {
                bail!("a load client panicked");
            };
            finished += client.finished;
            failed += client.failed;
            ran_dry |= client.ran_dry;
            latencies.append(&mut client.latencies);
        }
        Ok(Measured {
            units: finished,
            elapsed,
            latencies,
        })
    })?;
    if ran_dry {
        info.notes.push(format!(
            "rest/load/c{CLIENTS}: the queue of {units} units ran dry before {seconds} s"
        ));
    }
    let requests = server.requests()?;
    let peak = server.peak_mib();
    drop(server);
    let finishes = pg::finishes(conn, spec_id)?;
    let mut row = crate::row(
        format!("rest/load/c{CLIENTS}"),
        format!(
            "coordinated (REST): {CLIENTS} clients, a keep-alive connection each, \
             request_attempts+finish for {seconds} s (p50/p99 = claim+finish)"
        ),
        CLIENTS,
        1,
        &measured,
        footprint,
    );
    // These figures exist only here, not in any row that targets.rs could
    // compare: the verdicts are made where they are measured.
    row.targets.push(zero("failed calls", failed as i64));
    row.targets.push(zero(
        "SQL: units not finished exactly once",
        finishes.violations(),
    ));
    row.targets.push(Verdict {
        wanted: "503s retried (no bound)".into(),
        got: requests.refused.to_string(),
        measured: requests.refused as f64,
        pass: true,
    });
    row.targets
        .push(zero("other 4xx/5xx answers", requests.errors as i64));
    if let Some(peak) = peak {
        row.targets.push(Verdict {
            wanted: "server peak RSS (no bound)".into(),
            got: format!("{peak:.0}MiB"),
            measured: peak,
            pass: true,
        });
    }
    info.notes.push(format!(
        "rest/load/c{CLIENTS}: {} units finished by the clients, {failed} calls failed, \
         {} HTTP requests answered, {} refused with 503 and retried, {} other error \
         answers; in SQL {} units \
         claimed, {} finished exactly once, {} finished twice or more, {} never finished; \
         server peak memory (VmHWM) {}",
        measured.units,
        requests.total(),
        requests.refused,
        requests.errors,
        finishes.claimed,
        finishes.finished_once,
        finishes.finished_twice,
        finishes.unfinished,
        peak.map_or("unknown".into(), |p| format!("{p:.0} MiB")),
    ));
    if let Some(error) = first_error.into_inner().unwrap() {
        info.notes.push(format!(
            "rest/load/c{CLIENTS}: {failed} calls failed, the first with: {error}"
        ));
    }
    if finishes.finished_once != measured.units as i64 {
        // A finish that failed on the client but took effect on the
        // server (or the reverse) shows here.
        info.notes.push(format!(
            "rest/load/c{CLIENTS}: the clients counted {} finishes, SQL {}",
            measured.units, finishes.finished_once
        ));
    }
    rows.push(row);
    crate::progress(rows);
    namespace.destroy()?;
    Ok(())
}

fn worker_name(t: usize) -> String {
    format!("load-{t}")
}

/// A verdict that wants `count` to be zero.
fn zero(what: &str, count: i64) -> Verdict {
    Verdict {
        wanted: format!("{what} = 0"),
        got: count.to_string(),
        measured: count as f64,
        pass: count == 0,
    }
}

/// One client: claim one unit, finish it, until `deadline`. A failed call
/// is counted and the loop goes on (the unit it held shows in the SQL
/// check).
fn client_loop(
    worker: &dyn Worker,
    request: &AttemptRequest,
    deadline: Instant,
    first_error: &Mutex<Option<String>>,
) -> Client {
    let mut client = Client::default();
    let failed = |error: coordinate_api::Error, client: &mut Client| {
        client.failed += 1;
        first_error
            .lock()
            .unwrap()
            .get_or_insert_with(|| error.to_string());
        std::thread::sleep(FAILURE_PAUSE);
    };
    while Instant::now() < deadline {
        let asked = Instant::now();
        let attempts = match worker.request_attempts(request) {
            Ok(attempts) => attempts,
            Err(error) => {
                failed(error, &mut client);
                continue;
            }
        };
        if attempts.is_empty() {
            client.ran_dry = true;
            break;
        }
        let mut all_finished = true;
        for attempt in attempts {
            match attempt.finish(None) {
                Ok(()) => client.finished += 1,
                Err(error) => {
                    all_finished = false;
                    failed(error, &mut client);
                }
            }
        }
        if all_finished {
            client.latencies.push(asked.elapsed());
        }
    }
    client
}
