//! Attempts: the `attempt` table and the `Attempt` trait.
//!
//! An attempt's `data` is NULL until its worker gives it data; reads then
//! fall back to the unit's data. `active` means "on its worker's active
//! list" and is true exactly while the attempt is pending.

use std::sync::Arc;
use std::time::Duration;

use crate::prepared::prepared;
use chrono::{DateTime, Utc};
use coordinate_api::chaining::extract_output;
use coordinate_api::data::decode;
use coordinate_api::validate::add_duration;
use coordinate_api::{Attempt, AttemptStatus, Data, Error, Result, WorkUnit, Worker};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgConnection, PgValue};
use diesel::prelude::*;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{Integer, Nullable, Timestamptz};

use crate::expiry::with_expiry;
use crate::finish::{finish_unless_chaining, QuickFinish};
use crate::schema::{attempt, sql_types, work_spec, work_unit};
use crate::transaction::{with_retry, Isolation, TxResult};
use crate::work_unit::{gone_if_zero, upsert_units, PgWorkUnit};
use crate::worker::PgWorker;

/// [`AttemptStatus`] as the `attempt_status` enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = sql_types::AttemptStatus)]
pub(crate) struct DbStatus(pub(crate) AttemptStatus);

impl DbStatus {
    /// The status of a live lease.
    pub(crate) const PENDING: DbStatus = DbStatus(AttemptStatus::Pending);
}

impl ToSql<sql_types::AttemptStatus, Pg> for DbStatus {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        std::io::Write::write_all(out, self.0.as_str().as_bytes())?;
        Ok(IsNull::No)
    }
}

impl FromSql<sql_types::AttemptStatus, Pg> for DbStatus {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        let name = std::str::from_utf8(value.as_bytes())?;
        AttemptStatus::parse(name)
            .map(DbStatus)
            .ok_or_else(|| format!("unknown attempt status {name:?}").into())
    }
}

/// Handle to one attempt.
#[derive(Clone)]
pub(crate) struct PgAttempt {
    pub(crate) unit: PgWorkUnit,
    pub(crate) worker: PgWorker,
    pub(crate) id: i32,
}

/// What a state change needs to know about an attempt, read under lock.
struct State {
    status: AttemptStatus,
    /// Whether the attempt is its unit's active attempt.
    active: bool,
}

impl State {
    /// Pending, or expired while still active ("live" in the spec).
    fn live(&self) -> bool {
        self.status == AttemptStatus::Pending
            || (self.status == AttemptStatus::Expired && self.active)
    }
}

/// How a renewal ended; a lost lease is committed, then reported.
enum Renewal {
    Renewed,
    LostLease,
}

impl PgAttempt {
    fn shared(&self) -> &crate::coordinate::Shared {
        self.unit.shared()
    }

    /// Locks the attempt and its unit and reads their state.
    fn lock(&self, conn: &mut PgConnection) -> TxResult<State> {
        let (status, active): (DbStatus, Option<i32>) = attempt::table
            .inner_join(work_unit::table.on(work_unit::id.eq(attempt::work_unit_id)))
            .filter(attempt::id.eq(self.id))
            .select((attempt::status, work_unit::active_attempt_id))
            .for_update()
            .first(conn)?;
        Ok(State {
            status: status.0,
            active: active == Some(self.id),
        })
    }

    /// Ends the attempt with `status` (off its worker's active list), and
    /// replaces its data if given.
    fn end(
        &self,
        conn: &mut PgConnection,
        status: AttemptStatus,
        data: Option<&[u8]>,
        now: DateTime<Utc>,
    ) -> TxResult<()> {
        let changed = diesel::update(attempt::table.find(self.id))
            .set((
                attempt::status.eq(DbStatus(status)),
                attempt::end_time.eq(Some(now)),
                attempt::active.eq(false),
                data.map(|d| attempt::data.eq(Some(d))),
            ))
            .execute(conn)?;
        gone_if_zero(changed)
    }

    /// Reads one column after expiring overdue attempts of the namespace,
    /// so a lease that ran out shows as expired.
    fn read_after_expiry<T>(
        &self,
        read: impl Fn(&mut PgConnection) -> QueryResult<T>,
    ) -> Result<T> {
        let now = self.shared().now();
        with_expiry(self.shared(), self.worker.namespace.id, now, |conn| {
            Ok(read(conn)?)
        })
    }

