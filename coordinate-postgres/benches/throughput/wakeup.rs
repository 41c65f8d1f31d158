//! Wake-up latency: from an add's commit (the moment `add_work_unit`
//! returns) to a waiter's `wait_for_work` returning, with `LISTEN` and
//! with notifications off (the polling fallback).

use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use coordinate_api::{Coordinate, Data, Wakeup, WorkUnitMeta};
use coordinate_postgres::PostgresCoordinate;

use crate::api::{fresh_spec, Measured};
use crate::Config;

/// Samples with `LISTEN`; the issue asks for at least 500.
const SAMPLES: u64 = 500;
/// Samples of the fallback, each up to a poll interval long.
const POLLING_SAMPLES: u64 = 20;
/// The fallback's poll interval (a worker's `wait_for_work` timeout).
const POLL: Duration = Duration::from_millis(100);

/// Measures `samples` wake-ups through `coordinate`, each wait with
/// timeout `timeout`; latencies are clamped at zero (a waiter may return
/// before the adding call has).
fn measure(coordinate: Arc<dyn Coordinate>, samples: u64, timeout: Duration) -> Result<Measured> {
    let (namespace, spec) = fresh_spec(&coordinate, "wakeup")?;
    let (go, go_rx) = mpsc::channel::<()>();
    let (done, done_rx) = mpsc::channel::<(Wakeup, Instant)>();
    let waiter = {
        let namespace = namespace.clone();
        std::thread::spawn(move || -> Result<()> {
            while go_rx.recv().is_ok() {
                let wakeup = namespace.wait_for_work(timeout)?;
                if done.send((wakeup, Instant::now())).is_err() {
                    break;
                }
            }
            Ok(())
        })
    };
    // Spend the wake-up the listener owes every waiter when it starts.
    namespace.wait_for_work(Duration::from_millis(500))?;
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut index = 0u64;
    while (latencies.len() as u64) < samples {
        go.send(())?;
        // Let the waiter start waiting before the add.
        std::thread::sleep(Duration::from_millis(5));
        spec.add_work_unit(&format!("u{index}"), Data::new(), WorkUnitMeta::default())?;
        let added = Instant::now();
        index += 1;
        let (wakeup, returned) = done_rx.recv()?;
        match wakeup {
            Wakeup::Woken | Wakeup::Polling => {
                latencies.push(returned.saturating_duration_since(added));
            }
            Wakeup::TimedOut => bail!("a wait timed out although a unit was added"),
        }
        if index > samples * 2 {
            bail!("too many unusable samples");
        }
    }
    let elapsed = started.elapsed();
    drop(go);
    waiter.join().expect("waiter thread")?;
    namespace.destroy()?;
    Ok(Measured {
        units: samples,
        elapsed,
        latencies,
    })
}

/// The two rows: LISTEN, and the polling fallback.
pub fn run(config: &Config, rows: &mut Vec<crate::report::Row>) -> Result<()> {
    let listening: Arc<dyn Coordinate> = Arc::new(PostgresCoordinate::new(&config.backend)?);
    let measured = measure(listening, SAMPLES, Duration::from_secs(5))?;
    rows.push(crate::row(
        "wake/listen".into(),
        "add commit -> wait_for_work returns (LISTEN)".into(),
        1,
        1,
        &measured,
        crate::Footprint::unrecorded(),
    ));
    crate::progress(rows);
    let polling: Arc<dyn Coordinate> = Arc::new(
        PostgresCoordinate::builder(&config.backend)
            .notifications(false)
            .build()?,
    );
    let measured = measure(polling, POLLING_SAMPLES, POLL)?;
    rows.push(crate::row(
        "wake/poll".into(),
        format!(
            "add commit -> wait_for_work returns (polling, {} ms)",
            POLL.as_millis()
        ),
        1,
        1,
        &measured,
        crate::Footprint::unrecorded(),
    ));
    crate::progress(rows);
    Ok(())
}
