//! Work units: the `work_unit` table and the `WorkUnit` trait.
//!
//! Names are stored as their UTF-8 bytes (the column is `BYTEA`, as in
//! go-coordinate), so byte order is the same as Rust's string order.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use coordinate_api::backend::validate::{validate_name, validate_priority};
use coordinate_api::data::decode;
use coordinate_api::status::derive_work_unit_status;
use coordinate_api::NewWorkUnit;
use coordinate_api::{
    Attempt, Data, Error, ObjectKind, Result, WorkSpec, WorkUnit, WorkUnitMeta, WorkUnitStatus,
};
use diesel::prelude::*;
use diesel::sql_types::Integer;

use crate::claim::expiry::with_expiry;
use crate::db::attempt_status::DbStatus;
use crate::db::gone::gone_if_zero;
use crate::db::gone::Object;
use crate::db::listener::announce_taken;
use crate::db::shared::Shared;
use crate::db::sql_functions::coalesce;
use crate::db::transaction::{with_retry, Isolation, Subject};
use crate::handle::upsert::upsert_units;
use crate::handle::work_spec::PgWorkSpec;
use crate::schema::{attempt, work_unit};
use crate::sql::unit::CLEAR_ACTIVE_ATTEMPT;

/// Handle to one work unit.
#[derive(Clone)]
pub(crate) struct PgWorkUnit {
    pub(crate) spec: PgWorkSpec,
    pub(crate) id: i32,
    pub(crate) name: Arc<str>,
}

/// Names this unit in [`Error::Gone`] when it or one of its parents was
/// deleted.
impl Subject for PgWorkUnit {
    fn shared(&self) -> &Shared {
        &self.spec.namespace.shared
    }

    fn gone(&self) -> Error {
        Error::gone(ObjectKind::WorkUnit, &*self.name)
    }
}

impl PgWorkUnit {
    /// A handle to unit `id` of `spec`, whose stored name is `name`.
    pub(crate) fn new(spec: PgWorkSpec, id: i32, name: &[u8]) -> Self {
        PgWorkUnit {
            spec,
            id,
            // Units written by this backend are UTF-8; go-coordinate's may
            // not be, and are shown as well as possible.
            name: String::from_utf8_lossy(name).into(),
        }
    }
}

/// Work unit functions of a work spec.
impl PgWorkSpec {
    /// `WorkSpec::add_work_unit`: adds the unit, or replaces it as the
    /// trait describes.
    pub(crate) fn put_work_unit(
        &self,
        name: &str,
        data: Data,
        meta: WorkUnitMeta,
    ) -> Result<PgWorkUnit> {
        validate_name("work unit name", name)?;
        validate_priority("priority", meta.priority)?;
        let unit = [NewWorkUnit {
            name: name.to_owned(),
            data,
            meta,
        }];
        // A foreign key violation (the spec is gone) maps to Error::Gone.
        let rows = with_retry(self, Isolation::RepeatableRead, |conn| {
            upsert_units(conn, self.id, &unit, self.shared().max_data_bytes)
        })?;
        let row = rows.first().ok_or_else(|| self.gone())?;
        Ok(PgWorkUnit::new(self.clone(), row.id, &row.name))
    }

    /// `WorkSpec::work_unit`: the unit called `name`.
    pub(crate) fn find_work_unit(&self, name: &str) -> Result<PgWorkUnit> {
        let id = with_retry(self, Isolation::RepeatableRead, |conn| {
            let id = work_unit::table
                .filter(work_unit::work_spec_id.eq(self.id))
                .filter(work_unit::name.eq(name.as_bytes()))
                .select(work_unit::id)
                .first::<i32>(conn)
                .optional()?;
            Object::WorkSpec(self.id).found_or(conn, id, || Error::no_such_work_unit(name))
        })?;
        Ok(PgWorkUnit::new(self.clone(), id, name.as_bytes()))
    }
}

impl WorkUnit for PgWorkUnit {
    fn name(&self) -> &str {
        &self.name
    }

    fn work_spec(&self) -> Arc<dyn WorkSpec> {
        Arc::new(self.spec.clone())
    }

