//! Handing out work: `Worker::request_attempts` and the attempt insertion
//! shared with `make_attempt`.
//!
//! A request for an ordinary work spec costs two statements and no
//! explicit transaction:
//!
//! 1. expire the namespace's overdue attempts (`expiry.rs`; it writes, and
//!    so commits, only when something ran out) and, in the same statement,
//!    read each candidate work spec's metadata with its pending count and
//!    whether it has an available unit (`candidates.rs`); the scheduler in
//!    `coordinate_api` picks a work spec from that;
//! 2. claim: one statement locks the spec's row against deletion, locks
//!    the best available units with `FOR UPDATE SKIP LOCKED`, and inserts
//!    their attempts and points the units at them ([`claim_sql!`]).
//!
//! Why no unit can be claimed twice: the claim runs at READ COMMITTED, where
//! `SELECT … FOR UPDATE SKIP LOCKED` returns only rows this statement has
//! locked, and PostgreSQL re-checks `active_attempt_id IS NULL` against the
//! newest committed version of each row after locking it (a row another
//! claimer changed in the meantime drops out). Every path that gives a unit
//! an active attempt (this claim, `make_attempt`, continuous units) updates
//! the unit row and so needs the same row lock; a concurrent claimer skips
//! rows we hold, and once we commit it sees `active_attempt_id` set. At
//! REPEATABLE READ, locking a row that changed after the snapshot would be a
//! serialization failure, which under load is most rows.
//!
//! A spec with `max_running` takes turns on its row instead (a stronger
//! lock, a fresh pending count, then the same claim statement, in one
//! transaction), so that the cap holds under concurrency. A gone worker is
//! noticed by the attempt's foreign key when there is work, and by an
//! explicit check only when there is none.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use coordinate_api::data::encode;
use coordinate_api::scheduler::{
    batch_size, can_start_continuous, choose_work_spec, continuous_unit_name, TOO_MANY_RETRIES,
};
use coordinate_api::validate::add_duration;
use coordinate_api::{Attempt, AttemptRequest, Data, Error, Result, Value, WorkSpecMeta};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Bytea, Integer, Timestamptz};

use crate::attempt::PgAttempt;
use crate::candidates::{candidates_after_expiry, locked_candidate, pending_units};
use crate::prepared::prepared;
use crate::schema::work_spec;
use crate::transaction::{with_retry, Isolation, TxResult};
use crate::work_spec::PgWorkSpec;
use crate::work_unit::PgWorkUnit;
use crate::worker::PgWorker;

/// Most times a request picks a work spec before it gives up and returns
/// nothing; every round either returns work, fails units that used up
/// their retries, or lost a race for the last units.
const MAX_ROUNDS: usize = 100;

