//! Listing attempts: a unit's attempts and active attempt, a worker's
//! attempts, and its children's active attempts.

use std::collections::HashMap;
use std::sync::Arc;

use coordinate_api::{Attempt, Result};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bytea, Integer, Text};

use crate::claim::expiry::with_expiry;
use crate::db::gone::Object;
use crate::db::transaction::{with_retry, Isolation, TxResult};
use crate::handle::attempt::PgAttempt;
use crate::handle::namespace::PgNamespace;
use crate::handle::work_spec::PgWorkSpec;
use crate::handle::work_unit::PgWorkUnit;
use crate::handle::worker::PgWorker;
use crate::sql::attempt::{
    CHILD_ACTIVE_ATTEMPTS, COUNT_UNIT_ATTEMPTS, UNIT_ACTIVE_ATTEMPT, UNIT_ATTEMPTS,
    WORKER_ACTIVE_ATTEMPTS, WORKER_ATTEMPTS,
};
use crate::sql::Statement;

/// A row of the attempt listings in `sql::attempt`.
#[derive(QueryableByName)]
struct AttemptRow {
    #[diesel(sql_type = Integer)]
    attempt_id: i32,
    #[diesel(sql_type = Integer)]
    unit_id: i32,
    #[diesel(sql_type = Bytea)]
    unit_name: Vec<u8>,
    #[diesel(sql_type = Integer)]
    spec_id: i32,
    #[diesel(sql_type = Text)]
    spec_name: String,
    #[diesel(sql_type = Integer)]
    worker_id: i32,
    #[diesel(sql_type = Text)]
    worker_name: String,
}

/// Runs one of the attempt listings for the id it takes.
fn load(
    conn: &mut PgConnection,
    statement: &'static Statement,
    id: i32,
) -> TxResult<Vec<AttemptRow>> {
    Ok(statement.prepare().bind::<Integer, _>(id).load(conn)?)
}

/// Turns rows into handles, sharing one work spec handle per spec.
fn handles(namespace: &PgNamespace, rows: Vec<AttemptRow>) -> Vec<Arc<dyn Attempt>> {
    let mut specs: HashMap<i32, PgWorkSpec> = HashMap::new();
    rows.into_iter()
        .map(|row| {
            let spec = specs
                .entry(row.spec_id)
                .or_insert_with(|| PgWorkSpec::new(namespace.clone(), row.spec_id, row.spec_name))
                .clone();
            Arc::new(PgAttempt {
                unit: PgWorkUnit::new(spec, row.unit_id, &row.unit_name),
                worker: PgWorker::new(namespace.clone(), row.worker_id, row.worker_name),
                id: row.attempt_id,
                claimed: None,
            }) as Arc<dyn Attempt>
        })
        .collect()
}

/// Attempt listings of a work unit.
impl PgWorkUnit {
    /// The active attempt, after expiring overdue attempts.
    pub(crate) fn find_active_attempt(&self) -> Result<Option<Arc<dyn Attempt>>> {
        let namespace = &self.spec.namespace;
        let now = namespace.shared.now();
        let rows = with_expiry(self, namespace.id, now, |conn| {
            let rows = load(conn, &UNIT_ACTIVE_ATTEMPT, self.id)?;
            Object::WorkUnit(self.id).rows_or_gone(conn, rows)
        })?;
        Ok(handles(namespace, rows).pop())
    }

    /// Every attempt on the unit, oldest first.
    pub(crate) fn list_attempts(&self) -> Result<Vec<Arc<dyn Attempt>>> {
        let namespace = &self.spec.namespace;
        let rows = with_retry(self, Isolation::RepeatableRead, |conn| {
            let rows = load(conn, &UNIT_ATTEMPTS, self.id)?;
            Object::WorkUnit(self.id).rows_or_gone(conn, rows)
        })?;
        Ok(handles(namespace, rows))
    }

    /// How many attempts the unit has had.
    pub(crate) fn count_attempts(&self) -> Result<usize> {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            count: i64,
        }
        let count: Count = with_retry(self, Isolation::Autocommit, |conn| {
            Ok(COUNT_UNIT_ATTEMPTS
                .prepare()
                .bind::<Integer, _>(self.id)
                .get_result(conn)?)
        })?;
        Ok(usize::try_from(count.count).unwrap_or(0))
    }
}

/// Which of a worker's attempts to list.
#[derive(Clone, Copy)]
enum WorkerAttempts {
    /// Its attempts still on its active list.
    Active,
    /// Every attempt it ever made.
    All,
    /// The active attempts of its children.
    Children,
}

impl PgWorker {
    /// `Worker::active_attempts`.
    pub(crate) fn load_active_attempts(&self) -> Result<Vec<Arc<dyn Attempt>>> {
        self.list_attempts(WorkerAttempts::Active)
    }

    /// `Worker::all_attempts`.
    pub(crate) fn load_all_attempts(&self) -> Result<Vec<Arc<dyn Attempt>>> {
        self.list_attempts(WorkerAttempts::All)
    }

    /// `Worker::child_attempts`.
    pub(crate) fn load_child_attempts(&self) -> Result<Vec<Arc<dyn Attempt>>> {
        self.list_attempts(WorkerAttempts::Children)
    }

    /// The worker's (or its children's) attempts, oldest first.
    fn list_attempts(&self, which: WorkerAttempts) -> Result<Vec<Arc<dyn Attempt>>> {
        let statement = match which {
            WorkerAttempts::Active => &WORKER_ACTIVE_ATTEMPTS,
            WorkerAttempts::All => &WORKER_ATTEMPTS,
            WorkerAttempts::Children => &CHILD_ACTIVE_ATTEMPTS,
        };
        let namespace = &self.namespace;
        let rows = with_retry(self, Isolation::RepeatableRead, |conn| {
            let rows = load(conn, statement, self.id)?;
            Object::Worker(self.id).rows_or_gone(conn, rows)
        })?;
        Ok(handles(namespace, rows))
    }
}
