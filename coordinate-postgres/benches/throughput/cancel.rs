//! Cancellation latency: from the expiring call's return (its commit) to
//! the handler of a runtime that holds the attempt seeing that it was
//! cancelled, with `LISTEN` and by polling (notifications off, the
//! runtime renewing every [`POLL`]).

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use coordinate_api::runtime::{Job, JobOutcome, Runtime};
use coordinate_api::{Coordinate, Data, WorkUnitMeta};
use coordinate_postgres::PostgresCoordinate;

use crate::api::{fresh_spec, Measured};
use crate::Config;

/// Samples of each row.
const SAMPLES: u64 = 200;
/// The polling row's `cancellation_poll`.
pub const POLL: Duration = Duration::from_millis(100);

/// `samples` cancellations of a running handler through `coordinate`.
fn measure(coordinate: Arc<dyn Coordinate>, poll: Option<Duration>) -> Result<Measured> {
    let (namespace, spec) = fresh_spec(&coordinate, "cancel")?;
    let (started_tx, started) = mpsc::channel::<String>();
    let (stopped_tx, stopped) = mpsc::channel::<Instant>();
    let senders = Mutex::new((started_tx, stopped_tx));
    let mut builder = Runtime::builder(namespace.clone())
        .handler("spec", move |job: &Job| {
            // The expired unit comes back: its second run just finishes.
            if job.attempt_number()? > 1 {
                return Ok(JobOutcome::finish());
            }
            let name = job.work_unit_name().to_owned();
            let _ = senders.lock().unwrap().0.send(name);
            // Runs until cancelled (a minute at most).
            let cancelled = job.sleep(Duration::from_secs(60));
            let _ = senders.lock().unwrap().1.send(Instant::now());
            cancelled?;
            Ok(JobOutcome::finish())
        })
        .concurrency(1)
        // A minute's lease: its renewal every 20 s cannot be what tells.
        .lease(Duration::from_secs(60))
        .poll_interval(Duration::from_millis(20));
    if let Some(poll) = poll {
        builder = builder.cancellation_poll(poll);
    }
    let runtime = builder.start()?;
    let mut latencies = Vec::new();
    let began = Instant::now();
    for i in 0..SAMPLES {
        let name = format!("c{i:05}");
        spec.add_work_unit(&name, Data::new(), WorkUnitMeta::default())?;
        let running = started.recv_timeout(Duration::from_secs(20))?;
        let attempt = spec
            .work_unit(&running)?
            .active_attempt()?
            .context("the running unit has an attempt")?;
        attempt.expire(None)?;
        let expired = Instant::now();
        let seen = stopped.recv_timeout(Duration::from_secs(30))?;
        latencies.push(seen.saturating_duration_since(expired));
    }
    let elapsed = began.elapsed();
    runtime.shutdown();
    runtime.wait();
    namespace.destroy()?;
    Ok(Measured {
        units: SAMPLES,
        elapsed,
        latencies,
    })
}

/// The two rows: notifications, and polling.
pub fn run(config: &Config, rows: &mut Vec<crate::report::Row>) -> Result<()> {
    let listening: Arc<dyn Coordinate> = Arc::new(PostgresCoordinate::new(&config.backend)?);
    let measured = measure(listening, None)?;
    rows.push(crate::row(
        "cancel/runtime/listen".into(),
        "expire commit -> running handler cancelled (NOTIFY)".into(),
        1,
        1,
        &measured,
        crate::Footprint::unrecorded(),
    ));
    crate::progress(rows);
    let polling: Arc<dyn Coordinate> = Arc::new(
        PostgresCoordinate::builder(&config.backend)
            .notifications(false)
            .build()?,
    );
    let measured = measure(polling, Some(POLL))?;
    rows.push(crate::row(
        "cancel/runtime/poll".into(),
        format!(
            "expire commit -> running handler cancelled (renewing every {} ms)",
            POLL.as_millis()
        ),
        1,
        1,
        &measured,
        crate::Footprint::unrecorded(),
    ));
    crate::progress(rows);
    Ok(())
}
