//! The PostgreSQL API rows: claim + finish at 1, 4 and 8 workers with
//! batches of 1 and 100, the batch of 100 also completed with one
//! `complete_attempts` (with the commits per unit the server counted),
//! and adding units one by one or in batches.

use std::sync::Arc;

use anyhow::Result;
use coordinate_api::Coordinate;
use diesel::pg::PgConnection;

use crate::api::{add, claim_finish, fresh_spec, preload, Finishing};
use crate::pg;
use crate::report::Row;
use crate::Config;

/// Runs claim + finish with `threads` workers, batches of 1 and 100.
pub fn claims(
    config: &Config,
    coordinate: &Arc<dyn Coordinate>,
    conn: &mut PgConnection,
    threads: usize,
    rows: &mut Vec<Row>,
) -> Result<()> {
    let units = config.claim_units;
    for (batch, finishing) in [
        (1, Finishing::OneByOne),
        (100, Finishing::OneByOne),
        (100, Finishing::Batched),
    ] {
        let (namespace, spec) = fresh_spec(coordinate, "claim")?;
        preload(&spec, "u", units)?;
        // Workers exist before the clock starts.
        for t in 0..threads {
            namespace.worker(&format!("worker-{t}"))?;
        }
        let (spec_id, _) = pg::ids(conn, namespace.name(), "spec", "worker-0")?;
        pg::vacuum(conn)?;
        let counted = batch > 1;
        let commits_before = if counted { pg::commits(conn)? } else { 0 };
        let (measured, rss) =
            crate::measure(|| claim_finish(&namespace, "spec", threads, batch, finishing, units))?;
        let commits = if counted {
            pg::commits(conn)? - commits_before
        } else {
            0
        };
        pg::verify(conn, spec_id, units as i64, 0)?;
        let (label, what) = match finishing {
            Finishing::OneByOne => ("", "request_attempts+finish"),
            Finishing::Batched => ("c", "request_attempts+complete_attempts"),
        };
        rows.push(crate::row(
            format!("api/b{batch}{label}/w{threads}"),
            if counted {
                format!(
                    "postgres: {what} ({:.3} commits/unit)",
                    commits as f64 / units as f64
                )
            } else {
                format!("postgres: {what}")
            },
            threads,
            batch,
            &measured,
            rss,
        ));
        crate::progress(rows);
        namespace.destroy()?;
    }
    Ok(())
}

/// Runs `add_work_unit` at 1 and 4 threads and `add_work_units` at 1 and 4.
pub fn adds(config: &Config, coordinate: &Arc<dyn Coordinate>, rows: &mut Vec<Row>) -> Result<()> {
    for (label, batch, units, what) in [
        ("one", 1, config.add_units, "postgres: add_work_unit"),
        (
            "batch",
            1_000,
            config.batch_add_units,
            "postgres: add_work_units (1000/call)",
        ),
    ] {
        for threads in [1, 4] {
            let (namespace, spec) = fresh_spec(coordinate, "add")?;
            let (measured, rss) = crate::measure(|| add(&spec, threads, batch, units))?;
            rows.push(crate::row(
                format!("add/{label}/w{threads}"),
                what.into(),
                threads,
                batch as usize,
                &measured,
                rss,
            ));
            crate::progress(rows);
            namespace.destroy()?;
        }
    }
    Ok(())
}
