//! Latency of one `request_attempts` + `finish` as the queue deepens and
//! as the finished history grows.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use coordinate_api::{AttemptRequest, Coordinate};
use diesel::pg::PgConnection;

use crate::api::{fresh_spec, preload, Measured};
use crate::pg;
use crate::report::Row;
use crate::Config;

/// The scale rows: 1,000 queued; `deep` queued; 1,000 queued plus `deep`
/// finished; 1,000 queued while another work spec of the namespace has
/// `deep` queued (with names that sort first, so that an index over all
/// specs' available units has to be walked past them).
pub fn run(
    config: &Config,
    coordinate: &Arc<dyn Coordinate>,
    conn: &mut PgConnection,
    rows: &mut Vec<Row>,
) -> Result<()> {
    let cycles = config.scale_cycles;
    let deep = config.scale_deep;
    let label = |n: u64| {
        if n >= 1_000_000 {
            format!("{}m", n / 1_000_000)
        } else {
            format!("{}k", n / 1_000)
        }
    };
    for (key, queued, history, neighbour) in [
        ("scale/queued-1k".to_owned(), 1_000, 0, 0),
        (format!("scale/queued-{}", label(deep)), deep, 0, 0),
        (format!("scale/history-{}", label(deep)), 1_000, deep, 0),
        (format!("scale/neighbour-{}", label(deep)), 1_000, 0, deep),
    ] {
        let (namespace, spec) = fresh_spec(coordinate, "scale")?;
        if neighbour > 0 {
            let mut definition = coordinate_api::Data::new();
            definition.insert(
                "name".into(),
                coordinate_api::Value::Text("neighbour".into()),
            );
            preload(&namespace.set_work_spec(definition)?, "a", neighbour)?;
        }
        let worker = namespace.worker("worker-0")?;
        let (spec_id, worker_id) = pg::ids(conn, namespace.name(), "spec", "worker-0")?;
        if history > 0 {
            pg::load_history(conn, spec_id, worker_id, history as i64)?;
        }
        // `cycles` more than the depth, so the queue never drops below it.
        preload(&spec, "q", queued + cycles)?;
        pg::vacuum(conn)?;
        let request = AttemptRequest {
            work_specs: vec!["spec".into()],
            ..AttemptRequest::default()
        };
        let (measured, footprint) = crate::measure(|| -> Result<Measured> {
            let mut latencies: Vec<Duration> = Vec::with_capacity(cycles as usize);
            let start = Instant::now();
            for _ in 0..cycles {
                let began = Instant::now();
                let attempts = worker.request_attempts(&request)?;
                let [attempt] = attempts.as_slice() else {
                    bail!("expected one attempt, got {}", attempts.len());
                };
                attempt.finish(None)?;
                latencies.push(began.elapsed());
            }
            Ok(Measured {
                units: cycles,
                elapsed: start.elapsed(),
                latencies,
            })
        })?;
        pg::verify(conn, spec_id, (cycles + history) as i64, queued as i64)?;
        let what = if neighbour > 0 {
            format!(
                "postgres: request_attempts+finish, {queued} queued, {neighbour} in another spec"
            )
        } else {
            format!("postgres: request_attempts+finish, {queued} queued, {history} finished before")
        };
        rows.push(crate::row(key, what, 1, 1, &measured, footprint));
        crate::progress(rows);
        namespace.destroy()?;
    }
    Ok(())
}
