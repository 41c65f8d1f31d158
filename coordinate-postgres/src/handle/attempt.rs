//! Attempts: the `attempt` table and the `Attempt` trait.
//!
//! An attempt's `data` is NULL until its worker gives it data; reads then
//! fall back to the unit's data. `active` means "on its worker's active
//! list" and is true exactly while the attempt is pending.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use coordinate_api::backend::chaining::extract_output;
use coordinate_api::backend::lifecycle::{decide, Change, Request};
use coordinate_api::backend::validate::add_duration;
use coordinate_api::data::decode;
use coordinate_api::{Attempt, AttemptStatus, Data, Error, ObjectKind, Result, WorkUnit, Worker};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Bytea, Integer, Nullable, Timestamptz};

use crate::claim::expiry::with_expiry;
use crate::db::attempt_status::DbStatus;
use crate::db::gone::gone_if_zero;
use crate::db::listener::announce_taken;
use crate::db::shared::Shared;
use crate::db::sql_functions::coalesce;
use crate::db::transaction::{with_retry, Isolation, Subject, TxResult};
use crate::handle::finish::{finish_unless_chaining, may_chain, QuickFinish};
use crate::handle::upsert::upsert_units;
use crate::handle::work_unit::PgWorkUnit;
use crate::handle::worker::PgWorker;
use crate::schema::{attempt, sql_types, work_spec, work_unit};
use crate::sql::attempt::{
    END_ATTEMPT, RELEASE_AND_DELAY_UNIT, RELEASE_UNIT, RENEW_ATTEMPT, SET_ATTEMPT_DATA,
};

/// Handle to one attempt.
#[derive(Clone)]
pub(crate) struct PgAttempt {
    pub(crate) unit: PgWorkUnit,
    pub(crate) worker: PgWorker,
    pub(crate) id: i32,
    /// The unit's data as the claim statement returned it (`None` for
    /// attempts reached otherwise): [`Attempt::claimed_data`].
    pub(crate) claimed: Option<Arc<Vec<u8>>>,
}

/// Names the attempt's unit in [`Error::Gone`] when the unit or one of its
/// parents was deleted.
impl Subject for PgAttempt {
    fn shared(&self) -> &Shared {
        &self.unit.spec.namespace.shared
    }

    fn gone(&self) -> Error {
        Error::gone(ObjectKind::Attempt, &*self.unit.name)
    }
}

/// The refusals an attempt gives, naming the work unit it is on.
impl PgAttempt {
    /// What a one-statement finish of this attempt answers; `None` when
    /// it may chain and must be finished in a transaction instead.
    pub(crate) fn answer(&self, quick: QuickFinish) -> Option<Result<()>> {
        match quick {
            QuickFinish::Finished => Some(Ok(())),
            QuickFinish::NotPending => Some(Err(self.not_pending())),
            QuickFinish::Gone => Some(Err(self.gone())),
            QuickFinish::MayChain => None,
        }
    }

    /// [`Error::NotPending`] for this attempt.
    pub(crate) fn not_pending(&self) -> Error {
        Error::not_pending(&*self.unit.spec.name, &*self.unit.name)
    }
}

impl PgAttempt {
    fn shared(&self) -> &crate::db::shared::Shared {
        self.unit.shared()
    }

    /// Locks the attempt and its unit and reads the attempt's status and
    /// whether it is the unit's active attempt.
    fn lock(&self, conn: &mut PgConnection) -> TxResult<(AttemptStatus, bool)> {
        let (status, active): (DbStatus, Option<i32>) = attempt::table
            .inner_join(work_unit::table.on(work_unit::id.eq(attempt::work_unit_id)))
            .filter(attempt::id.eq(self.id))
            .select((attempt::status, work_unit::active_attempt_id))
            .for_update()
            .first(conn)?;
        Ok((status.0, active == Some(self.id)))
    }

