//! The PostgreSQL API rows: claim + finish at 1, 4 and 8 workers with
//! batches of 1 and 100, the batch of 100 also completed with one
//! `complete_attempts` (with the commits per unit the server counted),
//! once finishing only and once with a mix of retries and failures;
//! renewing 100 leases in one call; and adding units one by one or in
//! batches. The `rest` section's claim rows (through `coordinated`) are
//! measured here too, each right after its direct row.

use std::sync::Arc;

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use coordinate_api::{AttemptRequest, Coordinate, Namespace, WorkUnitStatus};
use diesel::pg::PgConnection;

use crate::api::{add, claim_finish, fresh_spec, mixed_totals, preload, Finishing, Measured};
use crate::pg;
use crate::report::Row;
use crate::rest::Served;
use crate::Config;

/// Runs claim + finish with `threads` workers, batches of 1 and 100 (with
/// the `claims` section), each shape the `rest` section measures followed
/// by its row through `rest`'s client of `coordinated`: side by side, the
/// two see the same machine conditions.
pub fn claims(
    config: &Config,
    coordinate: &Arc<dyn Coordinate>,
    mut rest: Option<&mut Served>,
    conn: &mut PgConnection,
    threads: usize,
    rows: &mut Vec<Row>,
) -> Result<()> {
    for (batch, finishing) in [
        (1, Finishing::OneByOne),
        (100, Finishing::OneByOne),
        (100, Finishing::Batched),
        (100, Finishing::Mixed),
    ] {
        let run = ClaimRun {
            threads,
            batch,
            finishing,
            units: config.claim_units,
        };
        if config.runs("claims") {
            claim_row(coordinate, conn, run, "api", "postgres", rows)?;
        }
        if let Some(served) = rest.as_deref_mut() {
            if crate::rest::measures(threads, batch, finishing) {
                served.counting(rows, |client, rows| {
                    claim_row(client, conn, run, "rest", "coordinated (REST)", rows)
                })?;
            }
        }
    }
    Ok(())
}

/// The batch-1 and batch-100 rows again, through PgBouncer in transaction
/// mode with `transaction_pooling(true)`, beside the direct rows of the
/// same run.
pub fn pooled_claims(
    config: &Config,
    pooled: &Arc<dyn Coordinate>,
    conn: &mut PgConnection,
    rows: &mut Vec<Row>,
) -> Result<()> {
    for threads in [1, 4] {
        for batch in [1, 100] {
            // Fewer units: unnamed statements through the pooler are slow
            // enough that the full count would dominate the run.
            let run = ClaimRun {
                threads,
                batch,
                finishing: Finishing::OneByOne,
                units: config.claim_units.min(POOLED_UNITS),
            };
            claim_row(pooled, conn, run, "pooled", "pgbouncer", rows)?;
        }
    }
    Ok(())
}

/// Units per pooled row at most.
const POOLED_UNITS: u64 = 5_000;

/// One claim + finish row's shape.
#[derive(Clone, Copy)]
struct ClaimRun {
    threads: usize,
    batch: usize,
    finishing: Finishing,
    units: u64,
}

/// Measures one claim + finish row, keyed `{prefix}/b{batch}{label}/w{threads}`.
fn claim_row(
    coordinate: &Arc<dyn Coordinate>,
    conn: &mut PgConnection,
    run: ClaimRun,
    prefix: &str,
    through: &str,
    rows: &mut Vec<Row>,
) -> Result<()> {
    let ClaimRun {
        threads,
        batch,
        finishing,
        units,
    } = run;
    let (namespace, spec) = fresh_spec(coordinate, "claim")?;
    preload(&spec, "u", units)?;
    // Workers exist before the clock starts.
    for t in 0..threads {
        namespace.worker(&format!("worker-{t}"))?;
    }
    let (spec_id, _) = pg::ids(conn, namespace.name(), "spec", "worker-0")?;
    pg::vacuum(conn)?;
    let counted = batch > 1;
    let commits_before = if counted { pg::commits(conn)? } else { 0 };
    let (claims, finished, failed) = match finishing {
        Finishing::Mixed => mixed_totals(units),
        _ => (units, units, 0),
    };
    let (measured, footprint) =
        crate::measure(|| claim_finish(&namespace, "spec", threads, batch, finishing, claims))?;
    let commits = if counted {
        pg::commits(conn)? - commits_before
    } else {
        0
    };
    if finishing == Finishing::Mixed {
        verify_mixed(&namespace, finished, failed)?;
    } else {
        pg::verify(conn, spec_id, units as i64, 0)?;
    }
    let (label, what) = match finishing {
        Finishing::OneByOne => ("", "request_attempts+finish"),
        Finishing::Batched => ("c", "request_attempts+complete_attempts"),
        Finishing::Mixed => (
            "m",
            "request_attempts+complete_attempts, 10% retried, 2% failed",
        ),
    };
    rows.push(crate::row(
        format!("{prefix}/b{batch}{label}/w{threads}"),
        if counted {
            format!(
                "{through}: {what} ({:.3} commits/unit)",
                commits as f64 / units as f64
            )
        } else {
            format!("{through}: {what}")
        },
        threads,
        batch,
        &measured,
        footprint,
    ));
    crate::progress(rows);
    namespace.destroy()?;
    Ok(())
}

