//! The in-memory backend: claim + finish and adding, one and four threads.

use std::sync::Arc;

use anyhow::{bail, Result};
use coordinate_api::{Coordinate, WorkUnitStatus};
use coordinate_memory::MemoryCoordinate;

use crate::api::{add, claim_finish, fresh_spec, preload, Finishing, Measured};
use crate::report::Row;
use crate::Config;

/// Runs the memory backend's rows.
pub fn run(config: &Config, rows: &mut Vec<Row>) -> Result<()> {
    let units = config.memory_units;
    for threads in [1, 4] {
        for batch in [1, 100] {
            let coordinate: Arc<dyn Coordinate> = Arc::new(MemoryCoordinate::new());
            let (namespace, spec) = fresh_spec(&coordinate, "mem-claim")?;
            preload(&spec, "u", units)?;
            let measured = crate::measure(|| {
                claim_finish(
                    &namespace,
                    "spec",
                    threads,
                    batch,
                    Finishing::OneByOne,
                    units,
                )
            });
            let (measured, footprint) = measured?;
            let counts = spec.count_work_unit_status()?;
            if counts.get(&WorkUnitStatus::Finished).copied() != Some(units as usize)
                || counts.len() != 1
            {
                bail!("memory claim+finish left {counts:?}, expected {units} finished units");
            }
            rows.push(crate::row(
                format!("mem/claim/b{batch}/w{threads}"),
                "memory: request_attempts+finish".into(),
                threads,
                batch,
                &measured,
                footprint,
            ));
        }
        for (label, batch) in [("one", 1), ("batch", 1_000)] {
            let coordinate: Arc<dyn Coordinate> = Arc::new(MemoryCoordinate::new());
            let (_namespace, spec) = fresh_spec(&coordinate, "mem-add")?;
            let (measured, footprint): (Measured, _) =
                crate::measure(|| add(&spec, threads, batch, units))?;
            let what = if batch == 1 {
                "memory: add_work_unit"
            } else {
                "memory: add_work_units (1000/call)"
            };
            rows.push(crate::row(
                format!("mem/add/{label}/w{threads}"),
                what.into(),
                threads,
                batch as usize,
                &measured,
                footprint,
            ));
        }
    }
    Ok(())
}
