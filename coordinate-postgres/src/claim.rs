//! Handing out work: `Worker::request_attempts` and the attempt insertion
//! shared with `make_attempt`.
//!
//! A request costs two transactions whatever the size of the tables:
//!
//! 1. REPEATABLE READ: expire the namespace's overdue attempts, check the
//!    worker still exists, and read each candidate work spec's metadata with
//!    its pending count and whether it has an available unit (see
//!    `candidates.rs`). The scheduler in `coordinate_api` picks a work spec
//!    from that.
//! 2. READ COMMITTED: lock the spec's row against deletion, lock the best
//!    available units of that spec with `FOR UPDATE SKIP LOCKED`, then in
//!    one statement insert their attempts and point the units at them.
//!
//! Why no unit can be claimed twice: step 2's `SELECT … FOR UPDATE SKIP
//! LOCKED` returns only rows this transaction has locked, and PostgreSQL
//! re-checks `active_attempt_id IS NULL` against the newest committed
//! version of each row after locking it (a row another claimer changed in
//! the meantime drops out). Every path that gives a unit an active attempt
//! (this claim, `make_attempt`, continuous units) updates the unit row and
//! so needs the same row lock; a concurrent claimer skips rows we hold, and
//! once we commit it sees `active_attempt_id` set. The claiming `UPDATE`
//! repeats the `active_attempt_id IS NULL` test and the number of rows it
//! changed is checked; a mismatch rolls everything back and retries. READ
//! COMMITTED is what makes this work without retry storms: at REPEATABLE
//! READ, locking a row that changed after the snapshot is a serialization
//! failure, which under load is most rows.

use std::collections::HashMap;
use std::sync::Arc;

use crate::prepared::prepared;
use chrono::{DateTime, Utc};
use coordinate_api::data::encode;
use coordinate_api::scheduler::{
    batch_size, can_start_continuous, choose_work_spec, continuous_unit_name, retries_exhausted,
    TOO_MANY_RETRIES,
};
use coordinate_api::validate::add_duration;
use coordinate_api::{Attempt, AttemptRequest, Data, Error, Result, Value, WorkSpecMeta};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Bytea, Integer, Nullable, Text, Timestamptz};

use crate::attempt::PgAttempt;
use crate::candidates::{candidates, locked_candidate, pending_units};
use crate::expiry::expire_namespace;
use crate::schema::work_spec;
use crate::transaction::{with_retry, Isolation, TxError, TxResult};
use crate::work_spec::PgWorkSpec;
use crate::work_unit::PgWorkUnit;
use crate::worker::PgWorker;

/// Most times a request picks a work spec before it gives up and returns
/// nothing; every round either returns work, fails units that used up
/// their retries, or lost a race for the last units.
const MAX_ROUNDS: usize = 100;

/// A unit locked for claiming.
#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Bytea)]
    name: Vec<u8>,
    #[diesel(sql_type = BigInt)]
    previous: i64,
}

#[derive(QueryableByName)]
struct Made {
    #[diesel(sql_type = Integer)]
    unit_id: i32,
    #[diesel(sql_type = Integer)]
    attempt_id: i32,
}

impl PgWorker {
    /// `Worker::request_attempts`.
    pub(crate) fn claim(&self, request: &AttemptRequest) -> Result<Vec<Arc<dyn Attempt>>> {
        let shared = &self.namespace.shared;
        let now = shared.now();
        let expiration = add_duration("lifetime", now, request.lifetime)?;
        let mut rng = rand::rng();
        for round in 0..MAX_ROUNDS {
            let specs = with_retry(shared, Isolation::RepeatableRead, |conn| {
                if round == 0 {
                    expire_namespace(conn, self.namespace.id, now)?;
                }
                if !self.exists(conn)? {
                    return Err(Error::Gone.into());
                }
                candidates(conn, self.namespace.id, now, request)
            })?;
            let metas: Vec<(String, WorkSpecMeta)> = specs
                .iter()
                .map(|(_, name, meta)| (name.clone(), meta.clone()))
                .collect();
            let Some(chosen) = choose_work_spec(&metas, request, now, &mut rng) else {
                return Ok(Vec::new());
            };
            let Some((id, name, meta)) = specs.into_iter().find(|(_, n, _)| n == chosen) else {
                return Ok(Vec::new());
            };
            let spec = PgWorkSpec::new(self.namespace.clone(), id, name);
            let attempts = if meta.available_count > 0 {
                let wanted = request.number_of_work_units;
                with_retry(shared, Isolation::ReadCommitted, |conn| {
                    self.claim_units(conn, &spec, &meta, wanted, now, expiration)
                })?
            } else if can_start_continuous(&meta, now) {
                with_retry(shared, Isolation::RepeatableRead, |conn| {
                    self.start_continuous(conn, &spec, now, expiration)
                })?
            } else {
                Vec::new()
            };
            if !attempts.is_empty() {
                return Ok(attempts);
            }
        }
        Ok(Vec::new())
    }

