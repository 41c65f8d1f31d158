//! The transactional stress form (`--transactional`): each handler that
//! finishes its unit also increments the unit's counter row in a table of
//! the "application", in the same transaction as the finish
//! (`TransactionalHandler`). Whatever the faults, the check then finds
//! every finished unit counted exactly once and every other unit not at
//! all: no effect lost, none doubled.

use anyhow::{Context, Result};
use coordinate_api::runtime::{Job, JobError};
use diesel::pg::PgConnection;
use diesel::sql_types::{BigInt, Integer, Text};
use diesel::{sql_query, QueryableByName, RunQueryDsl};

use crate::check::UNITS;

/// The application's table, shared by every run (keyed by namespace).
const CREATE: &str = "CREATE TABLE IF NOT EXISTS stress_counters (\
     namespace text NOT NULL, spec text NOT NULL, unit text NOT NULL, n integer NOT NULL, \
     PRIMARY KEY (namespace, spec, unit))";

/// Makes the table (`load`).
pub fn create(conn: &mut PgConnection) -> Result<()> {
    sql_query(CREATE)
        .execute(conn)
        .context("creating stress_counters")?;
    Ok(())
}

/// The handler's effect: one more for this unit, on the handler's
/// connection inside its transaction.
pub fn increment(conn: &mut PgConnection, namespace: &str, job: &Job) -> Result<(), JobError> {
    sql_query(
        "INSERT INTO stress_counters (namespace, spec, unit, n) VALUES ($1, $2, $3, 1) \
         ON CONFLICT (namespace, spec, unit) DO UPDATE SET n = stress_counters.n + 1",
    )
    .bind::<Text, _>(namespace)
    .bind::<Text, _>(job.work_spec_name())
    .bind::<Text, _>(job.work_unit_name())
    .execute(conn)
    .map_err(JobError::new)?;
    Ok(())
}

/// Units whose counter is not what their outcome says: 1 if finished, 0
/// otherwise. `$1` is the namespace id, `$2` its name.
const WRONG: &str =
    "SELECT count(*) AS n FROM units u JOIN attempt a ON a.id = u.active_attempt_id \
     LEFT JOIN stress_counters c ON c.namespace = $2 AND c.spec = u.spec \
     AND c.unit = convert_from(u.name, 'UTF8') \
     WHERE COALESCE(c.n, 0) <> CASE WHEN a.status = 'finished' THEN 1 ELSE 0 END";

/// Counters for units the namespace does not have.
const STRAY: &str = "SELECT count(*) AS n FROM stress_counters c WHERE c.namespace = $2 \
     AND NOT EXISTS (SELECT 1 FROM units u WHERE u.spec = c.spec \
     AND u.name = convert_to(c.unit, 'UTF8'))";

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// `"name":count` pairs of the broken checks, and their total; removes
/// the namespace's counters when nothing is broken.
pub fn check(
    conn: &mut PgConnection,
    namespace_id: i32,
    namespace: &str,
) -> Result<(Vec<String>, i64)> {
    let mut broken = Vec::new();
    let mut total = 0;
    for (name, body) in [
        ("counter_not_exactly_once", WRONG),
        ("stray_counter", STRAY),
    ] {
        let row: Count = sql_query(format!("WITH {UNITS} {body}"))
            .bind::<Integer, _>(namespace_id)
            .bind::<Text, _>(namespace)
            .get_result(conn)
            .with_context(|| format!("running {name}"))?;
        if row.n != 0 {
            broken.push(format!("\"{name}\":{}", row.n));
            total += row.n;
        }
    }
    if total == 0 {
        sql_query("DELETE FROM stress_counters WHERE namespace = $1")
            .bind::<Text, _>(namespace)
            .execute(conn)?;
    }
    Ok((broken, total))
}
