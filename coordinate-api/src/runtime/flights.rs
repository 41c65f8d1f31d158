//! Every attempt the runtime holds, from claim to completion, and where
//! it stands. The supervisor renews what is here; what leaves is done.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::attempt::Attempt;
use crate::completion::{Completion, Outcome};
use crate::runtime::cancel::{CancelReason, Cancellation};
use crate::runtime::stats::Gauges;

/// The runtime's own number for a job (the same unit claimed twice gets
/// two).
pub(crate) type JobId = u64;

/// Where a job stands.
pub(crate) enum Stage {
    /// Claimed, waiting for an executor.
    Queued,
    /// A handler runs it on executor `executor`.
    Running {
        executor: usize,
        deadline: Option<Instant>,
    },
    /// The handler returned this outcome; it waits for the completer.
    Completing(Outcome),
    /// Being sent to the database now.
    Flushing,
}

/// One held attempt.
pub(crate) struct Flight {
    pub(crate) attempt: Arc<dyn Attempt>,
    pub(crate) cancel: Arc<Cancellation>,
    /// Until when the lease holds, as far as we know.
    pub(crate) lease_until: Instant,
    pub(crate) stage: Stage,
}

/// The table of held attempts.
#[derive(Default)]
pub(crate) struct Flights {
    table: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    next_id: JobId,
    flights: HashMap<JobId, Flight>,
    /// Set when a stop begins: no job starts after that, so a claim that
    /// lands during the stop stays queued and is given back.
    closed: bool,
}

/// What a handler's end meant for its job.
pub(crate) enum Ended {
    /// The outcome waits for the completer.
    Completing,
    /// The lease was lost meanwhile: nothing is applied.
    Lost,
    /// A shutdown gave the attempt up while the handler ran.
    Gone,
}

impl Flights {
    fn lock(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes freshly claimed attempts in, leased until `lease_until`.
    pub(crate) fn admit(
        &self,
        attempts: Vec<Arc<dyn Attempt>>,
        lease_until: Instant,
    ) -> Vec<JobId> {
        let mut table = self.lock();
        attempts
            .into_iter()
            .map(|attempt| {
                let id = table.next_id;
                table.next_id += 1;
                let flight = Flight {
                    attempt,
                    cancel: Arc::default(),
                    lease_until,
                    stage: Stage::Queued,
                };
                table.flights.insert(id, flight);
                id
            })
            .collect()
    }

    /// Moves a queued job to `executor`; `None` when it is no longer
    /// queued (released by a shutdown, or its lease lost) or the runtime
    /// is stopping.
    pub(crate) fn start(
        &self,
        id: JobId,
        executor: usize,
        max_run_time: impl Fn(&str) -> Option<Duration>,
    ) -> Option<(Arc<dyn Attempt>, Arc<Cancellation>)> {
        let mut table = self.lock();
        if table.closed {
            return None;
        }
        let flight = table.flights.get_mut(&id)?;
        if !matches!(flight.stage, Stage::Queued) {
            return None;
        }
        let limit = max_run_time(flight.attempt.work_unit().work_spec().name());
        flight.stage = Stage::Running {
            executor,
            deadline: limit.and_then(|limit| Instant::now().checked_add(limit)),
        };
        Some((flight.attempt.clone(), flight.cancel.clone()))
    }

    /// Starts no more jobs (a stop began); queued ones stay queued.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
    }

    /// Records a handler's outcome.
    pub(crate) fn ended(&self, id: JobId, outcome: Outcome) -> Ended {
        let mut table = self.lock();
        match table.flights.get_mut(&id) {
            None => Ended::Gone,
            Some(flight) if flight.cancel.reason() == Some(CancelReason::LeaseLost) => {
                table.flights.remove(&id);
                Ended::Lost
            }
            Some(flight) => {
                flight.stage = Stage::Completing(outcome);
                Ended::Completing
            }
        }
    }

    /// Takes the waiting outcomes of `ids` to send them; jobs lost or
    /// released meanwhile are left out.
    pub(crate) fn take_for_flush(&self, ids: &[JobId]) -> Vec<(JobId, Completion)> {
        let mut table = self.lock();
        ids.iter()
            .filter_map(|id| {
                let flight = table.flights.get_mut(id)?;
                if !matches!(flight.stage, Stage::Completing(_)) {
                    return None;
                }
                let Stage::Completing(outcome) =
                    std::mem::replace(&mut flight.stage, Stage::Flushing)
                else {
                    unreachable!("checked above");
                };
                Some((*id, Completion::new(flight.attempt.clone(), outcome)))
            })
            .collect()
    }

