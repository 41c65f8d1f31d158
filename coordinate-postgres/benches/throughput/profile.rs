//! Statements and transactions per call, counted by `pg_stat_statements`
//! (when the server preloads it; `cargo xtask bench`'s throwaway server
//! does): what one `request_attempts`, one `finish` and one
//! `complete_attempts` of 100 cost in round trips.

use std::sync::Arc;

use anyhow::{bail, Result};
use coordinate_api::{Attempt, AttemptRequest, Completion, Coordinate, Outcome};
use diesel::pg::PgConnection;
use diesel::sql_types::{BigInt, Double, Text};
use diesel::{sql_query, QueryableByName, RunQueryDsl};

use crate::api::{fresh_spec, preload};

/// One statement's share of a call.
#[derive(QueryableByName, Debug, Clone)]
pub struct Statement {
    /// Normalized query text, shortened.
    #[diesel(sql_type = Text)]
    pub query: String,
    /// Executions in the profiled calls.
    #[diesel(sql_type = BigInt)]
    pub calls: i64,
    /// Mean execution time in milliseconds.
    #[diesel(sql_type = Double)]
    pub mean_ms: f64,
}

/// What one API call costs.
#[derive(Debug, Clone)]
pub struct Profile {
    /// The call, e.g. `request_attempts (batch 1)`.
    pub call: String,
    /// Calls profiled.
    pub calls: u64,
    /// Statements sent, including `BEGIN` and `COMMIT`.
    pub statements: Vec<Statement>,
}

impl Profile {
    /// Round trips per call.
    pub fn statements_per_call(&self) -> f64 {
        self.statements.iter().map(|s| s.calls).sum::<i64>() as f64 / self.calls as f64
    }

    /// Explicit transactions per call (`COMMIT`s sent). Statements sent
    /// outside one are transactions of their own, which pg_stat_statements
    /// does not tell apart from statements inside one.
    pub fn commits_per_call(&self) -> f64 {
        self.statements
            .iter()
            .filter(|s| s.query.to_uppercase().starts_with("COMMIT"))
            .map(|s| s.calls)
            .sum::<i64>() as f64
            / self.calls as f64
    }
}

/// Whether `pg_stat_statements` can be used in this database.
pub fn available(conn: &mut PgConnection) -> bool {
    sql_query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .execute(conn)
        .is_ok()
        && sql_query("SELECT pg_stat_statements_reset()")
            .execute(conn)
            .is_ok()
}

fn reset(conn: &mut PgConnection) -> Result<()> {
    sql_query("SELECT pg_stat_statements_reset()").execute(conn)?;
    Ok(())
}

/// Statements since the last reset, leaving out this connection's own
/// (the reset and this query, which mention pg_stat_statements).
fn read(conn: &mut PgConnection) -> Result<Vec<Statement>> {
    Ok(sql_query(
        "SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS query, \
                sum(calls)::int8 AS calls, \
                (sum(total_exec_time) / greatest(sum(calls), 1))::float8 AS mean_ms \
           FROM pg_stat_statements \
          WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
            AND query NOT ILIKE '%pg_stat_statements%' \
          GROUP BY 1 ORDER BY 2 DESC, 1",
    )
    .load(conn)?)
}

/// Profiles `count` single-unit `request_attempts` calls, then `count`
/// `finish` calls, one worker, nothing else running.
pub fn run(
    coordinate: &Arc<dyn Coordinate>,
    conn: &mut PgConnection,
    count: u64,
) -> Result<Vec<Profile>> {
    let (namespace, spec) = fresh_spec(coordinate, "profile")?;
    preload(&spec, "u", count)?;
    let worker = namespace.worker("worker-0")?;
    let request = AttemptRequest {
        work_specs: vec!["spec".into()],
        ..AttemptRequest::default()
    };
    // Warm the pool's connections and prepared statements first.
    for attempt in worker.request_attempts(&request)? {
        attempt.finish(None)?;
    }
    reset(conn)?;
    let mut attempts: Vec<Arc<dyn Attempt>> = Vec::new();
    for _ in 1..count {
        attempts.extend(worker.request_attempts(&request)?);
    }
    let claimed = read(conn)?;
    if attempts.len() as u64 != count - 1 {
        bail!(
            "profile claimed {} units, wanted {}",
            attempts.len(),
            count - 1
        );
    }
    reset(conn)?;
    for attempt in &attempts {
        attempt.finish(None)?;
    }
    let finished = read(conn)?;
    namespace.destroy()?;
    let completed = profile_batch(coordinate, conn)?;
    Ok(vec![
        Profile {
            call: "request_attempts (batch 1)".into(),
            calls: count - 1,
            statements: claimed,
        },
        Profile {
            call: "finish".into(),
            calls: count - 1,
            statements: finished,
        },
        Profile {
            call: format!("complete_attempts ({BATCH} finishes)"),
            calls: 1,
            statements: completed,
        },
    ])
}

/// The completion batch profiled.
const BATCH: usize = 100;

/// The statements of one `complete_attempts` of 100 finishes (issue 12:
/// at most 3 statements and 1 commit, whatever the batch size).
fn profile_batch(
    coordinate: &Arc<dyn Coordinate>,
    conn: &mut PgConnection,
) -> Result<Vec<Statement>> {
    let (namespace, spec) = fresh_spec(coordinate, "profile-batch")?;
    preload(&spec, "u", BATCH as u64 + 1)?;
    let worker = namespace.worker("worker-0")?;
    let mut request = AttemptRequest {
        work_specs: vec!["spec".into()],
        ..AttemptRequest::default()
    };
    // Warm the batch path's statements on the pool first.
    let warm: Vec<Completion> = worker
        .request_attempts(&request)?
        .into_iter()
        .map(|a| Completion::new(a, Outcome::Finish(None)))
        .collect();
    namespace.complete_attempts(&warm)?;
    request.number_of_work_units = BATCH;
    let batch: Vec<Completion> = worker
        .request_attempts(&request)?
        .into_iter()
        .map(|a| Completion::new(a, Outcome::Finish(None)))
        .collect();
    if batch.len() != BATCH {
        bail!(
            "profile claimed {} units for the batch, wanted {BATCH}",
            batch.len()
        );
    }
    reset(conn)?;
    for answer in namespace.complete_attempts(&batch)? {
        answer?;
    }
    let statements = read(conn)?;
    namespace.destroy()?;
    Ok(statements)
}

/// The profiles as text for the end of the run.
pub fn describe(profiles: &[Profile]) -> String {
    let mut out = String::new();
    for p in profiles {
        out.push_str(&format!(
            "one {}: {:.2} statements (round trips), {:.2} explicit transactions \
             (any other statement is its own transaction)\n",
            p.call,
            p.statements_per_call(),
            p.commits_per_call()
        ));
        for s in &p.statements {
            out.push_str(&format!(
                "  {:>5.2}x  {:>7.3} ms  {}\n",
                s.calls as f64 / p.calls as f64,
                s.mean_ms,
                s.query
            ));
        }
    }
    out
}