/// The claim statement, given its `LIMIT` clause: claims up to `$5`
/// available units of work spec `$1` for worker `$2` at time `$3`,
/// leases running for `$4 - $3`.
///
/// - The spec's row gets a key-share lock before any unit. Deleting a spec
///   (or its namespace) locks that row first and its units after (ON DELETE
///   CASCADE); a claimer holding units that then needed the spec's row (the
///   attempts' foreign key) would deadlock with it. A key-share lock stops
///   only deletion, not other claimers or spec updates. `EXISTS (spec)` is
///   a one-time filter, evaluated before the first unit is read.
/// - Only a unit whose row is still the version our snapshot read is
///   claimed (the `xmin` comparison). At READ COMMITTED a row that changed
///   after the snapshot is re-checked in its newest version when we lock
///   it; if another worker claimed the unit *and* released it meanwhile,
///   the newest version looks free, but that worker's attempt is not in our
///   snapshot, so `history` below could not see when its lease ended. The
///   sub-select reads the snapshot's version, the outer `u` the locked one:
///   they differ exactly then, and the unit is left for the next round,
///   whose new snapshot shows the attempt.
/// - An attempt starts no earlier than the unit's previous attempt ended:
///   a unit freed by another worker's expiry or retry, whose clock read
///   came after ours, must not get a lease overlapping the previous one.
///   With the check above, every attempt that ever held the unit is in
///   the snapshot `history` reads.
/// - A unit that already had `$6` attempts (`max_retries`, when positive)
///   gets a failed attempt with data `$7` instead, as
///   `coordinate_api::scheduler::retries_exhausted` says.
/// - The unit rows are ours until commit, so the final `UPDATE` needs no
///   second look at `active_attempt_id`.
/// - `RETURNING` keeps no order, so the batch is sorted again at the end:
///   callers get the best unit first, as the scheduler promises.
macro_rules! claim_sql {
    ($limit:literal) => {
        concat!(
            "\
    WITH spec AS (SELECT id FROM work_spec WHERE id = $1 FOR KEY SHARE), \
    locked AS ( \
        SELECT u.id FROM work_unit u \
         WHERE u.work_spec_id = $1 AND u.active_attempt_id IS NULL \
           AND (u.not_before IS NULL OR u.not_before <= $3) \
           AND EXISTS (SELECT 1 FROM spec) \
           AND u.xmin = (SELECT w.xmin FROM work_unit w WHERE w.id = u.id) \
         ORDER BY u.priority DESC, u.name \
         ",
            $limit,
            " \
           FOR UPDATE OF u SKIP LOCKED), \
    history AS ( \
        SELECT l.id, GREATEST($3, h.last_end) AS start_time, \
               $6 > 0 AND h.previous >= $6 AS exhausted \
          FROM locked l CROSS JOIN LATERAL ( \
               SELECT count(*) AS previous, max(p.end_time) AS last_end \
                 FROM attempt p WHERE p.work_unit_id = l.id) h), \
    made AS ( \
        INSERT INTO attempt (work_unit_id, work_spec_id, worker_id, status, data, \
                             start_time, end_time, expiration_time, active) \
        SELECT id, $1, $2, \
               CASE WHEN exhausted THEN 'failed' ELSE 'pending' END::attempt_status, \
               CASE WHEN exhausted THEN $7 END, \
               start_time, CASE WHEN exhausted THEN start_time END, \
               start_time + ($4 - $3), NOT exhausted \
          FROM history \
        RETURNING id, work_unit_id, active), \
    done AS ( \
        UPDATE work_unit u SET active_attempt_id = made.id \
          FROM made \
         WHERE u.id = made.work_unit_id \
        RETURNING u.id AS unit_id, u.name, u.priority, made.id AS attempt_id, \
                  made.active AS pending) \
    SELECT unit_id, name, attempt_id, pending FROM done ORDER BY priority DESC, name"
        )
    };
}

/// [`claim_sql!`] for a batch of `$5` units, planned on every call: a
/// plan made without knowing `$5` assumes thousands of units and joins
/// them to all of `work_unit` with a full scan.
const CLAIM_SQL: &str = claim_sql!("LIMIT $5");

/// [`claim_sql!`] for one unit (`$5` is bound but unused). PostgreSQL re-plans a
/// statement whose `LIMIT` is a parameter on every call, because a plan
/// made without knowing the limit looks worse than one made for it; with
/// the limit written in, one plan serves every single-unit claim, which
/// are most claims.
const CLAIM_ONE_SQL: &str = claim_sql!("LIMIT 1");

/// A unit the claim statement gave an attempt.
#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = Integer)]
    unit_id: i32,
    #[diesel(sql_type = Bytea)]
    name: Vec<u8>,
    #[diesel(sql_type = Integer)]
    attempt_id: i32,
    /// False for a unit failed for using up its retries.
    #[diesel(sql_type = Bool)]
    pending: bool,
}

