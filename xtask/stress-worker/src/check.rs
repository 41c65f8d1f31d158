//! `stress check`: the invariants of a drained namespace, checked directly
//! in SQL so that no backend code judges its own work.
//!
//! Two attempts of one unit count as pending at the same time when their
//! leases overlap. A lease runs from `start_time` to `end_time` when the
//! attempt was finished, failed or retried. An attempt that expired held
//! its lease only until `expiration_time`: its `end_time` is when some
//! worker's expiry pass noticed, which can be later than the moment the
//! lease ran out, and a unit whose lease ran out may be claimed by others.

use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use coordinate_api::Coordinate;
use coordinate_postgres::PostgresCoordinate;
use diesel::pg::PgConnection;
use diesel::sql_types::{BigInt, Integer};
use diesel::{sql_query, Connection, QueryableByName, RunQueryDsl};

use crate::{counters, failover, Options, OUTPUT_PREFIX, STAGE1, STAGE2};

/// The namespace's units with their work spec's name; `$1` is the
/// namespace id.
pub(crate) const UNITS: &str =
    "units AS (SELECT u.id, u.name, u.active_attempt_id, u.work_spec_id, \
     s.name AS spec FROM work_unit u JOIN work_spec s ON s.id = u.work_spec_id \
     WHERE s.namespace_id = $1)";

/// Each invariant as a query counting the rows that break it.
const VIOLATIONS: &[(&str, &str)] = &[
    (
        // Finished or failed, and that outcome is the unit's active attempt.
        "unit_not_terminal",
        "SELECT count(*) AS n FROM units u LEFT JOIN attempt a ON a.id = u.active_attempt_id \
         WHERE a.id IS NULL OR a.status NOT IN ('finished', 'failed')",
    ),
    (
        "unit_terminal_not_exactly_once",
        "SELECT count(*) AS n FROM (SELECT count(a.id) AS c FROM units u LEFT JOIN attempt a \
         ON a.work_unit_id = u.id AND a.status IN ('finished', 'failed') GROUP BY u.id) t \
         WHERE c <> 1",
    ),
    (
        "active_attempt_of_other_unit",
        "SELECT count(*) AS n FROM units u JOIN attempt a ON a.id = u.active_attempt_id \
         WHERE a.work_unit_id <> u.id",
    ),
    (
        // The earlier attempt was finished, failed or retried: its unit was
        // never free before `end_time`.
        "overlap_with_completed_attempt",
        "SELECT count(*) AS n FROM leases x JOIN leases y \
         ON x.work_unit_id = y.work_unit_id AND x.id < y.id \
         WHERE x.start_time < y.lease_end AND y.start_time < x.lease_end \
         AND x.status <> 'expired'",
    ),
    (
        // The earlier attempt expired, but the later one is dated before
        // that lease ran out.
        "overlap_with_expired_lease",
        "SELECT count(*) AS n FROM leases x JOIN leases y \
         ON x.work_unit_id = y.work_unit_id AND x.id < y.id \
         WHERE x.start_time < y.lease_end AND y.start_time < x.lease_end \
         AND x.status = 'expired'",
    ),
    (
        "finished_stage1_without_one_output",
        "SELECT count(*) AS n FROM (SELECT count(v.id) AS c FROM units u \
         JOIN attempt a ON a.id = u.active_attempt_id LEFT JOIN units v \
         ON v.spec = $3 AND v.name = convert_to($4, 'UTF8') || u.name \
         WHERE u.spec = $2 AND a.status = 'finished' GROUP BY u.id) t WHERE c <> 1",
    ),
    (
        "output_without_finished_stage1",
        "SELECT count(*) AS n FROM (SELECT v.name FROM units v WHERE v.spec = $3 \
         EXCEPT ALL SELECT convert_to($4, 'UTF8') || u.name FROM units u \
         JOIN attempt a ON a.id = u.active_attempt_id \
         WHERE u.spec = $2 AND a.status = 'finished') orphans",
    ),
    (
        "attempt_by_worker_of_other_namespace",
        "SELECT count(*) AS n FROM attempt a JOIN units u ON u.id = a.work_unit_id \
         JOIN worker w ON w.id = a.worker_id WHERE w.namespace_id <> $1",
    ),
    (
        "attempt_on_unit_of_other_namespace",
        "SELECT count(*) AS n FROM attempt a JOIN worker w ON w.id = a.worker_id \
         WHERE w.namespace_id = $1 AND a.work_unit_id NOT IN (SELECT id FROM units)",
    ),
    (
        "attempt_work_spec_mismatch",
        "SELECT count(*) AS n FROM attempt a JOIN units u ON u.id = a.work_unit_id \
         WHERE a.work_spec_id <> u.work_spec_id",
    ),
    (
        "pending_attempt_left",
        "SELECT count(*) AS n FROM attempt a JOIN units u ON u.id = a.work_unit_id \
         WHERE a.status = 'pending'",
    ),
    (
        "ended_attempt_still_on_worker_list",
        "SELECT count(*) AS n FROM attempt a JOIN units u ON u.id = a.work_unit_id \
         WHERE a.active AND a.status <> 'pending'",
    ),
    (
        "worker_parent_in_other_namespace",
        "SELECT count(*) AS n FROM worker w JOIN worker p ON p.id = w.parent \
         WHERE w.namespace_id = $1 AND p.namespace_id <> $1",
    ),
];

