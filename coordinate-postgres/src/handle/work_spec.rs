//! Work specs: the `work_spec` table and the `WorkSpec` trait.
//!
//! The definition is stored as CBOR in `data`; the scheduling metadata
//! derived from it lives in its own columns so it can change (`set_meta`)
//! without rewriting the definition.

use std::collections::BTreeMap;
use std::sync::Arc;

use coordinate_api::backend::validate::validate_interval;
use coordinate_api::data::decode;
use coordinate_api::{
    Data, Error, NewWorkUnit, ObjectKind, Result, Summary, WorkSpec, WorkSpecMeta, WorkUnit,
    WorkUnitMeta, WorkUnitQuery, WorkUnitStatus,
};
use diesel::prelude::*;
use diesel::IntoSql;

use crate::claim::candidates::pending_units;
use crate::claim::expiry::{expire_namespace, with_expiry};
use crate::db::gone::Object;
use crate::db::shared::Shared;
use crate::db::transaction::{with_retry, Isolation, Subject, TxResult};
use crate::db::work_spec_meta::{interval_to_sql, Definition, MetaRow};
use crate::handle::namespace::PgNamespace;
use crate::handle::summary::{summarize, Scope};
use crate::schema::{work_spec, work_unit};
use crate::sql::unit::{WAKE, WORK_SPEC_NAMES};

/// Handle to one work spec.
#[derive(Clone)]
pub(crate) struct PgWorkSpec {
    pub(crate) namespace: PgNamespace,
    pub(crate) id: i32,
    pub(crate) name: Arc<str>,
}

/// Names this work spec in [`Error::Gone`] when it or its namespace was
/// deleted.
impl Subject for PgWorkSpec {
    fn shared(&self) -> &Shared {
        &self.namespace.shared
    }

    fn gone(&self) -> Error {
        Error::gone(ObjectKind::WorkSpec, &*self.name)
    }
}

impl PgWorkSpec {
    /// Wakes the namespace's waiters after a change to the spec's
    /// scheduling (un-paused, a limit raised, a new weight), which may let
    /// units be claimed that could not be before. Sent after the change
    /// committed, so a woken waiter sees it; a change that let nothing
    /// new be claimed wakes spuriously, which waiters allow.
    fn wake(&self, conn: &mut PgConnection) -> TxResult<()> {
        WAKE.prepare()
            .bind::<diesel::sql_types::Text, _>(self.namespace.id.to_string())
            .execute(conn)?;
        Ok(())
    }

    /// A handle to work spec `id` of `namespace`, called `name`.
    pub(crate) fn new(namespace: PgNamespace, id: i32, name: String) -> Self {
        PgWorkSpec {
            namespace,
            id,
            name: name.into(),
        }
    }

    /// The pool and clock of the coordinate this spec came from.
    pub(crate) fn shared(&self) -> &crate::db::shared::Shared {
        &self.namespace.shared
    }
}

/// Work spec functions of a namespace.
impl PgNamespace {
    /// `Namespace::set_work_spec`: creates the work spec or replaces its
    /// definition.
    pub(crate) fn put_work_spec(&self, data: Data) -> Result<PgWorkSpec> {
        let definition = Definition::new(&data, self.shared.max_data_bytes)?;
        let now = self.shared.now();
        // One upsert statement (see `Definition::upsert`); a foreign key
        // violation means the namespace is gone.
        let id = with_retry(self, Isolation::Autocommit, |conn| {
            definition.upsert(conn, self.id, now)
        })?;
        Ok(PgWorkSpec::new(self.clone(), id, definition.name))
    }

    /// `Namespace::work_spec`: the work spec called `name`.
    pub(crate) fn find_work_spec(&self, name: &str) -> Result<PgWorkSpec> {
        let id = with_retry(self, Isolation::RepeatableRead, |conn| {
            let id = work_spec::table
                .filter(work_spec::namespace_id.eq(self.id))
                .filter(work_spec::name.eq(name))
                .select(work_spec::id)
                .first::<i32>(conn)
                .optional()?;
            Object::Namespace(self.id).found_or(conn, id, || Error::no_such_work_spec(name))
        })?;
        Ok(PgWorkSpec::new(self.clone(), id, name.to_owned()))
    }

    /// `Namespace::destroy_work_spec`: deletes the spec with its units and
    /// attempts.
    pub(crate) fn delete_work_spec(&self, name: &str) -> Result<()> {
        with_retry(self, Isolation::RepeatableRead, |conn| {
            let deleted = diesel::delete(
                work_spec::table
                    .filter(work_spec::namespace_id.eq(self.id))
                    .filter(work_spec::name.eq(name)),
            )
            .returning(work_spec::id)
            .get_result::<i32>(conn)
            .optional()?;
            Object::Namespace(self.id)
                .found_or(conn, deleted, || Error::no_such_work_spec(name))
                .map(|_| ())
        })
    }

    /// `Namespace::work_spec_names`, in name order.
    pub(crate) fn list_work_spec_names(&self) -> Result<Vec<String>> {
        #[derive(QueryableByName)]
        struct Name {
            #[diesel(sql_type = diesel::sql_types::Text)]
            name: String,
        }
        let names: Vec<Name> = with_retry(self, Isolation::Autocommit, |conn| {
            Ok(WORK_SPEC_NAMES
                .prepare()
                .bind::<diesel::sql_types::Integer, _>(self.id)
                .load(conn)?)
        })?;
        Ok(names.into_iter().map(|n| n.name).collect())
    }
}

