//! The handle of a started runtime: stop it, wait for it, look at it.

use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::Sender;

use crate::runtime::stats::{Report, Stats};
use crate::runtime::supervisor::StopKind;
use crate::runtime::Shared;

/// Asks a runtime to stop; cheap to clone and send to another thread (a
/// signal handler, a test).
#[derive(Clone)]
pub struct Stopper {
    requests: Sender<StopKind>,
}

impl Stopper {
    pub(crate) fn new(requests: Sender<StopKind>) -> Self {
        Stopper { requests }
    }

    /// Begins a graceful stop: claim nothing more, give back prefetched
    /// units, let running handlers finish within the grace period. Returns
    /// at once; asking twice is harmless.
    pub fn graceful(&self) {
        let _ = self.requests.send(StopKind::Graceful);
    }

    /// Stops without the grace period: running handlers are cancelled at
    /// once. Also ends a graceful stop that is under way.
    pub fn immediate(&self) {
        let _ = self.requests.send(StopKind::Immediate);
    }
}

/// A running runtime. Dropping it without [`RuntimeHandle::wait`] stops
/// the runtime gracefully in the background, once no [`Stopper`] is left.
pub struct RuntimeHandle {
    pub(crate) shared: Arc<Shared>,
    pub(crate) stopper: Stopper,
    pub(crate) supervisor: JoinHandle<Report>,
    pub(crate) worker_name: String,
}

impl RuntimeHandle {
    /// Begins a graceful stop (see [`Stopper::graceful`]).
    pub fn shutdown(&self) {
        self.stopper.graceful();
    }

    /// Stops without the grace period (see [`Stopper::immediate`]).
    pub fn shutdown_now(&self) {
        self.stopper.immediate();
    }

    /// A stopper for another thread.
    pub fn stopper(&self) -> Stopper {
        self.stopper.clone()
    }

    /// What the runtime has done so far.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// The name of the runtime's parent worker record.
    pub fn worker_name(&self) -> &str {
        &self.worker_name
    }

    /// Whether the runtime has stopped (asked by anyone, a signal
    /// included); [`RuntimeHandle::wait`] then returns at once.
    pub fn is_stopped(&self) -> bool {
        self.supervisor.is_finished()
    }

    /// Waits until the runtime has stopped (someone must ask it to) and
    /// returns what it did.
    pub fn wait(self) -> Report {
        match self.supervisor.join() {
            Ok(report) => report,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}
