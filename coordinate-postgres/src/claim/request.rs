//! `Worker::request_attempts` in ids and rows: the rounds of choosing a
//! work spec and claiming its units (the module documentation of
//! [`crate::claim`] says why no unit is claimed twice), and the attempt
//! insertion shared with `make_attempt`.

use chrono::{DateTime, Utc};
use coordinate_api::backend::scheduler::{
    batch_size, can_start_continuous, choose_work_spec, claim_rounds, continuous_unit_name,
    too_many_retries_data, Round,
};
use coordinate_api::backend::validate::add_duration;
use coordinate_api::data::encode;
use coordinate_api::{AttemptRequest, Data, Error, Result, WorkSpecMeta};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Bytea, Integer, Timestamptz};

use crate::claim::candidates::{
    candidates_after_expiry, locked_candidate, pending_units, Candidate,
};
use crate::db::gone::Object;
use crate::db::transaction::{with_retry, Isolation, Subject, TxResult};
use crate::schema::work_spec;
use crate::sql::claim::{CLAIM, CLAIM_ONE, CONTINUOUS_UNIT, INSERT_ATTEMPT};

/// A unit the claim statement gave an attempt.
#[derive(QueryableByName)]
struct ClaimRow {
    #[diesel(sql_type = Integer)]
    unit_id: i32,
    #[diesel(sql_type = Bytea)]
    name: Vec<u8>,
    /// The unit's data (a new attempt has none of its own).
    #[diesel(sql_type = Bytea)]
    data: Vec<u8>,
    #[diesel(sql_type = Integer)]
    attempt_id: i32,
    /// False for a unit failed for using up its retries.
    #[diesel(sql_type = Bool)]
    pending: bool,
}

/// A unit handed out, with its new pending attempt.
pub(crate) struct ClaimedUnit {
    pub(crate) unit_id: i32,
    /// The unit's name as stored.
    pub(crate) name: Vec<u8>,
    pub(crate) attempt_id: i32,
    /// The unit's data as stored, when the claim read it along.
    pub(crate) data: Option<Vec<u8>>,
}

/// What one request handed out: units of one work spec.
pub(crate) struct Claimed {
    pub(crate) spec_id: i32,
    pub(crate) spec_name: String,
    pub(crate) units: Vec<ClaimedUnit>,
}

/// Who claims: the worker's handle (its pool, and its name when it is
/// gone), and the ids the statements need.
struct Claimant<'a, S: ?Sized> {
    worker: &'a S,
    namespace_id: i32,
    worker_id: i32,
}

/// `Worker::request_attempts` for worker `worker_id` of namespace
/// `namespace_id`: `None` when there is nothing to do, or
/// [`Error::Gone`] naming `worker` when the worker was deleted.
pub(crate) fn request_attempts(
    worker: &(impl Subject + ?Sized),
    namespace_id: i32,
    worker_id: i32,
    request: &AttemptRequest,
) -> Result<Option<Claimed>> {
    let claimant = Claimant {
        worker,
        namespace_id,
        worker_id,
    };
    claimant.claim(request)
}

