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
//!    their attempts and points the units at them (`sql::claim::CLAIM`).
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
    batch_size, can_start_continuous, choose_work_spec, claim_rounds, continuous_unit_name,
    too_many_retries_data, Round,
};
use coordinate_api::validate::add_duration;
use coordinate_api::{Attempt, AttemptRequest, Data, Error, Result, WorkSpecMeta};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Bytea, Integer, Timestamptz};

use crate::attempt::PgAttempt;
use crate::candidates::{candidates_after_expiry, locked_candidate, pending_units, Candidate};
use crate::gone::Object;
use crate::schema::work_spec;
use crate::sql::claim::{CLAIM, CLAIM_ONE, CONTINUOUS_UNIT, INSERT_ATTEMPT};
use crate::transaction::{with_retry, Isolation, TxResult};
use crate::work_spec::PgWorkSpec;
use crate::work_unit::PgWorkUnit;
use crate::worker::PgWorker;

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
        let mut rng = shared.scheduler_rng.handle();
        // A round that hands out nothing either failed units that used up
        // their retries or lost a race for the last units: choose again.
        // Every round and every try of a statement reads the clock afresh:
        // a reading from before a pool wait, a retry pause or an earlier
        // round could predate the release of a unit this statement then
        // claims.
        let answer = claim_rounds(|| {
            let (specs, now) = with_retry(self, Isolation::Autocommit, |conn| {
                let now = shared.now();
                Ok((
                    candidates_after_expiry(conn, self.namespace.id, now, request)?,
                    now,
                ))
            })?;
            let Some(chosen) = choose_work_spec(&specs, request, now, &mut rng) else {
                return Ok(Round::Done(None));
            };
            let Some(Candidate { id, name, meta }) = specs.into_iter().nth(chosen) else {
                return Ok(Round::Done(None));
            };
            let spec = PgWorkSpec::new(self.namespace.clone(), id, name);
            let wanted = request.number_of_work_units;
            let lease = |now| add_duration("lifetime", now, request.lifetime);
            let attempts = if meta.available_count == 0 {
                if !can_start_continuous(&meta, now) {
                    return Ok(Round::Done(None));
                }
                with_retry(self, Isolation::RepeatableRead, |conn| {
                    let now = shared.now();
                    self.start_continuous(conn, &spec, now, lease(now)?)
                })?
            } else if meta.max_running > 0 {
                with_retry(self, Isolation::ReadCommitted, |conn| {
                    let now = shared.now();
                    self.claim_capped(conn, &spec, &meta, wanted, now, lease(now)?)
                })?
            } else {
                let batch = batch_size(&meta, wanted);
                with_retry(self, Isolation::Autocommit, |conn| {
                    let now = shared.now();
                    self.claim_units(conn, &spec, &meta, batch, now, lease(now)?)
                })?
            };
            Ok::<_, Error>(if attempts.is_empty() {
                Round::Again
            } else {
                Round::Done(Some(attempts))
            })
        })?;
        match answer.flatten() {
            Some(attempts) => Ok(attempts),
            None => self.nothing_to_do(),
        }
    }

    /// The answer when there is no work: none, unless the worker is gone.
    fn nothing_to_do(&self) -> Result<Vec<Arc<dyn Attempt>>> {
        with_retry(self, Isolation::Autocommit, |conn| {
            Object::Worker(self.id).ensure(conn)
        })?;
        Ok(Vec::new())
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

    /// Runs [`CLAIM`] for up to `batch` units and returns attempts for
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
        let failure = too_many_retries_data();
        let statement = if batch == 1 {
            CLAIM_ONE.prepare()
        } else {
            CLAIM.prepare().planned_each_time()
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
        let unit: Id = CONTINUOUS_UNIT
            .prepare()
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
    let made: Option<Id> = INSERT_ATTEMPT
        .prepare()
        .bind::<Integer, _>(unit_id)
        .bind::<Integer, _>(worker_id)
        .bind::<Timestamptz, _>(now)
        .bind::<Timestamptz, _>(expiration)
        .get_result(conn)
        .optional()?;
    Ok(made.map(|m| m.id))
}