    /// Creates the units named by the effective data's `output` in the
    /// spec's `then` work spec, if both exist.
    fn chain(
        &self,
        conn: &mut PgConnection,
        data: Option<&Data>,
        now: DateTime<Utc>,
    ) -> TxResult<()> {
        if data.is_some_and(|d| !d.contains_key("output")) {
            return Ok(());
        }
        let next = diesel::alias!(work_spec as next);
        let next_id: Option<i32> = work_spec::table
            .inner_join(
                next.on(next
                    .field(work_spec::namespace_id)
                    .eq(work_spec::namespace_id)
                    .and(
                        next.field(work_spec::name)
                            .eq(work_spec::next_work_spec_name),
                    )),
            )
            .filter(work_spec::id.eq(self.unit.spec.id))
            .select(next.field(work_spec::id))
            .first(conn)
            .optional()?;
        let Some(next_id) = next_id else {
            return Ok(());
        };
        let stored;
        let data = match data {
            Some(data) => data,
            None => {
                let bytes: Vec<u8> = attempt::table
                    .inner_join(work_unit::table.on(work_unit::id.eq(attempt::work_unit_id)))
                    .filter(attempt::id.eq(self.id))
                    .select(diesel::dsl::sql::<diesel::sql_types::Bytea>(
                        "COALESCE(attempt.data, work_unit.data)",
                    ))
                    .first(conn)?;
                stored = decode(&bytes)?;
                &stored
            }
        };
        if let Some(output) = data.get("output") {
            let units = extract_output(output, now);
            if !units.is_empty() {
                // Outputs come from data already within the size limit.
                upsert_units(conn, next_id, &units, usize::MAX)?;
            }
        }
        Ok(())
    }
}

impl Attempt for PgAttempt {
    fn work_unit(&self) -> Arc<dyn WorkUnit> {
        Arc::new(self.unit.clone())
    }

    fn worker(&self) -> Arc<dyn Worker> {
        Arc::new(self.worker.clone())
    }

    fn status(&self) -> Result<AttemptStatus> {
        let status: DbStatus = self.read_after_expiry(|conn| {
            attempt::table
                .find(self.id)
                .select(attempt::status)
                .first(conn)
        })?;
        Ok(status.0)
    }

    fn data(&self) -> Result<Data> {
        let bytes: Vec<u8> = with_retry(self.shared(), Isolation::SingleStatement, |conn| {
            Ok(attempt::table
                .inner_join(work_unit::table.on(work_unit::id.eq(attempt::work_unit_id)))
                .filter(attempt::id.eq(self.id))
                .select(diesel::dsl::sql::<diesel::sql_types::Bytea>(
                    "COALESCE(attempt.data, work_unit.data)",
                ))
                .first(conn)?)
        })?;
        decode(&bytes)
    }

    fn start_time(&self) -> Result<DateTime<Utc>> {
        with_retry(self.shared(), Isolation::SingleStatement, |conn| {
            Ok(attempt::table
                .find(self.id)
                .select(attempt::start_time)
                .first(conn)?)
        })
    }

    fn end_time(&self) -> Result<Option<DateTime<Utc>>> {
        self.read_after_expiry(|conn| {
            attempt::table
                .find(self.id)
                .select(attempt::end_time)
                .first(conn)
        })
    }

    fn expiration_time(&self) -> Result<DateTime<Utc>> {
        with_retry(self.shared(), Isolation::SingleStatement, |conn| {
            Ok(attempt::table
                .find(self.id)
                .select(attempt::expiration_time)
                .first(conn)?)
        })
    }

    fn renew(&self, extend: Duration, data: Option<Data>) -> Result<()> {
        let now = self.shared().now();
        let expiration = add_duration("lease extension", now, extend)?;
        let bytes = data.as_ref().map(|d| self.shared().encode(d)).transpose()?;
        let outcome = with_retry(self.shared(), Isolation::RepeatableRead, |conn| {
            let state = self.lock(conn)?;
            if !matches!(
                state.status,
                AttemptStatus::Pending | AttemptStatus::Expired
            ) {
                return Err(Error::NotPending.into());
            }
            if !state.active {
                // Someone else holds the unit now: this attempt is over.
                if state.status == AttemptStatus::Pending {
                    self.end(conn, AttemptStatus::Expired, bytes.as_deref(), now)?;
                } else if let Some(bytes) = &bytes {
                    diesel::update(attempt::table.find(self.id))
                        .set(attempt::data.eq(Some(bytes)))
                        .execute(conn)?;
                }
                return Ok(Renewal::LostLease);
            }
            diesel::update(attempt::table.find(self.id))
                .set((
                    attempt::expiration_time.eq(expiration),
                    attempt::status.eq(DbStatus::PENDING),
                    attempt::active.eq(true),
                    attempt::end_time.eq(None::<DateTime<Utc>>),
                    bytes.as_deref().map(|d| attempt::data.eq(Some(d))),
                ))
                .execute(conn)?;
            Ok(Renewal::Renewed)
        })?;
        match outcome {
            Renewal::Renewed => Ok(()),
            Renewal::LostLease => Err(Error::LostLease),
        }
    }

