//! The PostgreSQL API rows: claim + finish at 1, 4 and 8 workers with
//! batches of 1 and 100, and adding units one by one or in batches.

use std::sync::Arc;

use anyhow::Result;
use coordinate_api::Coordinate;
use diesel::pg::PgConnection;

use crate::api::{add, claim_finish, fresh_spec, preload};
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
    for batch in [1, 100] {
        let (namespace, spec) = fresh_spec(coordinate, "claim")?;
        preload(&spec, "u", units)?;
        // Workers exist before the clock starts.
        for t in 0..threads {
            namespace.worker(&format!("worker-{t}"))?;
        }
        let (spec_id, _) = pg::ids(conn, namespace.name(), "spec", "worker-0")?;
        pg::vacuum(conn)?;
        let (measured, rss) =
            crate::measure(|| claim_finish(&namespace, "spec", threads, batch, units))?;
        pg::verify(conn, spec_id, units as i64, 0)?;
        rows.push(crate::row(
            format!("api/b{batch}/w{threads}"),
            "postgres: request_attempts+finish".into(),
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
