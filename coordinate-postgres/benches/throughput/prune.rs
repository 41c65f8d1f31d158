//! History retention under load: prune `deep` finished units in calls of
//! 10,000 while 4 workers claim and finish, against the same 4 workers
//! without pruning for as long as the prune took.
//!
//! The two windows last the same time because a claim's p99 depends on
//! the window's length: a longer one takes in more checkpoints and more
//! of autovacuum's passes over the claimers' own churn. Claiming alone
//! for 3 s gave a p99 of 3.0-4.6 ms here, for 40 s 6.6 ms; against the
//! short window, any prune of a minute looked 1.4-2.5x slower whatever
//! its pace. The alone window comes second, after a VACUUM and a
//! CHECKPOINT, so that it carries none of the prune's cleanup; its queue
//! is the shallower, which if anything flatters it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use coordinate_api::{AttemptRequest, Coordinate, Data, Namespace, PruneRequest, Value};
use diesel::pg::PgConnection;

use crate::api::{fresh_spec, preload, Measured};
use crate::pg;
use crate::report::{percentiles, Row, Verdict};
use crate::Config;

/// Workers claiming and finishing while the history is pruned.
const WORKERS: usize = 4;
/// Records per `prune` call, as `coordinate prune` sends them.
const PER_CALL: usize = 10_000;

/// Claims and finishes one unit at a time of `work` on `WORKERS` threads
/// until `stop`; returns every claim's latency.
fn claim_until(namespace: &Arc<dyn Namespace>, stop: &AtomicBool) -> Result<Vec<Duration>> {
    let request = AttemptRequest {
        work_specs: vec!["work".into()],
        ..AttemptRequest::default()
    };
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..WORKERS)
            .map(|t| {
                let request = &request;
                scope.spawn(move || -> Result<Vec<Duration>> {
                    let worker = namespace.worker(&format!("claimer-{t}"))?;
                    let mut latencies = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let asked = Instant::now();
                        let attempts = worker.request_attempts(request)?;
                        latencies.push(asked.elapsed());
                        if attempts.is_empty() {
                            bail!("the claimers ran out of work");
                        }
                        for attempt in attempts {
                            attempt.finish(None)?;
                        }
                    }
                    Ok(latencies)
                })
            })
            .collect();
        let mut all = Vec::new();
        for thread in threads {
            all.extend(
                thread
                    .join()
                    .unwrap_or_else(|_| bail!("a claimer panicked"))?,
            );
        }
        Ok(all)
    })
}

/// Claim latencies of `window` of claiming alone.
fn baseline(namespace: &Arc<dyn Namespace>, window: Duration) -> Result<Vec<Duration>> {
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let claims = scope.spawn(|| claim_until(namespace, &stop));
        std::thread::sleep(window);
        stop.store(true, Ordering::Relaxed);
        claims
            .join()
            .unwrap_or_else(|_| bail!("the claimers panicked"))
    })
}

/// The row: units pruned per second, and the claim p50/p99 while pruning;
/// its text gives the p99 without pruning over a window as long.
pub fn run(
    config: &Config,
    coordinate: &Arc<dyn Coordinate>,
    conn: &mut PgConnection,
    rows: &mut Vec<Row>,
) -> Result<()> {
    let deep = config.scale_deep;
    let (namespace, _) = fresh_spec(coordinate, "prune")?;
    let mut definition = Data::new();
    definition.insert("name".into(), Value::Text("work".into()));
    let work = namespace.set_work_spec(definition)?;
    namespace.worker("history")?;
    let (spec_id, worker_id) = pg::ids(conn, namespace.name(), "spec", "history")?;
    pg::load_history(conn, spec_id, worker_id, deep as i64)?;
    // Enough queued work for both windows at any speed this machine has:
    // a paced prune of a million units outlasted 200,000 claims.
    preload(&work, "w", deep.max(300_000))?;
    pg::vacuum(conn)?;

    let request = PruneRequest::default()
        .finished_before(chrono::Utc::now() + chrono::Duration::seconds(1))
        .work_specs(["spec"])
        .limit(PER_CALL);
    let stop = AtomicBool::new(false);
    let (pruned, prune_time, claims) = std::thread::scope(|scope| -> Result<_> {
        let claims = scope.spawn(|| claim_until(&namespace, &stop));
        let started = Instant::now();
        let mut pruned = 0;
        let outcome = loop {
            match namespace.prune(&request) {
                Ok(step) if step.total() == 0 => break Ok(()),
                Ok(step) => pruned += step.work_units,
                Err(error) => break Err(error),
            }
        };
        let prune_time = started.elapsed();
        stop.store(true, Ordering::Relaxed);
        let claims = claims
            .join()
            .unwrap_or_else(|_| bail!("the claimers panicked"))?;
        outcome?;
        Ok((pruned, prune_time, claims))
    })?;
    if pruned as u64 != deep {
        bail!("pruned {pruned} units, expected {deep}");
    }
    pg::vacuum(conn)?;
    let mut alone = baseline(&namespace, prune_time)?;
    let (_, p99_alone) = percentiles(&mut alone);
    let measured = Measured {
        units: pruned as u64,
        elapsed: prune_time,
        latencies: claims,
    };
    let mut row = crate::row(
        format!("prune/{}k", deep / 1_000),
        format!(
            "postgres: prune finished history ({PER_CALL}/call, paced to the default share {}) beside {WORKERS} claimers; p50/p99 = claims while pruning (p99 alone for as long {} ms)",
            coordinate_postgres::DEFAULT_PRUNE_SHARE,
            p99_alone.map_or("-".into(), |p| format!("{p:.3}"))
        ),
        WORKERS,
        PER_CALL,
        &measured,
        crate::Footprint::unrecorded(),
    );
    // Issue 23 (replacing issue 15's 1.2x): at the default pacing, claims
    // while pruning keep their p99 within 1.5x of alone.
    if let (Some(during), Some(alone)) = (row.p99_ms, p99_alone.filter(|p| *p > 0.0)) {
        let ratio = during / alone;
        row.targets.push(Verdict {
            wanted: "claim p99<=1.5x alone".into(),
            got: format!("{ratio:.2}x"),
            measured: ratio,
            pass: ratio <= 1.5,
        });
    }
    rows.push(row);
    crate::progress(rows);
    namespace.destroy()?;
    Ok(())
}