    fn data(&self) -> Result<Data> {
        let now = self.spec.namespace.shared.now();
        let namespace = self.spec.namespace.id;
        // The active attempt's data wins; after expiry, an attempt whose
        // lease ran out is no unit's active attempt any more.
        let bytes: Vec<u8> = with_expiry(self, namespace, now, |conn| {
            Ok(work_unit::table
                .left_join(
                    attempt::table.on(attempt::id.nullable().eq(work_unit::active_attempt_id)),
                )
                .filter(work_unit::id.eq(self.id))
                .select(coalesce(attempt::data.nullable(), work_unit::data))
                .first(conn)?)
        })?;
        decode(&bytes)
    }

    fn status(&self) -> Result<WorkUnitStatus> {
        let now = self.spec.namespace.shared.now();
        let namespace = self.spec.namespace.id;
        // After expiry no active attempt is past its lease.
        let (status, not_before): (Option<DbStatus>, Option<DateTime<Utc>>) =
            with_expiry(self, namespace, now, |conn| {
                Ok(work_unit::table
                    .left_join(
                        attempt::table.on(attempt::id.nullable().eq(work_unit::active_attempt_id)),
                    )
                    .filter(work_unit::id.eq(self.id))
                    .select((attempt::status.nullable(), work_unit::not_before))
                    .first(conn)?)
            })?;
        Ok(derive_work_unit_status(
            status.map(|s| s.0),
            not_before,
            now,
        ))
    }

    fn meta(&self) -> Result<WorkUnitMeta> {
        let (priority, not_before) = with_retry(self, Isolation::Autocommit, |c| {
            Ok(work_unit::table
                .find(self.id)
                .select((work_unit::priority, work_unit::not_before))
                .first::<(f64, Option<DateTime<Utc>>)>(c)?)
        })?;
        Ok(WorkUnitMeta {
            priority,
            not_before,
        })
    }

    fn set_meta(&self, meta: WorkUnitMeta) -> Result<()> {
        validate_priority("priority", meta.priority)?;
        self.update_one(work_unit::priority.eq(meta.priority), meta.not_before)
    }

    fn priority(&self) -> Result<f64> {
        Ok(self.meta()?.priority)
    }

    fn set_priority(&self, priority: f64) -> Result<()> {
        validate_priority("priority", priority)?;
        with_retry(self, Isolation::Autocommit, |conn| {
            let changed = diesel::update(work_unit::table.find(self.id))
                .set(work_unit::priority.eq(priority))
                .execute(conn)?;
            gone_if_zero(changed)
        })
    }

    fn active_attempt(&self) -> Result<Option<Arc<dyn Attempt>>> {
        self.find_active_attempt()
    }

    fn clear_active_attempt(&self) -> Result<()> {
        with_retry(self, Isolation::Autocommit, |conn| {
            // Wakes the namespace's waiters: the unit may be available now.
            let changed = CLEAR_ACTIVE_ATTEMPT
                .prepare()
                .bind::<Integer, _>(self.id)
                .execute(conn)?;
            gone_if_zero(changed)?;
            Ok(announce_taken(conn, self.spec.namespace.id)?)
        })
    }

    fn attempts(&self) -> Result<Vec<Arc<dyn Attempt>>> {
        self.list_attempts()
    }

    fn num_attempts(&self) -> Result<usize> {
        self.count_attempts()
    }
}

impl PgWorkUnit {
    /// The pool and clock of the coordinate this unit came from.
    pub(crate) fn shared(&self) -> &crate::db::shared::Shared {
        &self.spec.namespace.shared
    }

    /// Sets the priority (as given) and not-before time.
    fn update_one(
        &self,
        priority: diesel::dsl::Eq<work_unit::priority, f64>,
        not_before: Option<DateTime<Utc>>,
    ) -> Result<()> {
        with_retry(self, Isolation::Autocommit, |conn| {
            let changed = diesel::update(work_unit::table.find(self.id))
                .set((priority, work_unit::not_before.eq(not_before)))
                .execute(conn)?;
            gone_if_zero(changed)
        })
    }
}
