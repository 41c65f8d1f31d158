//! Listing attempts: a unit's attempts and active attempt, a worker's
//! attempts, and its children's active attempts.

use std::collections::HashMap;
use std::sync::Arc;

use crate::prepared::prepared;
use coordinate_api::{Attempt, Result};
use diesel::dsl::exists;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bytea, Integer, Text};

use crate::attempt::PgAttempt;
use crate::expiry::with_expiry;
use crate::namespace::PgNamespace;
use crate::schema::work_unit;
use crate::transaction::{with_retry, Isolation, Subject, TxResult};
use crate::work_spec::PgWorkSpec;
use crate::work_unit::PgWorkUnit;
use crate::worker::PgWorker;

/// Attempts with their unit, work spec and worker, oldest first, for the
/// condition given (on `a` = attempt, `w` = worker), bound to `$1`.
macro_rules! attempts_sql {
    ($condition:literal) => {
        concat!(
            "SELECT a.id AS attempt_id, u.id AS unit_id, u.name AS unit_name, \
                    s.id AS spec_id, s.name AS spec_name, \
                    w.id AS worker_id, w.name AS worker_name \
               FROM attempt a \
               JOIN work_unit u ON u.id = a.work_unit_id \
               JOIN work_spec s ON s.id = u.work_spec_id \
               JOIN worker w ON w.id = a.worker_id \
              WHERE ",
            $condition,
            " ORDER BY a.id"
        )
    };
}

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

/// Runs one of the [`attempts_sql!`] queries.
fn load(conn: &mut PgConnection, statement: &'static str, id: i32) -> TxResult<Vec<AttemptRow>> {
    Ok(prepared(statement).bind::<Integer, _>(id).load(conn)?)
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
            }) as Arc<dyn Attempt>
        })
        .collect()
}

/// Attempt listings of a work unit.
impl PgWorkUnit {
    fn exists(&self, conn: &mut PgConnection) -> TxResult<bool> {
        Ok(diesel::select(exists(work_unit::table.find(self.id))).get_result(conn)?)
    }

    /// The active attempt, after expiring overdue attempts.
    pub(crate) fn find_active_attempt(&self) -> Result<Option<Arc<dyn Attempt>>> {
        let namespace = &self.spec.namespace;
        let now = namespace.shared.now();
        let rows = with_expiry(self, namespace.id, now, |conn| {
            let rows = load(
                conn,
                attempts_sql!("a.id = (SELECT active_attempt_id FROM work_unit WHERE id = $1)"),
                self.id,
            )?;
            if rows.is_empty() && !self.exists(conn)? {
                return Err(self.gone().into());
            }
            Ok(rows)
        })?;
        Ok(handles(namespace, rows).pop())
    }

    /// Every attempt on the unit, oldest first.
    pub(crate) fn list_attempts(&self) -> Result<Vec<Arc<dyn Attempt>>> {
        let namespace = &self.spec.namespace;
        let rows = with_retry(self, Isolation::RepeatableRead, |conn| {
            let rows = load(conn, attempts_sql!("a.work_unit_id = $1"), self.id)?;
            if rows.is_empty() && !self.exists(conn)? {
                return Err(self.gone().into());
            }
            Ok(rows)
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
        let count: Count = with_retry(self, Isolation::SingleStatement, |conn| {
            Ok(prepared(
                "SELECT (SELECT count(*) FROM attempt WHERE work_unit_id = u.id) AS count \
                   FROM work_unit u WHERE u.id = $1",
            )
            .bind::<Integer, _>(self.id)
            .get_result(conn)?)
        })?;
        Ok(usize::try_from(count.count).unwrap_or(0))
    }
}

/// Which of a worker's attempts to list.
#[derive(Clone, Copy)]
pub(crate) enum WorkerAttempts {
    /// Its attempts still on its active list.
    Active,
    /// Every attempt it ever made.
    All,
    /// The active attempts of its children.
    Children,
}

impl PgWorker {
    /// The worker's (or its children's) attempts, oldest first.
    pub(crate) fn list_attempts(&self, which: WorkerAttempts) -> Result<Vec<Arc<dyn Attempt>>> {
        let statement = match which {
            WorkerAttempts::Active => attempts_sql!("a.worker_id = $1 AND a.active"),
            WorkerAttempts::All => attempts_sql!("a.worker_id = $1"),
            WorkerAttempts::Children => attempts_sql!("w.parent = $1 AND a.active"),
        };
        let namespace = &self.namespace;
        let rows = with_retry(self, Isolation::RepeatableRead, |conn| {
            let rows = load(conn, statement, self.id)?;
            if rows.is_empty() && !self.exists(conn)? {
                return Err(self.gone().into());
            }
            Ok(rows)
        })?;
        Ok(handles(namespace, rows))
    }
}