impl PgWorker {
    /// `Worker::request_attempts`.
    pub(crate) fn claim(&self, request: &AttemptRequest) -> Result<Vec<Arc<dyn Attempt>>> {
        let shared = &self.namespace.shared;
        // Refuse an absurd lifetime before anything happens.
        add_duration("lifetime", shared.now(), request.lifetime)?;
        let mut rng = rand::rng();
        for _ in 0..MAX_ROUNDS {
            // Every round and every try of a statement reads the clock
            // afresh: a reading from before a pool wait, a retry pause or
            // an earlier round could predate the release of a unit this
            // statement then claims.
            let (specs, now) = with_retry(shared, Isolation::SingleStatement, |conn| {
                let now = shared.now();
                Ok((
                    candidates_after_expiry(conn, self.namespace.id, now, request)?,
                    now,
                ))
            })?;
            let metas: Vec<(String, WorkSpecMeta)> = specs
                .iter()
                .map(|(_, name, meta)| (name.clone(), meta.clone()))
                .collect();
            let chosen = choose_work_spec(&metas, request, now, &mut rng)
                .and_then(|chosen| specs.into_iter().nth(chosen));
            let Some((id, name, meta)) = chosen else {
                return self.nothing_to_do();
            };
            let spec = PgWorkSpec::new(self.namespace.clone(), id, name);
            let wanted = request.number_of_work_units;
            let lease = |now| add_duration("lifetime", now, request.lifetime);
            let attempts = if meta.available_count == 0 {
                if !can_start_continuous(&meta, now) {
                    return self.nothing_to_do();
                }
                with_retry(shared, Isolation::RepeatableRead, |conn| {
                    let now = shared.now();
                    self.start_continuous(conn, &spec, now, lease(now)?)
                })?
            } else if meta.max_running > 0 {
                with_retry(shared, Isolation::ReadCommitted, |conn| {
                    let now = shared.now();
                    self.claim_capped(conn, &spec, &meta, wanted, now, lease(now)?)
                })?
            } else {
                let batch = batch_size(&meta, wanted);
                with_retry(shared, Isolation::SingleStatement, |conn| {
                    let now = shared.now();
                    self.claim_units(conn, &spec, &meta, batch, now, lease(now)?)
                })?
            };
            if !attempts.is_empty() {
                return Ok(attempts);
            }
        }
        self.nothing_to_do()
    }

    /// The answer when there is no work: none, unless the worker is gone.
    fn nothing_to_do(&self) -> Result<Vec<Arc<dyn Attempt>>> {
        let exists = with_retry(&self.namespace.shared, Isolation::SingleStatement, |conn| {
            self.exists(conn)
        })?;
        if exists {
            Ok(Vec::new())
        } else {
            Err(Error::Gone)
        }
    }

    /// Claims a capped spec's units: its row locked against other claimers
    /// (`FOR NO KEY UPDATE`) so they take turns, then a pending count whose
    /// READ COMMITTED snapshot, taken after the lock, sees the previous
    /// holder's claims.
    fn claim_capped(
        &self,
        conn: &mut PgConnection,
        spec: &PgWorkSpec,
        meta: &WorkSpecMeta,
        wanted: usize,
        now: DateTime<Utc>,
        expiration: DateTime<Utc>,
    ) -> TxResult<Vec<Arc<dyn Attempt>>> {
        let locked = work_spec::table
            .find(spec.id)
            .select(work_spec::id)
            .for_no_key_update()
            .first::<i32>(conn)
            .optional()?;
        if locked.is_none() {
            return Ok(Vec::new());
        }
        let mut meta = meta.clone();
        meta.pending_count = pending_units(conn, spec.id)?;
        let batch = batch_size(&meta, wanted);
        self.claim_units(conn, spec, &meta, batch, now, expiration)
    }

    /// Runs [`claim_sql!`] for up to `batch` units and returns attempts for
    /// those handed out (units that used up their retries are failed on the
    /// spot and left out).
    fn claim_units(
        &self,
        conn: &mut PgConnection,
        spec: &PgWorkSpec,
        meta: &WorkSpecMeta,
        batch: usize,
        now: DateTime<Utc>,
        expiration: DateTime<Utc>,
    ) -> TxResult<Vec<Arc<dyn Attempt>>> {
        if batch == 0 {
            return Ok(Vec::new());
        }
        let mut failure = Data::new();
        failure.insert("traceback".into(), Value::Text(TOO_MANY_RETRIES.into()));
        let statement = if batch == 1 {
            prepared(CLAIM_ONE_SQL)
        } else {
            prepared(CLAIM_SQL).planned_each_time()
        };
        let claimed: Vec<Claimed> = statement
            .bind::<Integer, _>(spec.id)
            .bind::<Integer, _>(self.id)
            .bind::<Timestamptz, _>(now)
            .bind::<Timestamptz, _>(expiration)
            .bind::<BigInt, _>(i64::try_from(batch).unwrap_or(i64::MAX))
            .bind::<Integer, _>(meta.max_retries)
            .bind::<Bytea, _>(encode(&failure)?)
            .load(conn)?;
        Ok(claimed
            .into_iter()
            .filter(|unit| unit.pending)
            .map(|unit| {
                Arc::new(PgAttempt {
                    unit: PgWorkUnit::new(spec.clone(), unit.unit_id, &unit.name),
                    worker: self.clone(),
                    id: unit.attempt_id,
                }) as Arc<dyn Attempt>
            })
            .collect())
    }