impl<S: Subject + ?Sized> Claimant<'_, S> {
    fn claim(&self, request: &AttemptRequest) -> Result<Option<Claimed>> {
        let shared = self.worker.shared();
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
            let (specs, now) = with_retry(self.worker, Isolation::Autocommit, |conn| {
                let now = shared.now();
                Ok((
                    candidates_after_expiry(conn, self.namespace_id, now, request)?,
                    now,
                ))
            })?;
            let Some(chosen) = choose_work_spec(&specs, request, now, &mut rng) else {
                return Ok(Round::Done(None));
            };
            let Some(Candidate { id, name, meta }) = specs.into_iter().nth(chosen) else {
                return Ok(Round::Done(None));
            };
            let wanted = request.number_of_work_units;
            let lease = |now| add_duration("lifetime", now, request.lifetime);
            let units = if meta.available_count == 0 {
                if !can_start_continuous(&meta, now) {
                    return Ok(Round::Done(None));
                }
                with_retry(self.worker, Isolation::RepeatableRead, |conn| {
                    let now = shared.now();
                    self.start_continuous(conn, id, now, lease(now)?)
                })?
            } else if meta.max_running > 0 {
                with_retry(self.worker, Isolation::ReadCommitted, |conn| {
                    let now = shared.now();
                    self.claim_capped(conn, id, &meta, wanted, now, lease(now)?)
                })?
            } else {
                let batch = batch_size(&meta, wanted);
                with_retry(self.worker, Isolation::Autocommit, |conn| {
                    let now = shared.now();
                    self.claim_units(conn, id, &meta, batch, now, lease(now)?)
                })?
            };
            Ok::<_, Error>(if units.is_empty() {
                Round::Again
            } else {
                Round::Done(Some(Claimed {
                    spec_id: id,
                    spec_name: name,
                    units,
                }))
            })
        })?;
        match answer.flatten() {
            Some(claimed) => Ok(Some(claimed)),
            None => {
                // No work: nothing to hand out, unless the worker is gone.
                with_retry(self.worker, Isolation::Autocommit, |conn| {
                    Object::Worker(self.worker_id).ensure(conn)
                })?;
                Ok(None)
            }
        }
    }

    /// Claims a capped spec's units: its row locked against other claimers
    /// (`FOR NO KEY UPDATE`) so they take turns, then a pending count whose
    /// READ COMMITTED snapshot, taken after the lock, sees the previous
    /// holder's claims.
    fn claim_capped(
        &self,
        conn: &mut PgConnection,
        spec_id: i32,
        meta: &WorkSpecMeta,
        wanted: usize,
        now: DateTime<Utc>,
        expiration: DateTime<Utc>,
    ) -> TxResult<Vec<ClaimedUnit>> {
        let locked = work_spec::table
            .find(spec_id)
            .select(work_spec::id)
            .for_no_key_update()
            .first::<i32>(conn)
            .optional()?;
        if locked.is_none() {
            return Ok(Vec::new());
        }
        let mut meta = meta.clone();
        meta.pending_count = pending_units(conn, spec_id)?;
        let batch = batch_size(&meta, wanted);
        self.claim_units(conn, spec_id, &meta, batch, now, expiration)
    }

    /// Runs [`CLAIM`] for up to `batch` units and returns those handed out
    /// (units that used up their retries are failed on the spot and left
    /// out).
    fn claim_units(
        &self,
        conn: &mut PgConnection,
        spec_id: i32,
        meta: &WorkSpecMeta,
        batch: usize,
        now: DateTime<Utc>,
        expiration: DateTime<Utc>,
    ) -> TxResult<Vec<ClaimedUnit>> {
        if batch == 0 {
            return Ok(Vec::new());
        }
        let failure = too_many_retries_data();
        let statement = if batch == 1 {
            CLAIM_ONE.prepare()
        } else {
            CLAIM.prepare().planned_each_time()
        };
        let claimed: Vec<ClaimRow> = statement
            .bind::<Integer, _>(spec_id)
            .bind::<Integer, _>(self.worker_id)
            .bind::<Timestamptz, _>(now)
            .bind::<Timestamptz, _>(expiration)
            .bind::<BigInt, _>(i64::try_from(batch).unwrap_or(i64::MAX))
            .bind::<Integer, _>(meta.max_retries)
            .bind::<Bytea, _>(encode(&failure)?)
            .load(conn)?;
        Ok(claimed
            .into_iter()
            .filter(|unit| unit.pending)
            .map(|unit| ClaimedUnit {
                unit_id: unit.unit_id,
                name: unit.name,
                attempt_id: unit.attempt_id,
                data: Some(unit.data),
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
        spec_id: i32,
        now: DateTime<Utc>,
        expiration: DateTime<Utc>,
    ) -> TxResult<Vec<ClaimedUnit>> {
        let Some(meta) = locked_candidate(conn, spec_id, now)? else {
            return Ok(Vec::new());
        };
        if !can_start_continuous(&meta, now) {
            return Ok(Vec::new());
        }
        let next = add_duration("interval", now, meta.interval).unwrap_or(DateTime::<Utc>::MAX_UTC);
        diesel::update(work_spec::table.find(spec_id))
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
            .bind::<Integer, _>(spec_id)
            .bind::<Bytea, _>(name.as_bytes())
            .bind::<Bytea, _>(encode(&Data::new())?)
            .get_result(conn)?;
        let Some(attempt) = insert_attempt(conn, unit.id, self.worker_id, now, expiration)? else {
            return Ok(Vec::new());
        };
        Ok(vec![ClaimedUnit {
            unit_id: unit.id,
            name: name.into_bytes(),
            attempt_id: attempt,
            data: None,
        }])
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