    /// Takes every job in `stage`-matching state out of the table, for a
    /// shutdown to release them.
    pub(crate) fn take_where(&self, pick: impl Fn(&Stage) -> bool) -> Vec<(JobId, Flight)> {
        let mut table = self.lock();
        let ids: Vec<JobId> = table
            .flights
            .iter()
            .filter(|(_, flight)| pick(&flight.stage))
            .map(|(id, _)| *id)
            .collect();
        ids.into_iter()
            .filter_map(|id| table.flights.remove(&id).map(|flight| (id, flight)))
            .collect()
    }

    /// Forgets a job (its completion was applied, refused or given up).
    pub(crate) fn remove(&self, id: JobId) {
        self.lock().flights.remove(&id);
    }

    /// Every held attempt, to renew, with whether a result for it is being
    /// sent right now (its renewal may then fail harmlessly).
    pub(crate) fn renewable(&self) -> Vec<(JobId, Arc<dyn Attempt>)> {
        self.lock()
            .flights
            .iter()
            .filter(|(_, flight)| flight.cancel.reason() != Some(CancelReason::LeaseLost))
            .map(|(id, flight)| (*id, flight.attempt.clone()))
            .collect()
    }

    /// Records a renewal that succeeded: leased until `lease_until`.
    pub(crate) fn renewed(&self, id: JobId, lease_until: Instant) {
        if let Some(flight) = self.lock().flights.get_mut(&id) {
            flight.lease_until = lease_until;
        }
    }

    /// Records that the backend refused to renew `id`. Returns whether it
    /// counts as a lost lease: a job whose result is being sent was likely
    /// just completed by that result, and is left alone.
    pub(crate) fn refused_renewal(&self, id: JobId) -> bool {
        let mut table = self.lock();
        let Some(flight) = table.flights.get_mut(&id) else {
            return false;
        };
        if matches!(flight.stage, Stage::Flushing) {
            return false;
        }
        flight.cancel.cancel(CancelReason::LeaseLost);
        if !matches!(flight.stage, Stage::Running { .. }) {
            // Nobody is left to notice the cancellation.
            table.flights.remove(&id);
        }
        true
    }

    /// Cancels handlers past their maximum run time, and gives up jobs
    /// whose leases will run out within `margin` without having been
    /// renewed. Returns how many leases were given up.
    pub(crate) fn enforce_deadlines(&self, now: Instant, margin: Duration) -> usize {
        let mut table = self.lock();
        let mut lost = Vec::new();
        for (id, flight) in &table.flights {
            if let Stage::Running {
                deadline: Some(deadline),
                ..
            } = flight.stage
            {
                if deadline <= now {
                    flight.cancel.cancel(CancelReason::Deadline);
                }
            }
            let lost_already = flight.cancel.reason() == Some(CancelReason::LeaseLost);
            if !lost_already && flight.lease_until.saturating_duration_since(now) <= margin {
                flight.cancel.cancel(CancelReason::LeaseLost);
                lost.push((*id, matches!(flight.stage, Stage::Running { .. })));
            }
        }
        for (id, running) in &lost {
            if !running {
                table.flights.remove(id);
            }
        }
        lost.len()
    }

    /// Cancels every running handler with `reason`.
    pub(crate) fn cancel_running(&self, reason: CancelReason) {
        for flight in self.lock().flights.values() {
            if matches!(flight.stage, Stage::Running { .. }) {
                flight.cancel.cancel(reason);
            }
        }
    }

    /// The unit each executor is working on: `(executor, spec, unit)`.
    pub(crate) fn running_units(&self) -> Vec<(usize, String, String)> {
        self.lock()
            .flights
            .values()
            .filter_map(|flight| match flight.stage {
                Stage::Running { executor, .. } => {
                    let unit = flight.attempt.work_unit();
                    let spec = unit.work_spec().name().to_owned();
                    Some((executor, spec, unit.name().to_owned()))
                }
                _ => None,
            })
            .collect()
    }

    /// How many jobs are queued, running, and waiting to be sent.
    pub(crate) fn gauges(&self) -> Gauges {
        let mut gauges = Gauges::default();
        for flight in self.lock().flights.values() {
            match flight.stage {
                Stage::Queued => gauges.queued += 1,
                Stage::Running { .. } => gauges.running += 1,
                Stage::Completing(_) | Stage::Flushing => gauges.backlog += 1,
            }
        }
        gauges
    }
}
