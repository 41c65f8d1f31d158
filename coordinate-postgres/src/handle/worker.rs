//! Workers: the `worker` table and the `Worker` trait.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use coordinate_api::backend::validate::{
    add_duration, validate_name, validate_parent, validate_text, validate_unit_namespace,
};
use coordinate_api::data::{decode, encode};
use coordinate_api::query::DEFAULT_LIFETIME;
use coordinate_api::{
    downcast, Attempt, AttemptRequest, Data, Error, ObjectKind, Result, WorkUnit, Worker,
};
use diesel::prelude::*;
use diesel::sql_types::Integer;

use crate::claim::{insert_attempt, request_attempts};
use crate::db::gone::gone_if_zero;
use crate::db::gone::Object;
use crate::db::shared::Shared;
use crate::db::transaction::{with_retry, Isolation, Subject, TxError};
use crate::handle::attempt::PgAttempt;
use crate::handle::namespace::PgNamespace;
use crate::handle::work_spec::PgWorkSpec;
use crate::handle::work_unit::PgWorkUnit;
use crate::schema::worker;
use crate::sql::unit::{CHILD_WORKERS, WORKERS};
use crate::sql::IdName;

/// Reads one column of a worker's row.
macro_rules! read_column {
    ($worker:expr, $column:expr) => {
        with_retry($worker, Isolation::Autocommit, |conn| {
            Ok(worker::table.find($worker.id).select($column).first(conn)?)
        })
    };
}

/// Handle to one worker.
#[derive(Clone)]
pub(crate) struct PgWorker {
    pub(crate) namespace: PgNamespace,
    pub(crate) id: i32,
    pub(crate) name: Arc<str>,
}

/// Names this worker in [`Error::Gone`] when it or its namespace was
/// deleted.
impl Subject for PgWorker {
    fn shared(&self) -> &Shared {
        &self.namespace.shared
    }

    fn gone(&self) -> Error {
        Error::gone(ObjectKind::Worker, &*self.name)
    }
}

impl PgWorker {
    /// A handle to worker `id` of `namespace`, called `name`.
    pub(crate) fn new(namespace: PgNamespace, id: i32, name: String) -> Self {
        PgWorker {
            namespace,
            id,
            name: name.into(),
        }
    }

    fn shared(&self) -> &crate::db::shared::Shared {
        &self.namespace.shared
    }

    /// Runs an update of the worker's row; no row means it is gone.
    fn change<U>(&self, changes: U) -> Result<()>
    where
        U: diesel::AsChangeset<Target = worker::table> + Clone,
        U::Changeset: diesel::query_builder::QueryFragment<diesel::pg::Pg>,
    {
        with_retry(self, Isolation::Autocommit, |conn| {
            let changed = diesel::update(worker::table.find(self.id))
                .set(changes.clone())
                .execute(conn)?;
            gone_if_zero(changed)
        })
    }
}

/// Worker functions of a namespace.
impl PgNamespace {
    /// `Namespace::worker`: the worker called `name`, created if needed.
    pub(crate) fn get_or_create_worker(&self, name: &str) -> Result<PgWorker> {
        validate_name("worker name", name)?;
        let now = self.shared.now();
        let expiration = add_duration("worker expiration", now, DEFAULT_LIFETIME)?;
        let empty = encode(&Data::new())?;
        let id = with_retry(self, Isolation::RepeatableRead, |conn| {
            let existing = worker::table
                .filter(worker::namespace_id.eq(self.id))
                .filter(worker::name.eq(name))
                .select(worker::id)
                .first::<i32>(conn)
                .optional()?;
            if let Some(id) = existing {
                return Ok(id);
            }
            // A deleted namespace fails the foreign key: Error::Gone.
            diesel::insert_into(worker::table)
                .values((
                    worker::namespace_id.eq(self.id),
                    worker::name.eq(name),
                    worker::active.eq(true),
                    worker::mode.eq(""),
                    worker::data.eq(&empty),
                    worker::expiration.eq(expiration),
                    worker::last_update.eq(now),
                ))
                .on_conflict_do_nothing()
                .returning(worker::id)
                .get_result::<i32>(conn)
                .optional()?
                .ok_or(TxError::Retry)
        })?;
        Ok(PgWorker::new(self.clone(), id, name.to_owned()))
    }

    /// `Namespace::workers`, in name order.
    pub(crate) fn list_workers(&self) -> Result<Vec<Arc<dyn Worker>>> {
        let rows: Vec<IdName> = with_retry(self, Isolation::Autocommit, |conn| {
            Ok(WORKERS.prepare().bind::<Integer, _>(self.id).load(conn)?)
        })?;
        Ok(rows
            .into_iter()
            .map(|row| Arc::new(PgWorker::new(self.clone(), row.id, row.name)) as _)
            .collect())
    }
}

impl Worker for PgWorker {
    fn name(&self) -> &str {
        &self.name
    }

