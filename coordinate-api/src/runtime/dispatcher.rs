//! The dispatcher thread: claims as many units as there are free slots
//! (plus the prefetch), and waits for work when there is none.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{select, Receiver, Sender, TryRecvError};
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::completion::Wakeup;
use crate::query::AttemptRequest;
use crate::runtime::backoff::jittered;
use crate::runtime::flights::JobId;
use crate::runtime::stats::Count;
use crate::runtime::{Shared, WakeupState};
use crate::worker::Worker;

/// Longest single `wait_for_work` call, so that a stop is noticed soon.
const WAIT_SLICE: Duration = Duration::from_millis(100);

/// Whether the runtime is stopping: the supervisor drops the sender of
/// `stopped` to say so.
pub(crate) fn is_stopped(stopped: &Receiver<()>) -> bool {
    matches!(stopped.try_recv(), Err(TryRecvError::Disconnected))
}

/// The dispatcher's loop; it ends when the runtime stops, and dropping
/// `jobs` then ends the executors.
pub(crate) fn run(
    shared: Arc<Shared>,
    worker: Arc<dyn Worker>,
    jobs: Sender<JobId>,
    capacity: Receiver<()>,
    stopped: Receiver<()>,
) {
    let mut rng = StdRng::from_rng(&mut rand::rng());
    let config = &shared.config;
    let mut request = AttemptRequest {
        lifetime: config.lease,
        work_specs: shared.handlers.names(),
        runtimes: config.runtimes.clone(),
        ..AttemptRequest::default()
    };
    while !is_stopped(&stopped) {
        let gauges = shared.flights.gauges();
        let want =
            (config.concurrency + config.prefetch).saturating_sub(gauges.queued + gauges.running);
        if want == 0 {
            select! {
                recv(capacity) -> _ => {}
                recv(stopped) -> _ => {}
            }
            continue;
        }
        request.number_of_work_units = want;
        let claimed_at = Instant::now();
        let claimed = {
            let _span = tracing::debug_span!("coordinate.claim", want).entered();
            worker.request_attempts(&request)
        };
        match claimed {
            Ok(attempts) if attempts.is_empty() => {
                wait_for_work(&shared, jittered(config.poll_interval, &mut rng), &stopped)
            }
            // Anything claimed: ask again at once. Stopping only at a full
            // answer would stall on specs whose `max_getwork` is small.
            Ok(attempts) => {
                shared.counters.add(Count::Claimed, attempts.len());
                for id in shared.flights.admit(attempts, claimed_at + config.lease) {
                    if jobs.send(id).is_err() {
                        return;
                    }
                }
            }
            Err(error) => {
                tracing::warn!(%error, "could not claim work; trying again after the poll interval");
                let _ = stopped.recv_timeout(jittered(config.poll_interval, &mut rng));
            }
        }
    }
}

/// Waits until work may be there, `timeout` passes, or the runtime stops.
fn wait_for_work(shared: &Shared, timeout: Duration, stopped: &Receiver<()>) {
    let until = Instant::now() + timeout;
    while !is_stopped(stopped) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        match shared.namespace.wait_for_work(left.min(WAIT_SLICE)) {
            Ok(Wakeup::Woken) => {
                shared
                    .wakeup
                    .store(WakeupState::Listening as u8, Ordering::Relaxed);
                return;
            }
            Ok(Wakeup::TimedOut) => {
                shared
                    .wakeup
                    .store(WakeupState::Listening as u8, Ordering::Relaxed);
            }
            Ok(Wakeup::Polling) => {
                let before = shared
                    .wakeup
                    .swap(WakeupState::Polling as u8, Ordering::Relaxed);
                if before != WakeupState::Polling as u8 {
                    tracing::warn!(
                        poll_interval = ?shared.config.poll_interval,
                        "the backend cannot announce new work; polling for it"
                    );
                }
            }
            Err(error) => {
                tracing::warn!(%error, "could not wait for work");
                let _ = stopped.recv_timeout(left);
                return;
            }
        }
    }
}