/// Leases as defined in the module comment.
const LEASES: &str = "leases AS (SELECT a.id, a.work_unit_id, a.status, a.start_time, \
     CASE WHEN a.status = 'expired' \
          THEN LEAST(COALESCE(a.end_time, a.expiration_time), a.expiration_time) \
          ELSE COALESCE(a.end_time, a.expiration_time) END AS lease_end \
     FROM attempt a JOIN units u ON u.id = a.work_unit_id)";

/// Figures reported next to the violations.
const FIGURES: &[(&str, &str)] = &[
    (
        "stage1_units",
        "SELECT count(*) AS n FROM units WHERE spec = $2",
    ),
    (
        "stage2_units",
        "SELECT count(*) AS n FROM units WHERE spec = $3",
    ),
    (
        "units_finished",
        "SELECT count(*) AS n FROM units u JOIN attempt a ON a.id = u.active_attempt_id \
         WHERE a.status = 'finished'",
    ),
    (
        "units_failed",
        "SELECT count(*) AS n FROM units u JOIN attempt a ON a.id = u.active_attempt_id \
         WHERE a.status = 'failed'",
    ),
    (
        "attempts",
        "SELECT count(*) AS n FROM attempt a JOIN units u ON u.id = a.work_unit_id",
    ),
    (
        "attempts_expired",
        "SELECT count(*) AS n FROM attempt a JOIN units u ON u.id = a.work_unit_id \
         WHERE a.status = 'expired'",
    ),
    (
        "attempts_retryable",
        "SELECT count(*) AS n FROM attempt a JOIN units u ON u.id = a.work_unit_id \
         WHERE a.status = 'retryable'",
    ),
    (
        "max_attempts_per_unit",
        "SELECT COALESCE(max(c), 0) AS n FROM (SELECT count(*) AS c FROM attempt a \
         JOIN units u ON u.id = a.work_unit_id GROUP BY a.work_unit_id) per_unit",
    ),
    (
        // How far the worst overlap with an expired lease reaches back.
        "worst_expired_overlap_us",
        "SELECT COALESCE(max(EXTRACT(EPOCH FROM x.lease_end - y.start_time) * 1e6), 0)::int8 \
         AS n FROM leases x JOIN leases y ON x.work_unit_id = y.work_unit_id AND x.id < y.id \
         WHERE x.start_time < y.lease_end AND y.start_time < x.lease_end \
         AND x.status = 'expired'",
    ),
    (
        "workers",
        "SELECT count(*) AS n FROM worker WHERE namespace_id = $1",
    ),
    (
        "workers_with_attempts",
        "SELECT count(DISTINCT a.worker_id) AS n FROM attempt a \
         JOIN units u ON u.id = a.work_unit_id",
    ),
];

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = Integer)]
    id: i32,
}

/// Runs one counting query with the namespace id and the spec names bound.
fn count(conn: &mut PgConnection, namespace_id: i32, body: &str) -> Result<i64> {
    let query = format!("WITH {UNITS}, {LEASES} {body}");
    let row: Count = sql_query(&query)
        .bind::<Integer, _>(namespace_id)
        .bind::<diesel::sql_types::Text, _>(STAGE1)
        .bind::<diesel::sql_types::Text, _>(STAGE2)
        .bind::<diesel::sql_types::Text, _>(OUTPUT_PREFIX)
        .get_result(conn)
        .with_context(|| format!("running {body}"))?;
    Ok(row.n)
}

