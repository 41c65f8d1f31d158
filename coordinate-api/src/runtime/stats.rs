//! What the runtime has done: counters while it runs, a report when it
//! stops.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::completion::Outcome;

/// Running totals, shared by the runtime's threads.
#[derive(Default)]
pub(crate) struct Counters {
    claimed: AtomicU64,
    finished: AtomicU64,
    failed: AtomicU64,
    retried: AtomicU64,
    released: AtomicU64,
    abandoned: AtomicU64,
    lost_leases: AtomicU64,
    panicked: AtomicU64,
    refused: AtomicU64,
    unsent: AtomicU64,
}

/// One counter of [`Counters`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Count {
    Claimed,
    Finished,
    Failed,
    Retried,
    Released,
    Abandoned,
    LostLease,
    Panicked,
    Refused,
    Unsent,
}

impl Counters {
    pub(crate) fn add(&self, count: Count, n: usize) {
        let counter = match count {
            Count::Claimed => &self.claimed,
            Count::Finished => &self.finished,
            Count::Failed => &self.failed,
            Count::Retried => &self.retried,
            Count::Released => &self.released,
            Count::Abandoned => &self.abandoned,
            Count::LostLease => &self.lost_leases,
            Count::Panicked => &self.panicked,
            Count::Refused => &self.refused,
            Count::Unsent => &self.unsent,
        };
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Counts an outcome the backend accepted.
    pub(crate) fn applied(&self, outcome: &Outcome) {
        self.add(
            match outcome {
                Outcome::Finish(_) => Count::Finished,
                Outcome::Fail(_) => Count::Failed,
                Outcome::Retry { .. } => Count::Retried,
                Outcome::Expire(_) => Count::Released,
            },
            1,
        );
    }

    fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    pub(crate) fn snapshot(&self, gauges: Gauges) -> Stats {
        Stats {
            queued: gauges.queued,
            running: gauges.running,
            backlog: gauges.backlog,
            claimed: Self::get(&self.claimed),
            finished: Self::get(&self.finished),
            failed: Self::get(&self.failed),
            retried: Self::get(&self.retried),
            released: Self::get(&self.released),
            abandoned: Self::get(&self.abandoned),
            lost_leases: Self::get(&self.lost_leases),
            panicked: Self::get(&self.panicked),
            refused: Self::get(&self.refused),
            unsent: Self::get(&self.unsent),
        }
    }
}

/// How many jobs are where right now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Gauges {
    pub(crate) queued: usize,
    pub(crate) running: usize,
    pub(crate) backlog: usize,
}

/// A snapshot of a running runtime
/// ([`RuntimeHandle::stats`](super::RuntimeHandle::stats)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Claimed units no handler has started yet (prefetched).
    pub queued: usize,
    /// Handlers running now.
    pub running: usize,
    /// Results waiting to be sent to the database.
    pub backlog: usize,
    /// Units claimed so far.
    pub claimed: u64,
    /// Units finished.
    pub finished: u64,
    /// Units failed for good.
    pub failed: u64,
    /// Units sent back to be retried later.
    pub retried: u64,
    /// Units given back unstarted, or cancelled by a shutdown, so others
    /// can take them at once.
    pub released: u64,
    /// Units whose handlers were still running when the shutdown gave up
    /// on them; released as well.
    pub abandoned: u64,
    /// Results not applied because the lease was lost first: it ran out
    /// and the unit went to another worker, or the attempt or its unit no
    /// longer exists (deleted, re-added, or a claim lost with a failover
    /// under asynchronous replication).
    pub lost_leases: u64,
    /// Handlers that panicked (each also counts as retried or failed).
    pub panicked: u64,
    /// Results the backend refused for another reason than a lost lease
    /// (logged); their units come back when the lease runs out.
    pub refused: u64,
    /// Results given up on because the database stayed unreachable for a
    /// whole lease (logged); their units come back when the lease runs
    /// out.
    pub unsent: u64,
}

/// What a stopped runtime did
/// ([`RuntimeHandle::wait`](super::RuntimeHandle::wait)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// The totals at the end.
    pub totals: Stats,
    /// How long the shutdown took, from the request to the end.
    pub shutdown: Duration,
    /// How long the runtime ran in all.
    pub elapsed: Duration,
}
