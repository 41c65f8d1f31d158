//! The failover run's extra bookkeeping: `work --acks <file>` writes down
//! every result the store acknowledged, and `check --acks <dir>
//! --kill-epoch-ms <ms>` looks for each of them on the promoted standby
//! and measures the stall around the primary's death.
//!
//! An acknowledged result is named by its unit, its worker and its
//! attempt's start time (to the microsecond, as stored), so that a unit
//! handed out again after a lost commit is told apart from the attempt
//! whose acknowledgement was lost.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use coordinate_api::completion::{Completion, Outcome};
use coordinate_api::runtime::Job;
use diesel::pg::PgConnection;
use diesel::sql_types::{Array, BigInt, Integer, Text};
use diesel::{sql_query, QueryableByName, RunQueryDsl};

use crate::check::UNITS;

/// Start times of the attempts being handled, by attempt handle (the
/// runtime passes the handler and the observer the same one): the
/// observer of results cannot read them once the result is in, and by
/// then the unit may be running again under the same worker.
#[derive(Default)]
pub struct Acks {
    started: Mutex<HashMap<usize, (String, i64)>>,
    file: Mutex<Option<File>>,
}

impl Acks {
    /// Acknowledgements written to `path` (created afresh).
    pub fn to_file(path: &Path) -> Result<Arc<Acks>> {
        let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Arc::new(Acks {
            started: Mutex::default(),
            file: Mutex::new(Some(file)),
        }))
    }

    /// Called by the handler before it decides: notes when this attempt
    /// started (one read from the store).
    pub fn note_start(&self, job: &Job) -> coordinate_api::Result<()> {
        let start = job.attempt().start_time()?.timestamp_micros();
        let key = handle_key(job.attempt());
        let spec = job.work_spec_name().to_owned();
        self.started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, (spec, start));
        Ok(())
    }

    /// The runtime's observer: one line per acknowledged result.
    pub fn applied(&self, completion: &Completion) {
        let unit = completion.attempt.work_unit();
        let worker = completion.attempt.worker().name().to_owned();
        let noted = self
            .started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&handle_key(&completion.attempt));
        let status = match completion.outcome {
            Outcome::Finish(_) => "finished",
            Outcome::Fail(_) => "failed",
            Outcome::Retry { .. } => "retryable",
            Outcome::Expire(_) => "expired",
        };
        // Without a noted start (the handler could not read it, or never
        // ran: a release) the result cannot be named: -1 says so.
        let (spec, start) = noted.unwrap_or_else(|| (unit.work_spec().name().to_owned(), -1));
        let line = format!("{spec}\t{}\t{worker}\t{start}\t{status}\n", unit.name());
        if let Some(file) = self.file.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            // Every line reaches the file at once: a later crash keeps it.
            let _ = file.write_all(line.as_bytes());
        }
    }
}

/// The key of an attempt handle: its address, the same for every clone.
fn handle_key(attempt: &Arc<dyn coordinate_api::Attempt>) -> usize {
    Arc::as_ptr(attempt) as *const () as usize
}

/// The acknowledgements every worker wrote into `dir`.
fn read_acks(dir: &Path) -> Result<[Vec<String>; 5]> {
    let mut columns: [Vec<String>; 5] = Default::default();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let file = File::open(&path).with_context(|| format!("opening {}", path.display()))?;
        for line in BufReader::new(file).lines() {
            let line = line?;
            let fields: Vec<&str> = line.split('\t').collect();
            // A line cut short by a killed process is not an acknowledgement.
            if fields.len() == 5 {
                for (column, field) in columns.iter_mut().zip(fields) {
                    column.push(field.to_owned());
                }
            }
        }
    }
    Ok(columns)
}

/// The acknowledgements with whether the store kept each: its attempt,
/// by unit, worker and start time, has the acknowledged status.
const ACKED: &str = "acked AS (SELECT k.*, EXISTS (SELECT 1 FROM attempt a \
     JOIN units u ON u.id = a.work_unit_id JOIN worker w ON w.id = a.worker_id \
     WHERE u.spec = k.spec AND u.name = convert_to(k.unit, 'UTF8') AND w.name = k.worker \
     AND a.start_time = to_timestamp(0) + k.start_us * interval '1 microsecond' \
     AND a.status::text = k.status) AS kept FROM acks k WHERE k.start_us >= 0)";

/// Figures of a failover run; `$2` is the kill's time in milliseconds
/// since the epoch. Times come back as milliseconds from the kill.
const FIGURES: &[(&str, &str)] = &[
    ("acknowledged", "SELECT count(*) AS n FROM acks"),
    (
        "acknowledged_unnamed",
        "SELECT count(*) AS n FROM acks WHERE start_us < 0",
    ),
    (
        "acknowledged_lost",
        "SELECT count(*) AS n FROM acked WHERE NOT kept",
    ),
    (
        "done_before_kill",
        "SELECT count(*) AS n FROM attempt a JOIN units u ON u.id = a.work_unit_id \
         WHERE a.status IN ('finished', 'failed') AND a.end_time <= to_timestamp($2 / 1000.0)",
    ),
    (
        "done_after_kill",
        "SELECT count(*) AS n FROM attempt a JOIN units u ON u.id = a.work_unit_id \
         WHERE a.status IN ('finished', 'failed') AND a.end_time > to_timestamp($2 / 1000.0)",
    ),
    (
        "first_start_ms",
        "SELECT COALESCE((EXTRACT(EPOCH FROM min(a.start_time)) * 1000)::int8 - $2, 0) AS n \
         FROM attempt a JOIN units u ON u.id = a.work_unit_id",
    ),
    (
        "first_done_after_kill_ms",
        "SELECT COALESCE((EXTRACT(EPOCH FROM min(a.end_time)) * 1000)::int8 - $2, -1) AS n \
         FROM attempt a JOIN units u ON u.id = a.work_unit_id \
         WHERE a.status IN ('finished', 'failed', 'retryable') \
         AND a.end_time > to_timestamp($2 / 1000.0)",
    ),
    (
        "last_done_ms",
        "SELECT COALESCE((EXTRACT(EPOCH FROM max(a.end_time)) * 1000)::int8 - $2, 0) AS n \
         FROM attempt a JOIN units u ON u.id = a.work_unit_id",
    ),
];

