//! The dispatcher thread: claims as many units as there are free slots
//! (plus the prefetch), and waits for work when there is none.
//!
//! It runs [`CLAIM_STREAMS`] claim loops side by side, so that a claim can
//! be on its way while another one's units are handed out and run: with
//! one loop, executors that finish a batch faster than a claim's round
//! trip sat idle through every claim. The loops share the room through
//! [`Reservations`], so together they never hold more than the
//! concurrency plus the prefetch, and a loop claims only when an executor
//! would otherwise wait or when at least half of that room is free: a
//! claim of a few units costs nearly the round trip of a full one.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
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

/// How many claims may be on their way at once.
const CLAIM_STREAMS: usize = 2;

/// The units the claims on their way may bring, counted against the room
/// the runtime has.
#[derive(Default)]
struct Reservations(Mutex<usize>);

impl Reservations {
    /// How many units a claim may ask for now, reserved until
    /// [`Reservations::settle`]; 0 when none is worth asking for.
    fn reserve(&self, shared: &Shared) -> usize {
        let mut reserved = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let config = &shared.config;
        let room = config.concurrency + config.prefetch;
        let gauges = shared.flights.gauges();
        let held = gauges.queued + gauges.running + *reserved;
        let want = room.saturating_sub(held);
        let executor_waits = gauges.queued == 0 && held < config.concurrency;
        if want == 0 || (!executor_waits && want * 2 < room) {
            return 0;
        }
        *reserved += want;
        want
    }

    /// A claim of `reserved` came back (its units, if any, admitted).
    fn settle(&self, reserved: usize) {
        let mut held = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *held = held.saturating_sub(reserved);
    }
}

/// The dispatcher: [`CLAIM_STREAMS`] claim loops; it ends when the runtime
/// stops, and dropping `jobs` then ends the executors.
pub(crate) fn run(
    shared: Arc<Shared>,
    worker: Arc<dyn Worker>,
    jobs: Sender<JobId>,
    capacity: Receiver<()>,
    stopped: Receiver<()>,
) {
    let reservations = Reservations::default();
    std::thread::scope(|scope| {
        for _ in 1..CLAIM_STREAMS {
            let (jobs, capacity, stopped) = (jobs.clone(), capacity.clone(), stopped.clone());
            let (shared, worker, reservations) = (&shared, &worker, &reservations);
            scope.spawn(move || {
                claim_loop(shared, worker, reservations, &jobs, &capacity, &stopped)
            });
        }
        claim_loop(&shared, &worker, &reservations, &jobs, &capacity, &stopped);
    });
}

/// One claim stream.
fn claim_loop(
    shared: &Shared,
    worker: &Arc<dyn Worker>,
    reservations: &Reservations,
    jobs: &Sender<JobId>,
    capacity: &Receiver<()>,
    stopped: &Receiver<()>,
) {
    let mut rng = StdRng::from_rng(&mut rand::rng());
    let config = &shared.config;
    let mut request = AttemptRequest {
        lifetime: config.lease,
        work_specs: shared.handlers.names(),
        runtimes: config.runtimes.clone(),
        ..AttemptRequest::default()
    };
    while !is_stopped(stopped) {
        let want = reservations.reserve(shared);
        if want == 0 {
            // The other stream may hold the room: look again soon even
            // without a signal from an executor.
            select! {
                recv(capacity) -> _ => {}
                recv(stopped) -> _ => {}
                default(WAIT_SLICE) => {}
            }
            continue;
        }
        request.number_of_work_units = want;
        let claimed_at = Instant::now();
        let claimed = {
            let _span = tracing::debug_span!("coordinate.claim", want).entered();
            worker.request_attempts(&request)
        };
        let claimed = match claimed {
            Ok(attempts) if !attempts.is_empty() => {
                let ids = shared.flights.admit(attempts, claimed_at + config.lease);
                reservations.settle(want);
                Ok(ids)
            }
            other => {
                reservations.settle(want);
                other.map(|_| Vec::new())
            }
        };
        match claimed {
            Ok(ids) if ids.is_empty() => {
                wait_for_work(shared, jittered(config.poll_interval, &mut rng), stopped)
            }
            // Anything claimed: ask again at once. Stopping only at a full
            // answer would stall on specs whose `max_getwork` is small.
            Ok(ids) => {
                shared.counters.add(Count::Claimed, ids.len());
                for id in ids {
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