/// Checks every invariant, prints the figures as one JSON line and returns
/// status 1 when any invariant is broken.
pub fn run(options: &Options) -> Result<ExitCode> {
    // The backend's connect resolves URLs without a scheme and libpq
    // environment defaults; connecting through it first also proves the
    // server answers after the faults.
    let coordinate = PostgresCoordinate::new(&options.backend).context("connecting")?;
    let mut conn = connect(&options.backend)?;
    // The queries scan whole CTEs whose sizes the planner cannot estimate;
    // a nested loop over two of them is quadratic (minutes at 20,000 units).
    sql_query("SET enable_nestloop = off").execute(&mut conn)?;
    let ids: Vec<Id> = sql_query("SELECT id FROM namespace WHERE name = $1")
        .bind::<diesel::sql_types::Text, _>(&options.namespace)
        .load(&mut conn)?;
    let Some(namespace_id) = ids.first().map(|row| row.id) else {
        bail!("no namespace {:?}", options.namespace);
    };
    let mut fields = Vec::new();
    for (name, body) in FIGURES {
        fields.push(format!(
            "\"{name}\":{}",
            count(&mut conn, namespace_id, body)?
        ));
    }
    let mut total = 0;
    let mut broken = Vec::new();
    let stage1 = count(&mut conn, namespace_id, FIGURES[0].1)?;
    if stage1 != options.units as i64 {
        broken.push(format!(
            "\"stage1_units_expected_{}\":{stage1}",
            options.units
        ));
        total += 1;
    }
    for (name, body) in VIOLATIONS {
        let n = count(&mut conn, namespace_id, body)?;
        if n != 0 {
            broken.push(format!("\"{name}\":{n}"));
            total += n;
        }
    }
    if let (Some(acks), Some(kill)) = (&options.acks, options.kill_epoch_ms) {
        let found = failover::check(&mut conn, namespace_id, acks, kill, !options.asynchronous)?;
        fields.extend(found.fields);
        broken.extend(found.broken);
        total += found.violations;
    }
    if options.transactional {
        let (found, violations) = counters::check(&mut conn, namespace_id, &options.namespace)?;
        broken.extend(found);
        total += violations;
    }
    if total != 0 {
        print_overlaps(&mut conn, namespace_id)?;
    }
    println!(
        "{{{},\"violations\":{total},\"broken\":{{{}}}}}",
        fields.join(","),
        broken.join(",")
    );
    if total != 0 {
        return Ok(ExitCode::from(1));
    }
    if options.drop {
        coordinate.namespace(&options.namespace)?.destroy()?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The first overlapping lease pairs, both attempts in full, so that a
/// failed run shows which path dated the later lease.
const OVERLAPS: &str =
    "SELECT format('x=%s %s w=%s start=%s end=%s exp=%s | y=%s %s w=%s start=%s end=%s exp=%s', \
     x.id, x.status, wx.name, x.start_time, x.end_time, x.expiration_time, \
     y.id, y.status, wy.name, y.start_time, y.end_time, y.expiration_time) AS line \
     FROM leases lx JOIN leases ly ON lx.work_unit_id = ly.work_unit_id AND lx.id < ly.id \
     JOIN attempt x ON x.id = lx.id JOIN attempt y ON y.id = ly.id \
     JOIN worker wx ON wx.id = x.worker_id JOIN worker wy ON wy.id = y.worker_id \
     WHERE lx.start_time < ly.lease_end AND ly.start_time < lx.lease_end \
     ORDER BY x.id LIMIT 10";

/// Prints [`OVERLAPS`] to stderr.
fn print_overlaps(conn: &mut PgConnection, namespace_id: i32) -> Result<()> {
    #[derive(QueryableByName)]
    struct Line {
        #[diesel(sql_type = diesel::sql_types::Text)]
        line: String,
    }
    let lines: Vec<Line> = sql_query(format!("WITH {UNITS}, {LEASES} {OVERLAPS}"))
        .bind::<Integer, _>(namespace_id)
        .load(conn)?;
    for line in lines {
        eprintln!("stress check: overlap: {}", line.line);
    }
    Ok(())
}

/// A plain connection for the checks. Diesel hands the string to libpq,
/// which understands URLs, `key=value` pairs and the empty string; the
/// `postgres:` prefix and scheme-less `//` forms are the backend's own.
pub(crate) fn connect(conn: &str) -> Result<PgConnection> {
    let libpq = if let Some(rest) = conn.strip_prefix("//") {
        format!("postgres://{rest}")
    } else if conn.starts_with("postgres:") && !conn.starts_with("postgres://") {
        conn["postgres:".len()..].to_owned()
    } else {
        conn.to_owned()
    };
    PgConnection::establish(&libpq).map_err(|e| anyhow::anyhow!("connecting for the checks: {e}"))
}