/// Acknowledged results whose attempt the store lost and whose unit was
/// never handed out again: silently dropped work.
const LOST_NOT_HANDED_OUT_AGAIN: &str = "SELECT count(*) AS n FROM acked k WHERE NOT kept \
     AND NOT EXISTS (SELECT 1 FROM attempt a JOIN units u ON u.id = a.work_unit_id \
     WHERE u.spec = k.spec AND u.name = convert_to(k.unit, 'UTF8') \
     AND a.start_time > to_timestamp(0) + k.start_us * interval '1 microsecond')";

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// What [`check`] found.
pub struct Findings {
    /// `"name":value` pairs for the report line.
    pub fields: Vec<String>,
    /// Broken invariants as `"name":count`, and their total.
    pub broken: Vec<String>,
    pub violations: i64,
}

/// Loads the acknowledgements in `acks` and runs the failover figures and
/// checks. A lost acknowledgement breaks the run when `synchronous`; with
/// asynchronous replication it is reported, and only a lost result whose
/// unit was never handed out again breaks it.
pub fn check(
    conn: &mut PgConnection,
    namespace_id: i32,
    acks: &Path,
    kill_epoch_ms: i64,
    synchronous: bool,
) -> Result<Findings> {
    let [spec, unit, worker, start, status] = read_acks(acks)?;
    let start: Vec<i64> = start
        .iter()
        .map(|s| s.parse().context("a start time"))
        .collect::<Result<_>>()?;
    sql_query(
        "CREATE TEMP TABLE acks (spec text, unit text, worker text, start_us int8, status text)",
    )
    .execute(conn)?;
    sql_query("INSERT INTO acks SELECT * FROM unnest($1, $2, $3, $4, $5)")
        .bind::<Array<Text>, _>(&spec)
        .bind::<Array<Text>, _>(&unit)
        .bind::<Array<Text>, _>(&worker)
        .bind::<Array<BigInt>, _>(&start)
        .bind::<Array<Text>, _>(&status)
        .execute(conn)
        .context("loading the acknowledgements")?;
    let mut run = |body: &str| -> Result<i64> {
        let row: Count = sql_query(format!("WITH {UNITS}, {ACKED} {body}"))
            .bind::<Integer, _>(namespace_id)
            .bind::<BigInt, _>(kill_epoch_ms)
            .get_result(conn)
            .with_context(|| format!("running {body}"))?;
        Ok(row.n)
    };
    let mut findings = Findings {
        fields: Vec::new(),
        broken: Vec::new(),
        violations: 0,
    };
    let mut lost = 0;
    for (name, body) in FIGURES {
        let n = run(body)?;
        if *name == "acknowledged_lost" {
            lost = n;
        }
        findings.fields.push(format!("\"{name}\":{n}"));
    }
    let dropped = run(LOST_NOT_HANDED_OUT_AGAIN)?;
    if lost != 0 {
        print_lost(conn, namespace_id)?;
    }
    for (name, n, counts) in [
        ("acknowledged_result_lost", lost, synchronous),
        ("lost_result_not_handed_out_again", dropped, true),
    ] {
        if counts && n != 0 {
            findings.broken.push(format!("\"{name}\":{n}"));
            findings.violations += n;
        }
    }
    Ok(findings)
}

/// The first acknowledged results the store lost, each with every attempt
/// its unit has, so that a failed run shows what happened instead.
const LOST: &str = "SELECT format('acked %s %s by %s started %s as %s; the unit has: %s', \
     k.spec, k.unit, k.worker, to_timestamp(0) + k.start_us * interval '1 microsecond', k.status, \
     (SELECT string_agg(format('[%s by %s %s..%s exp %s]', a.status, w.name, a.start_time, \
        a.end_time, a.expiration_time), ' ' ORDER BY a.start_time) \
      FROM attempt a JOIN units u ON u.id = a.work_unit_id JOIN worker w ON w.id = a.worker_id \
      WHERE u.spec = k.spec AND u.name = convert_to(k.unit, 'UTF8'))) AS line \
     FROM acked k WHERE NOT kept LIMIT 10";

/// Prints [`LOST`] to stderr.
fn print_lost(conn: &mut PgConnection, namespace_id: i32) -> Result<()> {
    #[derive(QueryableByName)]
    struct Line {
        #[diesel(sql_type = Text)]
        line: String,
    }
    let lines: Vec<Line> = sql_query(format!("WITH {UNITS}, {ACKED} {LOST}"))
        .bind::<Integer, _>(namespace_id)
        .load(conn)?;
    for line in lines {
        eprintln!("stress check: lost: {}", line.line);
    }
    Ok(())
}
