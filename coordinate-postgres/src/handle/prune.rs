//! History retention: `Namespace::prune` and `count_prunable`.
//!
//! Pruning deletes in batches of at most [`BATCH`] units (or workers),
//! each one statement in a transaction of its own, so no transaction holds
//! row locks or an old snapshot for long: vacuum keeps up, and a caller
//! touching one of those rows waits one batch at most. Claims never touch
//! them: terminal units are not claimable, and the batch skips rows that
//! others hold (`SKIP LOCKED`). Each batch is a `tracing` event at debug
//! level with its time; the whole call is an info event.
//!
//! Between batches a call pauses, so that its batches take at most the
//! builder's `prune_share` of its time ([`DEFAULT_PRUNE_SHARE`] unless
//! set): deleting writes WAL and dirties pages, and a fleet claiming
//! beside an unpaced prune saw its claims' p99 rise eightfold
//! (`prune/1000k` in `cargo xtask bench`).
//!
//! The statements are in `sql::retention`; which rows go follows
//! `coordinate_api::retention::Retention`.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use coordinate_api::retention::Retention;
use coordinate_api::{AttemptStatus, Error, PruneRequest, Pruned, Result, WorkUnitStatus};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Text, Timestamptz};

use crate::db::attempt_status::DbStatus;
use crate::db::gone::Object;
use crate::db::transaction::{with_retry, Isolation, TxResult};
use crate::handle::namespace::PgNamespace;
use crate::schema::sql_types;
use crate::sql::retention::{
    COUNT_PRUNABLE_UNITS, COUNT_PRUNABLE_WORKERS, LOCK_PRUNABLE_WORKERS, PRUNE_SPECS, PRUNE_UNITS,
    PRUNE_WORKERS,
};
use crate::sql::{IdName, Statement};

/// Most rows one batch deletes: 200 units with their attempts take a few
/// milliseconds (see `tests/store/retention.rs`, which times every
/// batch), so a claim that meets a batch waits little behind its WAL;
/// 1,000 a batch made claims' p99 beside a paced prune worse (2.07x
/// against 1.86x at the default share, `prune/100k` of `cargo xtask
/// bench -- --quick --only prune`).
pub(crate) const BATCH: usize = 200;

/// The share of one connection's time a prune keeps busy by default: at
/// 0.1, claims beside a prune kept their p99 within 1.5x of claiming
/// alone for as long (1.29x and 1.45x; 0.25 gave 1.39x and 1.92x), and a
/// million finished units go in about six minutes (`prune/100k` of
/// `cargo xtask bench -- --quick --only prune`).
pub const DEFAULT_PRUNE_SHARE: f64 = 0.1;

/// The pause after a batch that took `took`, so that batches take `share`
/// of the time.
fn pause_after(took: Duration, share: f64) -> Duration {
    if share >= 1.0 {
        Duration::ZERO
    } else {
        took.mul_f64((1.0 - share) / share)
    }
}

/// A `count(*)` row.
#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// An `id` row.
#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = Integer)]
    id: i32,
}

/// A row count as a limit to bind.
fn sql_limit(count: usize) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

/// A `count(*)` as a usize.
fn counted(count: Count) -> usize {
    usize::try_from(count.count).unwrap_or(0)
}

