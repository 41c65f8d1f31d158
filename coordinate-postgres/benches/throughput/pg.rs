//! Direct SQL next to the API: server facts, bulk history, and checking
//! afterwards that no figure came from skipped work.

use anyhow::{bail, Context, Result};
use diesel::pg::PgConnection;
use diesel::sql_types::{BigInt, Integer, Text};
use diesel::{sql_query, Connection, QueryableByName, RunQueryDsl};

/// A plain connection to the benchmark's database.
pub fn connect(url: &str) -> Result<PgConnection> {
    PgConnection::establish(url).context("connecting to PostgreSQL for checks")
}

#[derive(QueryableByName)]
struct TextRow {
    #[diesel(sql_type = Text)]
    value: String,
}

/// Server version and durability settings, e.g. for the report.
pub fn server_facts(conn: &mut PgConnection) -> Result<(String, String)> {
    let one = |conn: &mut PgConnection, setting: &str| -> Result<String> {
        let row: TextRow =
            sql_query(format!("SELECT current_setting('{setting}') AS value")).get_result(conn)?;
        Ok(row.value)
    };
    let version = one(conn, "server_version")?;
    let durability = format!(
        "fsync={} synchronous_commit={} full_page_writes={}",
        one(conn, "fsync")?,
        one(conn, "synchronous_commit")?,
        one(conn, "full_page_writes")?
    );
    Ok((version, durability))
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = Integer)]
    id: i32,
}

/// The id of the work spec `spec` of namespace `ns`.
pub fn spec_id(conn: &mut PgConnection, ns: &str, spec: &str) -> Result<i32> {
    let spec: Id = sql_query(
        "SELECT s.id FROM work_spec s JOIN namespace n ON n.id = s.namespace_id \
          WHERE n.name = $1 AND s.name = $2",
    )
    .bind::<Text, _>(ns)
    .bind::<Text, _>(spec)
    .get_result(conn)?;
    Ok(spec.id)
}

/// Ids of the work spec `spec` and the worker `worker` of namespace `ns`.
pub fn ids(conn: &mut PgConnection, ns: &str, spec: &str, worker: &str) -> Result<(i32, i32)> {
    let spec = spec_id(conn, ns, spec)?;
    let worker: Id = sql_query(
        "SELECT w.id FROM worker w JOIN namespace n ON n.id = w.namespace_id \
          WHERE n.name = $1 AND w.name = $2",
    )
    .bind::<Text, _>(ns)
    .bind::<Text, _>(worker)
    .get_result(conn)?;
    Ok((spec, worker.id))
}

/// `count` available units in spec `spec_id`, named `u0000000`, `u0000001`,
/// … (in one statement: a million through the API would take minutes).
pub fn load_available(conn: &mut PgConnection, spec_id: i32, count: i64) -> Result<()> {
    sql_query(
        "INSERT INTO work_unit (work_spec_id, name, data, priority) \
         SELECT $1, convert_to('u' || lpad(g::text, 7, '0'), 'UTF8'), '\\xa0'::bytea, 0 \
           FROM generate_series(0, $2 - 1) AS g",
    )
    .bind::<Integer, _>(spec_id)
    .bind::<BigInt, _>(count)
    .execute(conn)?;
    Ok(())
}

/// Units of a spec by what happened to them.
#[derive(QueryableByName, Debug)]
pub struct Tally {
    /// Units with no attempt at all.
    #[diesel(sql_type = BigInt)]
    pub untouched: i64,
    /// Units with exactly one attempt, finished and still the active one.
    #[diesel(sql_type = BigInt)]
    pub finished_once: i64,
    /// Units with an attempt that is still pending.
    #[diesel(sql_type = BigInt)]
    pub pending: i64,
    /// Everything else: more than one attempt, or an attempt that is not
    /// finished, or a finished one that is not active.
    #[diesel(sql_type = BigInt)]
    pub bad: i64,
}

/// Counts what happened to every unit of spec `spec_id`.
pub fn tally(conn: &mut PgConnection, spec_id: i32) -> Result<Tally> {
    Ok(sql_query(
        "WITH per_unit AS ( \
             SELECT u.id, count(a.id) AS attempts, \
                    bool_and(a.status = 'finished' AND a.id = u.active_attempt_id) AS done, \
                    bool_or(a.status = 'pending') AS pending \
               FROM work_unit u LEFT JOIN attempt a ON a.work_unit_id = u.id \
              WHERE u.work_spec_id = $1 GROUP BY u.id) \
         SELECT count(*) FILTER (WHERE attempts = 0) AS untouched, \
                count(*) FILTER (WHERE attempts = 1 AND done) AS finished_once, \
                count(*) FILTER (WHERE attempts = 1 AND pending) AS pending, \
                count(*) FILTER (WHERE attempts > 1 OR (attempts = 1 AND NOT done \
                                                        AND NOT pending)) AS bad \
           FROM per_unit",
    )
    .bind::<Integer, _>(spec_id)
    .get_result(conn)?)
}

