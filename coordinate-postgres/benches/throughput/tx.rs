//! Work inside the caller's transaction (`in_transaction`): `tx/add/w4`
//! adds one unit per transaction of the caller's own connection, beside
//! `add/one/w4`; `tx/complete/w4` claims one unit and finishes it in the
//! caller's transaction, beside `api/b1/w4`. The same statements on the
//! caller's connection: the target is 0.9x of each.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use coordinate_api::{AttemptRequest, Completion, Coordinate, Namespace, Outcome, WorkSpec};
use coordinate_postgres::diesel::{Connection, PgConnection};
use coordinate_postgres::in_transaction;

use crate::api::{fresh_spec, new_unit, preload, Measured};
use crate::report::Row;
use crate::Config;

/// Threads of both rows.
const THREADS: usize = 4;

/// An application's own connection (a URL or `key=value` pairs, or empty
/// for the `PG*` variables, as libpq reads them).
fn connection(config: &Config) -> Result<PgConnection> {
    Ok(PgConnection::establish(&config.backend)?)
}

/// Runs `work` on `THREADS` threads, each with its own connection; sums
/// the units and latencies each reports.
fn on_threads(
    config: &Config,
    work: impl Fn(usize, &mut PgConnection) -> Result<(u64, Vec<Duration>)> + Sync,
) -> Result<Measured> {
    let mut connections = (0..THREADS)
        .map(|_| connection(config))
        .collect::<Result<Vec<_>>>()?;
    let start = Instant::now();
    let results: Vec<Result<(u64, Vec<Duration>)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = connections
            .iter_mut()
            .enumerate()
            .map(|(t, conn)| {
                let work = &work;
                scope.spawn(move || work(t, conn))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| bail!("a thread panicked")))
            .collect()
    });
    let elapsed = start.elapsed();
    let (mut units, mut latencies) = (0, Vec::new());
    for result in results {
        let (done, mut times) = result?;
        units += done;
        latencies.append(&mut times);
    }
    Ok(Measured {
        units,
        elapsed,
        latencies,
    })
}

/// One unit per caller transaction, `count` in all.
fn adds(config: &Config, spec: &Arc<dyn WorkSpec>, count: u64) -> Result<Measured> {
    let per_thread = count / THREADS as u64;
    on_threads(config, |t, conn| {
        let prefix = format!("tx-add-{t}-");
        let mut latencies = Vec::new();
        for i in 0..per_thread {
            let called = Instant::now();
            conn.transaction::<_, anyhow::Error, _>(|conn| {
                in_transaction::add_work_units(conn, spec.as_ref(), vec![new_unit(&prefix, i)])?;
                Ok(())
            })?;
            latencies.push(called.elapsed());
        }
        Ok((per_thread, latencies))
    })
}

/// Claims one unit at a time and finishes it in a caller transaction,
/// until none is left.
fn completions(config: &Config, namespace: &Arc<dyn Namespace>, spec: &str) -> Result<Measured> {
    let request = AttemptRequest {
        work_specs: vec![spec.to_owned()],
        ..AttemptRequest::default()
    };
    on_threads(config, |t, conn| {
        let worker = namespace.worker(&format!("tx-worker-{t}"))?;
        let (mut done, mut latencies) = (0, Vec::new());
        loop {
            let asked = Instant::now();
            let Some(attempt) = worker.request_attempts(&request)?.pop() else {
                return Ok((done, latencies));
            };
            conn.transaction::<_, anyhow::Error, _>(|conn| {
                let finish = Completion::new(attempt, Outcome::Finish(None));
                in_transaction::complete_attempt(conn, namespace.as_ref(), finish)?;
                Ok(())
            })?;
            latencies.push(asked.elapsed());
            done += 1;
        }
    })
}

/// The two rows.
pub fn run(config: &Config, coordinate: &Arc<dyn Coordinate>, rows: &mut Vec<Row>) -> Result<()> {
    let (namespace, spec) = fresh_spec(coordinate, "tx-add")?;
    let (measured, footprint) = crate::measure(|| adds(config, &spec, config.add_units))?;
    rows.push(crate::row(
        format!("tx/add/w{THREADS}"),
        "postgres: add one unit in the caller's transaction".into(),
        THREADS,
        1,
        &measured,
        footprint,
    ));
    crate::progress(rows);
    namespace.destroy()?;

    let (namespace, spec) = fresh_spec(coordinate, "tx-complete")?;
    preload(&spec, "tx-", config.claim_units)?;
    let (measured, footprint) = crate::measure(|| completions(config, &namespace, spec.name()))?;
    if measured.units != config.claim_units {
        bail!(
            "tx/complete finished {} units, expected {}",
            measured.units,
            config.claim_units
        );
    }
    rows.push(crate::row(
        format!("tx/complete/w{THREADS}"),
        "postgres: claim 1, finish it in the caller's transaction".into(),
        THREADS,
        1,
        &measured,
        footprint,
    ));
    crate::progress(rows);
    namespace.destroy()?;
    Ok(())
}