/// Each (attempt status, cutoff, work spec) to prune, in order: by status
/// as the rules list them, then by work spec name (the memory backend's
/// order).
fn unit_selections<'a>(
    rules: &'a Retention,
    specs: &'a [IdName],
) -> impl Iterator<Item = (AttemptStatus, DateTime<Utc>, &'a IdName)> + 'a {
    rules
        .units
        .iter()
        .filter_map(|&(status, cutoff)| {
            // The status that makes a unit finished (failed) is its
            // active attempt's.
            let attempt = match status {
                WorkUnitStatus::Finished => AttemptStatus::Finished,
                WorkUnitStatus::Failed => AttemptStatus::Failed,
                _ => return None,
            };
            Some((attempt, cutoff))
        })
        .flat_map(move |(status, cutoff)| specs.iter().map(move |spec| (status, cutoff, spec)))
}

impl PgNamespace {
    /// `Namespace::prune`.
    pub(crate) fn prune_history(&self, request: &PruneRequest) -> Result<Pruned> {
        let rules = request.validate()?;
        let span = tracing::info_span!("prune", namespace = %self.name);
        let _entered = span.enter();
        let started = Instant::now();
        let specs = self.prune_specs(&rules)?;
        let mut pruned = Pruned::default();
        let mut slowest = Duration::ZERO;
        for (status, cutoff, spec) in unit_selections(&rules, &specs) {
            loop {
                let batch = rules.limit.saturating_sub(pruned.total()).min(BATCH);
                if batch == 0 {
                    break;
                }
                let began = Instant::now();
                let removed = with_retry(self, Isolation::Autocommit, |conn| {
                    select_units(&PRUNE_UNITS, spec, status, cutoff, batch, conn)
                })?;
                let took = began.elapsed();
                slowest = slowest.max(took);
                pruned.work_units += removed;
                tracing::debug!(
                    work_spec = %spec.name,
                    %status,
                    removed,
                    work_units = pruned.work_units,
                    millis = took.as_secs_f64() * 1e3,
                    "pruned a batch of work units"
                );
                if removed < batch {
                    break;
                }
                std::thread::sleep(pause_after(took, self.shared.prune_share));
            }
        }
        if let Some(cutoff) = rules.workers_expired_before {
            loop {
                let batch = rules.limit.saturating_sub(pruned.total()).min(BATCH);
                if batch == 0 {
                    break;
                }
                let began = Instant::now();
                // READ COMMITTED: the second statement must see attempts
                // committed after the first one's snapshot (see
                // `LOCK_PRUNABLE_WORKERS`).
                let removed = with_retry(self, Isolation::ReadCommitted, |conn| {
                    prune_workers(conn, self.id, cutoff, batch)
                })?;
                let took = began.elapsed();
                slowest = slowest.max(took);
                pruned.workers += removed;
                tracing::debug!(
                    removed,
                    workers = pruned.workers,
                    millis = took.as_secs_f64() * 1e3,
                    "pruned a batch of workers"
                );
                if removed < batch {
                    break;
                }
                std::thread::sleep(pause_after(took, self.shared.prune_share));
            }
        }
        tracing::info!(
            work_units = pruned.work_units,
            workers = pruned.workers,
            seconds = started.elapsed().as_secs_f64(),
            slowest_batch_millis = slowest.as_secs_f64() * 1e3,
            "pruned history"
        );
        Ok(pruned)
    }

    /// `Namespace::count_prunable`: the same selections, counted in one
    /// snapshot.
    pub(crate) fn count_history(&self, request: &PruneRequest) -> Result<Pruned> {
        let rules = request.validate()?;
        let specs = self.prune_specs(&rules)?;
        with_retry(self, Isolation::RepeatableRead, |conn| {
            let mut found = Pruned::default();
            for (status, cutoff, spec) in unit_selections(&rules, &specs) {
                let room = rules.limit - found.total();
                if room == 0 {
                    break;
                }
                found.work_units +=
                    select_units(&COUNT_PRUNABLE_UNITS, spec, status, cutoff, room, conn)?;
            }
            let room = rules.limit - found.total();
            if let (Some(cutoff), true) = (rules.workers_expired_before, room > 0) {
                let count: Count = COUNT_PRUNABLE_WORKERS
                    .prepare()
                    .bind::<Integer, _>(self.id)
                    .bind::<Timestamptz, _>(cutoff)
                    .bind::<BigInt, _>(sql_limit(room))
                    .get_result(conn)?;
                found.workers = counted(count);
            }
            Ok(found)
        })
    }

    /// The work specs whose units may go, by name: every one of the
    /// namespace's, or those named, each of which must exist. Gone when
    /// the namespace is.
    fn prune_specs(&self, rules: &Retention) -> Result<Vec<IdName>> {
        with_retry(self, Isolation::RepeatableRead, |conn| {
            let rows: Vec<IdName> = PRUNE_SPECS
                .prepare()
                .bind::<Integer, _>(self.id)
                .bind::<Array<Text>, _>(&rules.work_specs)
                .load(conn)?;
            let rows = Object::Namespace(self.id).rows_or_gone(conn, rows)?;
            if let Some(missing) = rules
                .work_specs
                .iter()
                .find(|name| !rows.iter().any(|row| &row.name == *name))
            {
                return Err(Error::no_such_work_spec(missing).into());
            }
            Ok(rows)
        })
    }
}

/// Runs [`PRUNE_UNITS`] or [`COUNT_PRUNABLE_UNITS`] (same parameters)
/// for one work spec, status and cutoff, at most `limit` units: how many
/// it deleted or counted. Planned with the values each time, since the
/// cutoff decides how much of the index matches.
fn select_units(
    statement: &'static Statement,
    spec: &IdName,
    status: AttemptStatus,
    cutoff: DateTime<Utc>,
    limit: usize,
    conn: &mut PgConnection,
) -> TxResult<usize> {
    let count: Count = statement
        .prepare()
        .planned_each_time()
        .bind::<Integer, _>(spec.id)
        .bind::<sql_types::AttemptStatus, _>(DbStatus(status))
        .bind::<Timestamptz, _>(cutoff)
        .bind::<BigInt, _>(sql_limit(limit))
        .get_result(conn)?;
    Ok(counted(count))
}

/// One batch of workers: lock those that qualify, then delete the ones
/// that still do (see `sql::retention`).
fn prune_workers(
    conn: &mut PgConnection,
    namespace_id: i32,
    cutoff: DateTime<Utc>,
    batch: usize,
) -> TxResult<usize> {
    let locked: Vec<Id> = LOCK_PRUNABLE_WORKERS
        .prepare()
        .bind::<Integer, _>(namespace_id)
        .bind::<Timestamptz, _>(cutoff)
        .bind::<BigInt, _>(sql_limit(batch))
        .load(conn)?;
    if locked.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i32> = locked.into_iter().map(|row| row.id).collect();
    let count: Count = PRUNE_WORKERS
        .prepare()
        .bind::<Array<Integer>, _>(&ids)
        .bind::<Timestamptz, _>(cutoff)
        .get_result(conn)?;
    Ok(counted(count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_take_their_share_of_the_time() {
        let batch = Duration::from_millis(30);
        assert_eq!(pause_after(batch, 1.0), Duration::ZERO);
        assert_eq!(pause_after(batch, 0.25), Duration::from_millis(90));
        assert_eq!(pause_after(batch, 0.5), batch);
        let share = batch.as_secs_f64() / (batch + pause_after(batch, 0.1)).as_secs_f64();
        assert!((share - 0.1).abs() < 1e-9, "{share}");
    }
}