/// Checks that `finished` units of the spec were finished exactly once and
/// that `untouched` were never handed out.
pub fn verify(conn: &mut PgConnection, spec_id: i32, finished: i64, untouched: i64) -> Result<()> {
    let t = tally(conn, spec_id)?;
    if t.bad != 0 || t.pending != 0 || t.finished_once != finished || t.untouched != untouched {
        bail!(
            "check failed for work spec {spec_id}: expected {finished} units finished once and \
             {untouched} untouched, found {t:?}"
        );
    }
    Ok(())
}

/// Adds `count` units to the spec, each with one finished attempt by
/// `worker`, straight in SQL (much faster than through the API).
pub fn load_history(
    conn: &mut PgConnection,
    spec_id: i32,
    worker_id: i32,
    count: i64,
) -> Result<()> {
    sql_query(
        "INSERT INTO work_unit (work_spec_id, name, data, priority) \
         SELECT $1, convert_to('history' || lpad(g::text, 9, '0'), 'UTF8'), '\\xa0'::bytea, 0 \
           FROM generate_series(1, $2) AS g",
    )
    .bind::<Integer, _>(spec_id)
    .bind::<BigInt, _>(count)
    .execute(conn)?;
    sql_query(
        "WITH made AS ( \
             INSERT INTO attempt (work_unit_id, work_spec_id, worker_id, status, start_time, \
                                  end_time, expiration_time, active) \
             SELECT u.id, $1, $2, 'finished', now() - interval '1 hour', now(), now(), false \
               FROM work_unit u WHERE u.work_spec_id = $1 \
             RETURNING id, work_unit_id) \
         UPDATE work_unit u SET active_attempt_id = made.id \
           FROM made WHERE u.id = made.work_unit_id",
    )
    .bind::<Integer, _>(spec_id)
    .bind::<Integer, _>(worker_id)
    .execute(conn)?;
    Ok(())
}

/// Brings the planner's statistics and the visibility map up to date after
/// a bulk load, as autovacuum would soon do by itself, then flushes the
/// load to disk: otherwise the checkpoint a million-row load triggers
/// lands inside the next measurement and shows up as its p99.
pub fn vacuum(conn: &mut PgConnection) -> Result<()> {
    sql_query("VACUUM ANALYZE work_unit, attempt").execute(conn)?;
    if let Err(error) = sql_query("CHECKPOINT").execute(conn) {
        // Needs superuser or pg_checkpoint; a user's own server may not
        // grant it. The figures stand, with more noise.
        static WARNED: std::sync::Once = std::sync::Once::new();
        WARNED.call_once(|| {
            eprintln!("bench: no CHECKPOINT before measuring ({error}); expect noisier p99s");
        });
    }
    Ok(())
}

/// Transactions the server committed in this database so far
/// (`pg_stat_database.xact_commit`, which counts every other session's
/// too: the bench is the only client). Sessions hand their counts to the
/// view when idle, at the latest after 10 s (PostgreSQL 15), so this
/// waits 11 s first, and clears this session's cached snapshot.
pub fn commits(conn: &mut PgConnection) -> Result<i64> {
    std::thread::sleep(std::time::Duration::from_secs(11));
    #[derive(diesel::QueryableByName)]
    struct Commits {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    sql_query("SELECT pg_stat_clear_snapshot()").execute(conn)?;
    let row: Commits = sql_query(
        "SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()",
    )
    .get_result(conn)?;
    Ok(row.n)
}

/// Id of the namespace called `name`.
pub fn namespace_id(conn: &mut PgConnection, name: &str) -> Result<i32> {
    let row: Id = sql_query("SELECT id FROM namespace WHERE name = $1")
        .bind::<Text, _>(name)
        .get_result(conn)?;
    Ok(row.id)
}

/// Finished attempts per unit of a spec, over the units that were handed
/// out at all: what the load row checks (issue 21: every claimed unit
/// finished exactly once).
#[derive(QueryableByName, Debug)]
pub struct Finishes {
    /// Units with at least one attempt.
    #[diesel(sql_type = BigInt)]
    pub claimed: i64,
    /// Units with exactly one finished attempt.
    #[diesel(sql_type = BigInt)]
    pub finished_once: i64,
    /// Units with two finished attempts or more.
    #[diesel(sql_type = BigInt)]
    pub finished_twice: i64,
    /// Units with an attempt but no finished one.
    #[diesel(sql_type = BigInt)]
    pub unfinished: i64,
}

impl Finishes {
    /// Units that break the rule: finished twice, or claimed and never
    /// finished.
    pub fn violations(&self) -> i64 {
        self.finished_twice + self.unfinished
    }
}

/// Counts the finished attempts of every unit of spec `spec_id`.
pub fn finishes(conn: &mut PgConnection, spec_id: i32) -> Result<Finishes> {
    Ok(sql_query(
        "WITH per_unit AS ( \
             SELECT a.work_unit_id, count(*) FILTER (WHERE a.status = 'finished') AS finished \
               FROM attempt a JOIN work_unit u ON u.id = a.work_unit_id \
              WHERE u.work_spec_id = $1 GROUP BY a.work_unit_id) \
         SELECT count(*) AS claimed, \
                count(*) FILTER (WHERE finished = 1) AS finished_once, \
                count(*) FILTER (WHERE finished > 1) AS finished_twice, \
                count(*) FILTER (WHERE finished = 0) AS unfinished \
           FROM per_unit",
    )
    .bind::<Integer, _>(spec_id)
    .get_result(conn)?)
}