    fn parent(&self) -> Result<Option<Arc<dyn Worker>>> {
        let parents = diesel::alias!(worker as parents);
        let row: Option<(i32, String)> = with_retry(self, Isolation::Autocommit, |conn| {
            let found: (i32, Option<(i32, String)>) = worker::table
                .left_join(parents.on(parents.field(worker::id).nullable().eq(worker::parent)))
                .filter(worker::id.eq(self.id))
                .select((
                    worker::id,
                    (parents.field(worker::id), parents.field(worker::name)).nullable(),
                ))
                .first(conn)?;
            Ok(found.1)
        })?;
        Ok(row.map(|(id, name)| {
            Arc::new(PgWorker::new(self.namespace.clone(), id, name)) as Arc<dyn Worker>
        }))
    }

    fn set_parent(&self, parent: Option<Arc<dyn Worker>>) -> Result<()> {
        let parent_id = match &parent {
            None => None,
            Some(parent) => {
                let parent = downcast::<PgWorker>(parent.as_ref())?;
                validate_parent(
                    self.namespace.is_same(&parent.namespace),
                    parent.id == self.id,
                )?;
                Some(parent.id)
            }
        };
        // A deleted parent fails the foreign key: Error::Gone.
        self.change(worker::parent.eq(parent_id))
    }

    fn children(&self) -> Result<Vec<Arc<dyn Worker>>> {
        let rows = with_retry(self, Isolation::RepeatableRead, |conn| {
            let rows: Vec<IdName> = CHILD_WORKERS
                .prepare()
                .bind::<Integer, _>(self.id)
                .load(conn)?;
            Object::Worker(self.id).rows_or_gone(conn, rows)
        })?;
        Ok(rows
            .into_iter()
            .map(|row| (row.id, row.name))
            .map(|(id, name)| Arc::new(PgWorker::new(self.namespace.clone(), id, name)) as _)
            .collect())
    }

    fn active(&self) -> Result<bool> {
        read_column!(self, worker::active)
    }

    fn deactivate(&self) -> Result<()> {
        self.change(worker::active.eq(false))
    }

    fn mode(&self) -> Result<String> {
        read_column!(self, worker::mode)
    }

    fn data(&self) -> Result<Data> {
        let bytes: Vec<u8> = read_column!(self, worker::data)?;
        // go-coordinate writes empty bytes for a worker without data.
        if bytes.is_empty() {
            return Ok(Data::new());
        }
        decode(&bytes)
    }

    fn expiration(&self) -> Result<DateTime<Utc>> {
        read_column!(self, worker::expiration)
    }

    fn last_update(&self) -> Result<DateTime<Utc>> {
        read_column!(self, worker::last_update)
    }

    fn update(
        &self,
        data: Data,
        now: DateTime<Utc>,
        expiration: DateTime<Utc>,
        mode: &str,
    ) -> Result<()> {
        validate_text("mode", mode)?;
        let bytes = self.shared().encode(&data)?;
        self.change((
            worker::active.eq(true),
            worker::mode.eq(mode),
            worker::data.eq(&bytes),
            worker::expiration.eq(expiration),
            worker::last_update.eq(now),
        ))
    }

    fn request_attempts(&self, request: &AttemptRequest) -> Result<Vec<Arc<dyn Attempt>>> {
        let Some(claimed) = request_attempts(self, self.namespace.id, self.id, request)? else {
            return Ok(Vec::new());
        };
        let spec = PgWorkSpec::new(self.namespace.clone(), claimed.spec_id, claimed.spec_name);
        Ok(claimed
            .units
            .into_iter()
            .map(|unit| {
                Arc::new(PgAttempt {
                    unit: PgWorkUnit::new(spec.clone(), unit.unit_id, &unit.name),
                    worker: self.clone(),
                    id: unit.attempt_id,
                    claimed: unit.data.map(Arc::new),
                }) as Arc<dyn Attempt>
            })
            .collect())
    }

    fn make_attempt(
        &self,
        unit: Arc<dyn WorkUnit>,
        lifetime: Duration,
    ) -> Result<Arc<dyn Attempt>> {
        let unit = downcast::<PgWorkUnit>(unit.as_ref())?;
        validate_unit_namespace(self.namespace.is_same(&unit.spec.namespace))?;
        let now = self.shared().now();
        let expiration = add_duration("lifetime", now, lifetime)?;
        let id = with_retry(self, Isolation::RepeatableRead, |conn| {
            insert_attempt(conn, unit.id, self.id, now, expiration)?
                .ok_or_else(|| self.gone().into())
        })?;
        Ok(Arc::new(PgAttempt {
            unit: unit.clone(),
            worker: self.clone(),
            id,
            claimed: None,
        }))
    }

    fn active_attempts(&self) -> Result<Vec<Arc<dyn Attempt>>> {
        self.load_active_attempts()
    }

    fn all_attempts(&self) -> Result<Vec<Arc<dyn Attempt>>> {
        self.load_all_attempts()
    }

    fn child_attempts(&self) -> Result<Vec<Arc<dyn Attempt>>> {
        self.load_child_attempts()
    }
}
