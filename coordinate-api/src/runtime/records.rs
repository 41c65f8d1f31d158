//! The runtime's worker records: one parent for the runtime, one child per
//! executor, reported on every heartbeat so operators see who is alive.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use rand::Rng;

use crate::data::{Data, Value};
use crate::error::Result;
use crate::namespace::Namespace;
use crate::runtime::{Shared, WakeupState};
use crate::worker::Worker;

/// The mode a running runtime reports.
pub(crate) const MODE_RUN: &str = "RUN";
/// The mode from the moment a shutdown begins.
pub(crate) const MODE_STOPPING: &str = "STOPPING";

/// How many heartbeats a report stays current for: a worker whose report
/// is older than that has stopped without saying so.
const REPORTS_CURRENT_FOR: u32 = 3;

/// The parent worker and its children.
pub(crate) struct Records {
    pub(crate) parent: Arc<dyn Worker>,
    children: Vec<Arc<dyn Worker>>,
}

/// A worker name for this process: host, process id and a random suffix,
/// so that two runtimes on one host never share a record.
pub(crate) fn default_worker_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    let suffix: u32 = rand::rng().random();
    format!("{host}-{}-{suffix:08x}", std::process::id())
}

impl Records {
    /// Gets or creates the parent called `name` and one child per
    /// executor, attached to it.
    pub(crate) fn open(namespace: &dyn Namespace, name: &str, executors: usize) -> Result<Records> {
        let parent = namespace.worker(name)?;
        let children = (0..executors)
            .map(|index| {
                let child = namespace.worker(&format!("{name}.{index}"))?;
                child.set_parent(Some(parent.clone()))?;
                Ok(child)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Records { parent, children })
    }

    /// Reports every record in `mode`. Failures are logged: a missed report
    /// only makes the runtime look stale for a while.
    pub(crate) fn report(&self, shared: &Shared, mode: &str) {
        let now = shared.clock.now();
        let current_for = shared.config.heartbeat() * REPORTS_CURRENT_FOR;
        let expiration =
            now + chrono::Duration::from_std(current_for).unwrap_or(chrono::Duration::MAX);
        if let Err(error) = self
            .parent
            .update(parent_data(shared), now, expiration, mode)
        {
            tracing::warn!(%error, worker = self.parent.name(), "could not report the runtime's worker");
        }
        let running = shared.flights.running_units();
        for (index, child) in self.children.iter().enumerate() {
            let mut data = Data::new();
            data.insert("executor".into(), Value::Integer(index as i128));
            if let Some((_, spec, unit)) = running.iter().find(|(executor, ..)| *executor == index)
            {
                data.insert("work_spec".into(), Value::Text(spec.clone()));
                data.insert("work_unit".into(), Value::Text(unit.clone()));
            }
            if let Err(error) = child.update(data, now, expiration, mode) {
                tracing::warn!(%error, worker = child.name(), "could not report an executor's worker");
            }
        }
    }

    /// Marks every record inactive, children first.
    pub(crate) fn deactivate(&self) {
        for worker in self.children.iter().chain(std::iter::once(&self.parent)) {
            if let Err(error) = worker.deactivate() {
                tracing::warn!(%error, worker = worker.name(), "could not deactivate a worker");
            }
        }
    }
}

/// What the parent record says: the runtime's counts and how it hears of
/// new work.
fn parent_data(shared: &Shared) -> Data {
    let stats = shared.stats();
    let int = |n: u64| Value::Integer(n.into());
    let mut data = Data::new();
    data.insert("pid".into(), int(std::process::id().into()));
    data.insert("executors".into(), int(shared.config.concurrency as u64));
    data.insert("in_flight".into(), int(stats.running as u64));
    data.insert("queued".into(), int(stats.queued as u64));
    data.insert("backlog".into(), int(stats.backlog as u64));
    data.insert("finished".into(), int(stats.finished));
    data.insert("failed".into(), int(stats.failed));
    data.insert("retried".into(), int(stats.retried));
    data.insert("lost_leases".into(), int(stats.lost_leases));
    let wakeup = match shared.wakeup.load(Ordering::Relaxed) {
        w if w == WakeupState::Listening as u8 => "listening",
        w if w == WakeupState::Polling as u8 => "polling",
        _ => "unknown",
    };
    data.insert("wakeup".into(), Value::Text(wakeup.into()));
    data
}