    fn expire(&self, data: Option<Data>) -> Result<()> {
        let now = self.shared().now();
        let bytes = data.as_ref().map(|d| self.shared().encode(d)).transpose()?;
        with_retry(self.shared(), Isolation::RepeatableRead, |conn| {
            let state = self.lock(conn)?;
            match state.status {
                AttemptStatus::Expired => return Ok(()),
                AttemptStatus::Pending => {}
                _ => return Err(Error::NotPending.into()),
            }
            self.end(conn, AttemptStatus::Expired, bytes.as_deref(), now)?;
            release(conn, self.unit.id, self.id, None)
        })
    }

    fn finish(&self, data: Option<Data>) -> Result<()> {
        let now = self.shared().now();
        let bytes = data.as_ref().map(|d| self.shared().encode(d)).transpose()?;
        // Data without `output` cannot create units, whatever the spec.
        let may_chain = data.as_ref().is_none_or(|d| d.contains_key("output"));
        let quick = with_retry(self.shared(), Isolation::SingleStatement, |conn| {
            finish_unless_chaining(conn, self.id, now, bytes.as_deref(), may_chain)
        })?;
        match quick {
            QuickFinish::Finished => return Ok(()),
            QuickFinish::NotPending => return Err(Error::NotPending),
            QuickFinish::Gone => return Err(Error::Gone),
            QuickFinish::MayChain => {}
        }
        with_retry(self.shared(), Isolation::RepeatableRead, |conn| {
            let state = self.lock(conn)?;
            // go-coordinate also lets a failed attempt finish after all.
            if !(state.live() || state.status == AttemptStatus::Failed) {
                return Err(Error::NotPending.into());
            }
            self.end(conn, AttemptStatus::Finished, bytes.as_deref(), now)?;
            if state.active {
                self.chain(conn, data.as_ref(), now)?;
            }
            Ok(())
        })
    }

    fn fail(&self, data: Option<Data>) -> Result<()> {
        let now = self.shared().now();
        let bytes = data.as_ref().map(|d| self.shared().encode(d)).transpose()?;
        with_retry(self.shared(), Isolation::RepeatableRead, |conn| {
            if !self.lock(conn)?.live() {
                return Err(Error::NotPending.into());
            }
            self.end(conn, AttemptStatus::Failed, bytes.as_deref(), now)
        })
    }

    fn retry(&self, data: Option<Data>, delay: Duration) -> Result<()> {
        let now = self.shared().now();
        let not_before = add_duration("retry delay", now, delay)?;
        let bytes = data.as_ref().map(|d| self.shared().encode(d)).transpose()?;
        with_retry(self.shared(), Isolation::RepeatableRead, |conn| {
            if !self.lock(conn)?.live() {
                return Err(Error::NotPending.into());
            }
            self.end(conn, AttemptStatus::Retryable, bytes.as_deref(), now)?;
            release(conn, self.unit.id, self.id, Some(not_before))
        })
    }
}

/// Clears the unit's active attempt if it is `attempt_id`; with a
/// not-before time (retry), also delays the unit. Either way it wakes the
/// namespace's waiters (spuriously for a delayed retry; a wake-up is
/// cheaper than deciding whether the delay has passed).
fn release(
    conn: &mut PgConnection,
    unit_id: i32,
    attempt_id: i32,
    not_before: Option<DateTime<Utc>>,
) -> TxResult<()> {
    prepared(
        "UPDATE work_unit SET not_before = COALESCE($1, not_before), \
                active_attempt_id = NULLIF(active_attempt_id, $2) \
          WHERE id = $3 AND ($1 IS NOT NULL OR active_attempt_id = $2) \
         RETURNING pg_notify('coordinate_work', (SELECT namespace_id FROM work_spec \
                              WHERE id = work_unit.work_spec_id)::text)",
    )
    .bind::<Nullable<Timestamptz>, _>(not_before)
    .bind::<Integer, _>(attempt_id)
    .bind::<Integer, _>(unit_id)
    .execute(conn)?;
    Ok(())
}
