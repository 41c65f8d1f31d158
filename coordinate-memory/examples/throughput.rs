//! Measures how fast one thread adds work units, then claims and finishes
//! them, through `Arc<dyn Coordinate>` as applications use it.
//!
//! ```text
//! cargo run --release -p coordinate-memory --example throughput [N]
//! ```
//!
//! `N` is the number of units (default 100000).

use std::error::Error;
use std::sync::Arc;
use std::time::Instant;

use coordinate_api::{AttemptRequest, Coordinate, Data, Value, WorkUnitMeta, WorkUnitStatus};
use coordinate_memory::MemoryCoordinate;

fn main() -> Result<(), Box<dyn Error>> {
    let count: usize = match std::env::args().nth(1) {
        Some(arg) => arg.parse()?,
        None => 100_000,
    };
    let coordinate: Arc<dyn Coordinate> = Arc::new(MemoryCoordinate::new());
    let namespace = coordinate.namespace("throughput")?;
    let mut definition = Data::new();
    definition.insert("name".into(), Value::Text("spec".into()));
    let spec = namespace.set_work_spec(definition)?;
    let worker = namespace.worker("worker")?;

    let started = Instant::now();
    for i in 0..count {
        let mut data = Data::new();
        data.insert("i".into(), Value::Integer(i as i128));
        spec.add_work_unit(&format!("unit-{i:08}"), data, WorkUnitMeta::default())?;
    }
    let add = started.elapsed();

    let started = Instant::now();
    let request = AttemptRequest::default();
    let mut done = 0;
    loop {
        let attempts = worker.request_attempts(&request)?;
        if attempts.is_empty() {
            break;
        }
        for attempt in attempts {
            attempt.finish(None)?;
            done += 1;
        }
    }
    let claim = started.elapsed();

    let finished = spec.count_work_unit_status()?;
    if done != count || finished.get(&WorkUnitStatus::Finished) != Some(&count) {
        return Err(format!("claimed {done} of {count} units; statuses {finished:?}").into());
    }
    let rate = |seconds: f64| count as f64 / seconds.max(f64::MIN_POSITIVE);
    println!("units: {count}");
    println!(
        "add:            {:>8.3} s  {:>12.0} units/s",
        add.as_secs_f64(),
        rate(add.as_secs_f64())
    );
    println!(
        "claim + finish: {:>8.3} s  {:>12.0} units/s",
        claim.as_secs_f64(),
        rate(claim.as_secs_f64())
    );
    Ok(())
}