impl WorkSpec for PgWorkSpec {
    fn name(&self) -> &str {
        &self.name
    }

    fn data(&self) -> Result<Data> {
        let bytes: Vec<u8> = with_retry(self, Isolation::Autocommit, |c| {
            Ok(work_spec::table
                .find(self.id)
                .select(work_spec::data)
                .first(c)?)
        })?;
        decode(&bytes)
    }

    fn set_data(&self, data: Data) -> Result<()> {
        let definition = Definition::new(&data, self.namespace.shared.max_data_bytes)?;
        if definition.name != *self.name {
            return Err(Error::ChangedName);
        }
        let now = self.namespace.shared.now();
        // One statement, like `set_work_spec`.
        with_retry(self, Isolation::Autocommit, |conn| {
            match definition.store(conn, self.id, now)? {
                0 => Err(self.gone().into()),
                _ => self.wake(conn),
            }
        })
    }

    fn meta(&self, with_counts: bool) -> Result<WorkSpecMeta> {
        let shared = &self.namespace.shared;
        let now = shared.now();
        with_retry(self, Isolation::RepeatableRead, |conn| {
            let row: MetaRow = work_spec::table
                .find(self.id)
                .select(MetaRow::as_select())
                .first(conn)?;
            if !with_counts {
                return Ok(row.into_meta(0, 0));
            }
            expire_namespace(conn, self.namespace.id, now)?;
            let available: i64 = work_unit::table
                .filter(work_unit::work_spec_id.eq(self.id))
                .filter(work_unit::active_attempt_id.is_null())
                .filter(
                    work_unit::not_before
                        .is_null()
                        .or(work_unit::not_before.le(now)),
                )
                .count()
                .get_result(conn)?;
            let pending = pending_units(conn, self.id)?;
            Ok(row.into_meta(usize::try_from(available).unwrap_or(0), pending))
        })
    }

    fn set_meta(&self, meta: WorkSpecMeta) -> Result<()> {
        validate_interval(meta.interval)?;
        // A single UPDATE needs no snapshot: at READ COMMITTED concurrent
        // writers of the spec queue on its row instead of failing. The
        // follow-up existence check only names the error.
        with_retry(self, Isolation::Autocommit, |conn| {
            // Only a spec defined as continuous may become continuous; the
            // filter leaves the row alone otherwise.
            let updated = diesel::update(
                work_spec::table.find(self.id).filter(
                    work_spec::can_be_continuous
                        .or((!meta.continuous).into_sql::<diesel::sql_types::Bool>()),
                ),
            )
            .set((
                work_spec::priority.eq(meta.priority),
                work_spec::weight.eq(meta.weight),
                work_spec::paused.eq(meta.paused),
                work_spec::continuous.eq(meta.continuous),
                work_spec::interval.eq(interval_to_sql(meta.interval)),
                work_spec::next_continuous.eq(meta.next_continuous),
                work_spec::max_running.eq(meta.max_running),
                work_spec::max_attempts_returned.eq(meta.max_attempts_returned),
                work_spec::max_retries.eq(meta.max_retries),
            ))
            .execute(conn)?;
            match updated {
                0 => {
                    Object::WorkSpec(self.id).found_or(conn, None, || Error::CannotBecomeContinuous)
                }
                _ => self.wake(conn),
            }
        })
    }

    fn add_work_unit(
        &self,
        name: &str,
        data: Data,
        meta: WorkUnitMeta,
    ) -> Result<Arc<dyn WorkUnit>> {
        Ok(Arc::new(self.put_work_unit(name, data, meta)?))
    }

    fn add_work_units(&self, units: Vec<NewWorkUnit>) -> Result<usize> {
        self.put_work_units(units)
    }

    fn work_unit(&self, name: &str) -> Result<Arc<dyn WorkUnit>> {
        Ok(Arc::new(self.find_work_unit(name)?))
    }

    fn work_units(&self, query: &WorkUnitQuery) -> Result<Vec<Arc<dyn WorkUnit>>> {
        self.query_work_units(query)
    }

    fn count_work_unit_status(&self) -> Result<BTreeMap<WorkUnitStatus, usize>> {
        let summary = self.summarize()?;
        let mut counts = BTreeMap::new();
        for record in summary {
            *counts.entry(record.status).or_insert(0) += record.count;
        }
        Ok(counts)
    }

    fn set_work_unit_priorities(&self, query: &WorkUnitQuery, priority: f64) -> Result<()> {
        self.change_priorities(query, priority, false)
    }

    fn adjust_work_unit_priorities(&self, query: &WorkUnitQuery, adjustment: f64) -> Result<()> {
        self.change_priorities(query, adjustment, true)
    }

    fn delete_work_units(&self, query: &WorkUnitQuery) -> Result<usize> {
        self.delete_units(query)
    }

    fn summarize(&self) -> Result<Summary> {
        let now = self.namespace.shared.now();
        with_expiry(self, self.namespace.id, now, |conn| {
            let summary = summarize(conn, now, Scope::WorkSpec(self.id))?;
            Object::WorkSpec(self.id).rows_or_gone(conn, summary)
        })
    }
}