    /// Creates the next unit of a continuous work spec and an attempt on
    /// it, if the spec still has nothing available or pending and its
    /// interval passed. The spec's row lock makes concurrent requests take
    /// turns; the loser's snapshot is stale, so it retries and sees the new
    /// pending unit.
    fn start_continuous(
        &self,
        conn: &mut PgConnection,
        spec: &PgWorkSpec,
        now: DateTime<Utc>,
        expiration: DateTime<Utc>,
    ) -> TxResult<Vec<Arc<dyn Attempt>>> {
        let Some(meta) = locked_candidate(conn, spec.id, now)? else {
            return Ok(Vec::new());
        };
        if !can_start_continuous(&meta, now) {
            return Ok(Vec::new());
        }
        let next = add_duration("interval", now, meta.interval).unwrap_or(DateTime::<Utc>::MAX_UTC);
        diesel::update(work_spec::table.find(spec.id))
            .set(work_spec::next_continuous.eq(Some(next)))
            .execute(conn)?;

        // A unit of the same name (same millisecond) is reused as it is.
        #[derive(QueryableByName)]
        struct Id {
            #[diesel(sql_type = Integer)]
            id: i32,
        }
        let name = continuous_unit_name(now);
        let unit: Id = prepared(
            "INSERT INTO work_unit (work_spec_id, name, data, priority) VALUES ($1, $2, $3, 0) \
             ON CONFLICT (work_spec_id, name) DO UPDATE SET name = EXCLUDED.name \
             RETURNING id",
        )
        .bind::<Integer, _>(spec.id)
        .bind::<Bytea, _>(name.as_bytes())
        .bind::<Bytea, _>(encode(&Data::new())?)
        .get_result(conn)?;
        let Some(attempt) = insert_attempt(conn, unit.id, self.id, now, expiration)? else {
            return Ok(Vec::new());
        };
        Ok(vec![Arc::new(PgAttempt {
            unit: PgWorkUnit::new(spec.clone(), unit.id, name.as_bytes()),
            worker: self.clone(),
            id: attempt,
        })])
    }
}

/// Makes a pending attempt by `worker_id` on a unit and makes it the unit's
/// active attempt, in one statement. `None` when the unit is gone.
pub(crate) fn insert_attempt(
    conn: &mut PgConnection,
    unit_id: i32,
    worker_id: i32,
    now: DateTime<Utc>,
    expiration: DateTime<Utc>,
) -> TxResult<Option<i32>> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = Integer)]
        id: i32,
    }
    let made: Option<Id> = prepared(
        "WITH made AS ( \
             INSERT INTO attempt (work_unit_id, work_spec_id, worker_id, start_time, \
                                  expiration_time) \
             SELECT id, work_spec_id, $2, $3, $4 FROM work_unit WHERE id = $1 \
             RETURNING id, work_unit_id) \
         UPDATE work_unit SET active_attempt_id = made.id \
           FROM made WHERE work_unit.id = made.work_unit_id \
         RETURNING made.id",
    )
    .bind::<Integer, _>(unit_id)
    .bind::<Integer, _>(worker_id)
    .bind::<Timestamptz, _>(now)
    .bind::<Timestamptz, _>(expiration)
    .get_result(conn)
    .optional()?;
    Ok(made.map(|m| m.id))
}
