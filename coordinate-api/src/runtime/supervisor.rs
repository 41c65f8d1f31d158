//! The supervisor thread: renews every held lease on each heartbeat,
//! reports the worker records, enforces maximum run times and lease
//! margins, and runs the shutdown when asked.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::{select, Receiver, Sender};

use crate::runtime::completer::Message;
use crate::runtime::config::TICK;
use crate::runtime::records::{Records, MODE_RUN};
use crate::runtime::stats::{Count, Report};
use crate::runtime::{shutdown, Shared};

/// How a stop was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopKind {
    /// Let running handlers finish within the grace period.
    Graceful,
    /// Cancel running handlers now.
    Immediate,
}

/// The threads a supervisor stops, and how to reach them.
pub(crate) struct Threads {
    pub(crate) dispatcher: JoinHandle<()>,
    pub(crate) cancel_watch: JoinHandle<()>,
    pub(crate) executors: Vec<JoinHandle<()>>,
    pub(crate) completer: Option<(Sender<Message>, JoinHandle<()>)>,
    /// Dropped to tell the dispatcher (and its waits) to stop.
    pub(crate) stop_broadcast: Sender<()>,
}

/// The supervisor's state.
pub(crate) struct Supervisor {
    pub(crate) shared: Arc<Shared>,
    pub(crate) records: Records,
    pub(crate) stop_requests: Receiver<StopKind>,
    pub(crate) mode: &'static str,
    next_heartbeat: Instant,
}

impl Supervisor {
    pub(crate) fn new(
        shared: Arc<Shared>,
        records: Records,
        stop_requests: Receiver<StopKind>,
    ) -> Self {
        let next_heartbeat = Instant::now() + shared.config.heartbeat();
        Supervisor {
            shared,
            records,
            stop_requests,
            mode: MODE_RUN,
            next_heartbeat,
        }
    }

    /// Supervises until a stop is asked for (or every stopper is dropped),
    /// then shuts down and reports.
    pub(crate) fn run(mut self, threads: Threads) -> Report {
        let ticker = crossbeam_channel::tick(TICK);
        let kind = loop {
            select! {
                recv(self.stop_requests) -> request => break request.unwrap_or(StopKind::Graceful),
                recv(ticker) -> _ => self.tick(),
            }
        };
        shutdown::run(self, threads, kind)
    }

    /// One tick: deadlines every time, the heartbeat when it is due.
    pub(crate) fn tick(&mut self) {
        let now = Instant::now();
        let config = &self.shared.config;
        let given_up = self
            .shared
            .flights
            .enforce_deadlines(now, config.lease_margin());
        if given_up > 0 {
            self.shared.counters.add(Count::LostLease, given_up);
            tracing::warn!(
                jobs = given_up,
                "leases could not be renewed in time; their handlers are cancelled"
            );
        }
        if now >= self.next_heartbeat {
            self.next_heartbeat = now + config.heartbeat();
            self.shared.renew_now.store(false, Ordering::SeqCst);
            self.heartbeat();
        } else if self.shared.renew_now.swap(false, Ordering::SeqCst) {
            // Someone may have taken an attempt of ours: find out now.
            self.renew_leases();
        }
    }

    /// Renews every held lease, then reports the records.
    fn heartbeat(&self) {
        let _span = tracing::debug_span!("coordinate.heartbeat").entered();
        self.renew_leases();
        self.records.report(&self.shared, self.mode);
    }

    /// Renews every held lease in one call; the handlers of those refused
    /// (taken by someone else) are cancelled.
    fn renew_leases(&self) {
        let shared = &self.shared;
        let held = shared.flights.renewable();
        if !held.is_empty() {
            let attempts: Vec<_> = held.iter().map(|(_, attempt)| attempt.clone()).collect();
            let renewed_at = Instant::now();
            match shared
                .namespace
                .renew_attempts(&attempts, shared.config.lease)
            {
                Ok(results) => {
                    for ((id, attempt), result) in held.iter().zip(results) {
                        match result {
                            Ok(()) => shared
                                .flights
                                .renewed(*id, renewed_at + shared.config.lease),
                            Err(error) => {
                                if shared.flights.refused_renewal(*id) {
                                    shared.counters.add(Count::LostLease, 1);
                                    tracing::warn!(%error, unit = attempt.work_unit().name(),
                                        "lease lost; its handler is cancelled");
                                }
                            }
                        }
                    }
                }
                Err(error) => tracing::warn!(%error, attempts = attempts.len(),
                    "could not renew leases; trying again at the next heartbeat"),
            }
        }
    }

    /// Keeps ticking until `done` holds or `until` passes. Returns whether
    /// an immediate stop was asked for meanwhile.
    pub(crate) fn tick_until(&mut self, until: Instant, done: impl Fn(&Shared) -> bool) -> bool {
        let ticker = crossbeam_channel::tick(TICK);
        while !done(&self.shared) && Instant::now() < until {
            select! {
                recv(self.stop_requests) -> request => match request {
                    Ok(StopKind::Immediate) => return true,
                    Ok(StopKind::Graceful) => {}
                    // Every stopper is gone; nobody can ask again.
                    Err(_) => self.stop_requests = crossbeam_channel::never(),
                },
                recv(ticker) -> _ => self.tick(),
            }
        }
        false
    }
}