/// Checks a mixed run's end: every unit finished or failed as planned.
fn verify_mixed(namespace: &Arc<dyn Namespace>, finished: u64, failed: u64) -> Result<()> {
    let counts = namespace.work_spec("spec")?.count_work_unit_status()?;
    let count = |status| counts.get(&status).copied().unwrap_or(0) as u64;
    let (got_finished, got_failed) = (
        count(WorkUnitStatus::Finished),
        count(WorkUnitStatus::Failed),
    );
    if (got_finished, got_failed) != (finished, failed) || counts.len() > 2 {
        bail!("mixed run ended with {counts:?}, expected {finished} finished and {failed} failed");
    }
    Ok(())
}

/// Runs `add_work_unit` at 1 and 4 threads and `add_work_units` at 1 and 4.
pub fn adds(config: &Config, coordinate: &Arc<dyn Coordinate>, rows: &mut Vec<Row>) -> Result<()> {
    for (label, batch, units, what) in [
        ("one", 1, config.add_units, "postgres: add_work_unit"),
        (
            "batch",
            1_000,
            config.batch_add_units,
            "postgres: add_work_units (1000/call)",
        ),
    ] {
        for threads in [1, 4] {
            let (namespace, spec) = fresh_spec(coordinate, "add")?;
            let (measured, footprint) = crate::measure(|| add(&spec, threads, batch, units))?;
            rows.push(crate::row(
                format!("add/{label}/w{threads}"),
                what.into(),
                threads,
                batch as usize,
                &measured,
                footprint,
            ));
            crate::progress(rows);
            namespace.destroy()?;
        }
    }
    Ok(())
}

/// Leases renewed per `renew_attempts` call, and calls timed.
const RENEWED: usize = 100;
const RENEW_CALLS: u64 = 200;

/// Times `renew_attempts` of 100 held attempts: one row, one unit per call.
pub fn renewals(coordinate: &Arc<dyn Coordinate>, rows: &mut Vec<Row>) -> Result<()> {
    let (namespace, spec) = fresh_spec(coordinate, "renew")?;
    preload(&spec, "u", RENEWED as u64)?;
    let worker = namespace.worker("worker-0")?;
    let request = AttemptRequest {
        number_of_work_units: RENEWED,
        ..AttemptRequest::default()
    };
    let attempts = worker.request_attempts(&request)?;
    if attempts.len() != RENEWED {
        bail!(
            "claimed {} units to renew, wanted {RENEWED}",
            attempts.len()
        );
    }
    let extend = Duration::from_secs(600);
    let mut latencies = Vec::new();
    let started = Instant::now();
    for _ in 0..RENEW_CALLS {
        let asked = Instant::now();
        for answer in namespace.renew_attempts(&attempts, extend)? {
            answer?;
        }
        latencies.push(asked.elapsed());
    }
    let measured = Measured {
        units: RENEW_CALLS,
        elapsed: started.elapsed(),
        latencies,
    };
    rows.push(crate::row(
        "renew/b100".into(),
        "postgres: renew_attempts of 100 leases (units = calls; p50/p99 = ms per call)".into(),
        1,
        RENEWED,
        &measured,
        crate::Footprint::unrecorded(),
    ));
    crate::progress(rows);
    namespace.destroy()?;
    Ok(())
}
