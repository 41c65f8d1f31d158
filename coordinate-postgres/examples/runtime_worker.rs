//! A worker process on the runtime, for the tests that stop it from the
//! outside (`tests/processes/runtime_process.rs`): SIGTERM, SIGKILL, a
//! unit cancelled by the `coordinate` command.
//!
//! Everything comes from the environment: `DATABASE_URL`,
//! `COORDINATE_NAMESPACE`, the work spec `WORK_SPEC`, and in milliseconds
//! `WORK_MS` (each unit's work), `LEASE_MS` and `GRACE_MS`; `CONCURRENCY`
//! executors. It prints `ready NAME` once its worker records exist,
//! `cancelled UNIT REASON` when a handler is stopped, and a last line
//! `report claimed=… finished=… released=… …` (every total) when it stops.

use std::time::Duration;

use anyhow::{Context, Result};
use coordinate_api::runtime::{signals, Job, JobOutcome, Runtime};
use coordinate_api::Coordinate;
use coordinate_postgres::PostgresCoordinate;

fn env(name: &str) -> Result<String> {
    std::env::var(name).with_context(|| format!("{name} is not set"))
}

fn millis(name: &str) -> Result<Duration> {
    Ok(Duration::from_millis(
        env(name)?.parse().with_context(|| name.to_owned())?,
    ))
}

fn main() -> Result<()> {
    let coordinate = PostgresCoordinate::builder(&env("DATABASE_URL")?)
        .pool_size(4)
        .build()?;
    let namespace = coordinate.namespace(&env("COORDINATE_NAMESPACE")?)?;
    let work = millis("WORK_MS")?;
    let runtime = Runtime::builder(namespace)
        .handler(env("WORK_SPEC")?, move |job: &Job| {
            if let Err(cancelled) = job.sleep(work) {
                println!("cancelled {} {:?}", job.work_unit_name(), cancelled.0);
                return Err(cancelled.into());
            }
            Ok(JobOutcome::finish())
        })
        .concurrency(env("CONCURRENCY")?.parse().context("CONCURRENCY")?)
        .lease(millis("LEASE_MS")?)
        .grace(millis("GRACE_MS")?)
        .poll_interval(Duration::from_millis(50))
        .start()?;
    let _signals = signals::stop_on_signals(runtime.stopper())?;
    println!("ready {}", runtime.worker_name());
    let report = runtime.wait();
    let totals = report.totals;
    println!(
        "report claimed={} finished={} released={} abandoned={} lost_leases={} retried={} \
         failed={} unsent={} refused={} shutdown_ms={}",
        totals.claimed,
        totals.finished,
        totals.released,
        totals.abandoned,
        totals.lost_leases,
        totals.retried,
        totals.failed,
        totals.unsent,
        totals.refused,
        report.shutdown.as_millis()
    );
    Ok(())
}