    /// Step 2: claims up to the batch size of the spec's available units,
    /// failing on the spot those that used up their retries.
    fn claim_units(
        &self,
        conn: &mut PgConnection,
        spec: &PgWorkSpec,
        meta: &WorkSpecMeta,
        wanted: usize,
        now: DateTime<Utc>,
        expiration: DateTime<Utc>,
    ) -> TxResult<Vec<Arc<dyn Attempt>>> {
        let mut meta = meta.clone();
        // The spec's row is locked before any unit. Deleting a spec or its
        // namespace locks that row first and its units after (ON DELETE
        // CASCADE); a claimer holding units that then needed the spec's row
        // (the new attempts' foreign key) would deadlock with it, again on
        // every retry while the deletion waits. A key-share lock stops only
        // deletion, not other claimers or spec updates.
        //
        // Claimers of a capped spec take a stronger lock and so take turns
        // on the row, which keeps the cap under concurrency. Their pending
        // count is a separate statement so that, at READ COMMITTED, its
        // snapshot is taken after the lock and sees the previous holder's
        // claims.
        let row = work_spec::table.find(spec.id).select(work_spec::id);
        let locked = if meta.max_running > 0 {
            row.for_no_key_update().first::<i32>(conn).optional()?
        } else {
            row.for_key_share().first::<i32>(conn).optional()?
        };
        if locked.is_none() {
            return Ok(Vec::new());
        }
        if meta.max_running > 0 {
            meta.pending_count = pending_units(conn, spec.id)?;
        }
        let batch = batch_size(&meta, wanted);
        if batch == 0 {
            return Ok(Vec::new());
        }
        let locked: Vec<Locked> = prepared(
            "SELECT u.id, u.name, \
                    CASE WHEN $4 THEN (SELECT count(*) FROM attempt p WHERE p.work_unit_id = u.id) \
                         ELSE 0 END AS previous \
               FROM work_unit u \
              WHERE u.work_spec_id = $1 AND u.active_attempt_id IS NULL \
                AND (u.not_before IS NULL OR u.not_before <= $2) \
              ORDER BY u.priority DESC, u.name \
              LIMIT $3 \
                FOR UPDATE OF u SKIP LOCKED",
        )
        .bind::<Integer, _>(spec.id)
        .bind::<Timestamptz, _>(now)
        .bind::<BigInt, _>(i64::try_from(batch).unwrap_or(i64::MAX))
        .bind::<Bool, _>(meta.max_retries > 0)
        .load(conn)?;
        if locked.is_empty() {
            return Ok(Vec::new());
        }
        // Date the new attempts after the row locks are held, not when the
        // request began: a unit freed meanwhile by another worker's expiry
        // pass (which read the clock later than we did) must not get an
        // attempt that starts before the previous lease ran out.
        let lease = expiration - now;
        let now = self.namespace.shared.now().max(now);
        let expiration = now + lease;

        let exhausted: Vec<bool> = locked
            .iter()
            .map(|unit| retries_exhausted(&meta, usize::try_from(unit.previous).unwrap_or(0)))
            .collect();
        let mut failure = Data::new();
        failure.insert("traceback".into(), Value::Text(TOO_MANY_RETRIES.into()));
        let failure = encode(&failure)?;
        let ids: Vec<i32> = locked.iter().map(|u| u.id).collect();
        let statuses: Vec<&str> = exhausted
            .iter()
            .map(|&e| if e { "failed" } else { "pending" })
            .collect();
        let data: Vec<Option<&[u8]>> = exhausted
            .iter()
            .map(|&e| e.then_some(failure.as_slice()))
            .collect();
        let made: Vec<Made> = prepared(
            "WITH made AS ( \
                 INSERT INTO attempt (work_unit_id, work_spec_id, worker_id, status, data, \
                                      start_time, end_time, expiration_time, active) \
                 SELECT t.unit_id, $1, $2, t.status::attempt_status, t.data, $3, \
                        CASE WHEN t.status = 'pending' THEN NULL ELSE $3 END, $4, \
                        t.status = 'pending' \
                   FROM unnest($5::int4[], $6::text[], $7::bytea[]) AS t (unit_id, status, data) \
                 RETURNING id, work_unit_id) \
             UPDATE work_unit u SET active_attempt_id = made.id \
               FROM made \
              WHERE u.id = made.work_unit_id AND u.active_attempt_id IS NULL \
             RETURNING u.id AS unit_id, made.id AS attempt_id",
        )
        .bind::<Integer, _>(spec.id)
        .bind::<Integer, _>(self.id)
        .bind::<Timestamptz, _>(now)
        .bind::<Timestamptz, _>(expiration)
        .bind::<Array<Integer>, _>(&ids)
        .bind::<Array<Text>, _>(&statuses)
        .bind::<Array<Nullable<Bytea>>, _>(&data)
        .load(conn)?;
        if made.len() != locked.len() {
            // Cannot happen while we hold the row locks; never hand out a
            // unit whose claim did not stick.
            return Err(TxError::Retry);
        }
        let attempts: HashMap<i32, i32> = made.iter().map(|m| (m.unit_id, m.attempt_id)).collect();
        Ok(locked
            .into_iter()
            .zip(exhausted)
            .filter(|(_, exhausted)| !exhausted)
            .filter_map(|(unit, _)| {
                let id = *attempts.get(&unit.id)?;
                Some(Arc::new(PgAttempt {
                    unit: PgWorkUnit::new(spec.clone(), unit.id, &unit.name),
                    worker: self.clone(),
                    id,
                }) as Arc<dyn Attempt>)
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
