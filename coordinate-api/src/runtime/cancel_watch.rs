//! The cancellation watcher thread: waits for the backend to say that an
//! attempt in the namespace was taken from its worker (expired by an
//! operator, its unit cleared, deleted or re-added), then has the
//! supervisor renew every held lease at once. The attempts this runtime
//! lost refuse the renewal, and their handlers are cancelled with
//! [`CancelReason::LeaseLost`](super::CancelReason::LeaseLost) within
//! moments instead of at the next heartbeat.
//!
//! A backend that cannot tell ([`Wakeup::Polling`]: the REST client, a
//! pooler without a listener) is answered by renewing every
//! [`RuntimeBuilder::cancellation_poll`](super::RuntimeBuilder::cancellation_poll)
//! interval instead.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};

use crate::completion::Wakeup;
use crate::runtime::Shared;

/// Longest single wait, so that a stop is noticed soon.
const STEP: Duration = Duration::from_millis(250);

/// Watches until `stop` is dropped.
pub(crate) fn run(shared: Arc<Shared>, stop: Receiver<()>) {
    let poll = shared.config.cancellation_poll();
    let mut last_poll = Instant::now();
    loop {
        match stop.try_recv() {
            Err(crossbeam_channel::TryRecvError::Empty) => {}
            _ => return,
        }
        match shared.namespace.wait_for_cancellation(STEP.min(poll)) {
            Ok(Wakeup::Woken) => renew_now(&shared),
            Ok(Wakeup::TimedOut) => {}
            Ok(Wakeup::Polling) => {
                if last_poll.elapsed() >= poll {
                    last_poll = Instant::now();
                    renew_now(&shared);
                }
            }
            // The backend is out of reach: the heartbeat says so already;
            // look again after a pause (or stop).
            Err(_) => match stop.recv_timeout(STEP) {
                Err(RecvTimeoutError::Timeout) => {}
                _ => return,
            },
        }
    }
}

/// Asks the supervisor for a renewal at its next tick.
fn renew_now(shared: &Shared) {
    shared.renew_now.store(true, Ordering::SeqCst);
}