    /// Carries out `request` in one REPEATABLE READ transaction, as
    /// `coordinate_api::backend::lifecycle` decides from the locked attempt's state.
    fn change(&self, request: Request, data: Option<&Data>, now: DateTime<Utc>) -> Result<()> {
        let bytes = data.map(|d| self.shared().encode(d)).transpose()?;
        let bytes = bytes.as_deref();
        let effect = with_retry(self, Isolation::RepeatableRead, |conn| {
            let (status, active) = self.lock(conn)?;
            let effect =
                decide(request.call(), status, active).ok_or_else(|| self.not_pending())?;
            match (effect.change, request.lease_end()) {
                (Change::Nothing, _) => {}
                (Change::DataOnly, _) => {
                    if let Some(bytes) = bytes {
                        SET_ATTEMPT_DATA
                            .prepare()
                            .bind::<Integer, _>(self.id)
                            .bind::<Bytea, _>(bytes)
                            .execute(conn)?;
                    }
                }
                (Change::Extend, Some(lease_end)) => {
                    RENEW_ATTEMPT
                        .prepare()
                        .bind::<Integer, _>(self.id)
                        .bind::<Timestamptz, _>(lease_end)
                        .bind::<Nullable<Bytea>, _>(bytes)
                        .execute(conn)?;
                }
                (Change::Extend, _) => unreachable!("only a renewal extends a lease"),
                (Change::End(status), _) => {
                    let changed = END_ATTEMPT
                        .prepare()
                        .bind::<Integer, _>(self.id)
                        .bind::<sql_types::AttemptStatus, _>(DbStatus(status))
                        .bind::<Timestamptz, _>(now)
                        .bind::<Nullable<Bytea>, _>(bytes)
                        .execute(conn)?;
                    gone_if_zero(changed)?;
                    if status == AttemptStatus::Expired {
                        announce_taken(conn, self.unit.spec.namespace.id)?;
                    }
                }
            }
            match (request.not_before(), effect.delay_unit) {
                (Some(not_before), true) => {
                    RELEASE_AND_DELAY_UNIT
                        .prepare()
                        .bind::<Timestamptz, _>(not_before)
                        .bind::<Integer, _>(self.id)
                        .bind::<Integer, _>(self.unit.id)
                        .execute(conn)?;
                }
                _ if effect.release => {
                    RELEASE_UNIT
                        .prepare()
                        .bind::<Integer, _>(self.unit.id)
                        .bind::<Integer, _>(self.id)
                        .execute(conn)?;
                }
                _ => {}
            }
            if effect.chain {
                self.chain(conn, data, now)?;
            }
            Ok(effect)
        })?;
        // A lost lease is committed (the attempt is over), then reported.
        effect.outcome(&self.unit.spec.name, &self.unit.name)
    }

    /// Reads one column after expiring overdue attempts of the namespace,
    /// so a lease that ran out shows as expired.
    fn read_after_expiry<T>(
        &self,
        read: impl Fn(&mut PgConnection) -> QueryResult<T>,
    ) -> Result<T> {
        let now = self.shared().now();
        with_expiry(self, self.worker.namespace.id, now, |conn| Ok(read(conn)?))
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
                    .select(coalesce(attempt::data, work_unit::data))
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
        let bytes: Vec<u8> = with_retry(self, Isolation::Autocommit, |conn| {
            Ok(attempt::table
                .inner_join(work_unit::table.on(work_unit::id.eq(attempt::work_unit_id)))
                .filter(attempt::id.eq(self.id))
                .select(coalesce(attempt::data, work_unit::data))
                .first(conn)?)
        })?;
        decode(&bytes)
    }

    fn claimed_data(&self) -> Option<Data> {
        // Stored data always decodes; should it not, `data` reads it and
        // says why.
        self.claimed.as_deref().and_then(|bytes| decode(bytes).ok())
    }

    fn start_time(&self) -> Result<DateTime<Utc>> {
        with_retry(self, Isolation::Autocommit, |conn| {
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
        with_retry(self, Isolation::Autocommit, |conn| {
            Ok(attempt::table
                .find(self.id)
                .select(attempt::expiration_time)
                .first(conn)?)
        })
    }

    fn renew(&self, extend: Duration, data: Option<Data>) -> Result<()> {
        let now = self.shared().now();
        let expiration = add_duration("lease extension", now, extend)?;
        self.change(Request::Renew(expiration), data.as_ref(), now)
    }

    fn expire(&self, data: Option<Data>) -> Result<()> {
        let now = self.shared().now();
        self.change(Request::Expire, data.as_ref(), now)
    }

    fn finish(&self, data: Option<Data>) -> Result<()> {
        let now = self.shared().now();
        let bytes = data.as_ref().map(|d| self.shared().encode(d)).transpose()?;
        let may_chain = may_chain(data.as_ref());
        let quick = with_retry(self, Isolation::Autocommit, |conn| {
            finish_unless_chaining(conn, self.id, now, bytes.as_deref(), may_chain)
        })?;
        match self.answer(quick) {
            Some(answer) => answer,
            None => self.change(Request::Finish, data.as_ref(), now),
        }
    }

    fn fail(&self, data: Option<Data>) -> Result<()> {
        let now = self.shared().now();
        self.change(Request::Fail, data.as_ref(), now)
    }

    fn retry(&self, data: Option<Data>, delay: Duration) -> Result<()> {
        let now = self.shared().now();
        let not_before = add_duration("retry delay", now, delay)?;
        self.change(Request::Retry(not_before), data.as_ref(), now)
    }
}
