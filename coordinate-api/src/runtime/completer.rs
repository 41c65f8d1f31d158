//! Sending handlers' results to the database: in batches from a completer
//! thread, or one at a time from the executor.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use crate::completion::{Completion, Outcome};
use crate::error::{Error, Result};
use crate::runtime::flights::{Flight, JobId};
use crate::runtime::stats::Count;
use crate::runtime::{CompletionMode, Shared};
use crate::status::AttemptStatus;

/// What the completer thread is told.
pub(crate) enum Message {
    /// The outcome of this job waits in the flight table.
    Done(JobId),
    /// Send everything received so far, trying until `deadline`, then say
    /// so on `done` and stop.
    Drain { deadline: Instant, done: Sender<()> },
}

/// The first and the longest pause between tries of a failed send.
const FIRST_PAUSE: Duration = Duration::from_millis(50);
const LONGEST_PAUSE: Duration = Duration::from_secs(2);

/// The completer thread: gathers results into batches of up to `size`,
/// waiting at most `delay` after the first one.
pub(crate) fn run(shared: Arc<Shared>, messages: Receiver<Message>, size: usize, delay: Duration) {
    while let Ok(first) = messages.recv() {
        let mut ids = Vec::with_capacity(size);
        let mut drain = None;
        match first {
            Message::Done(id) => ids.push(id),
            Message::Drain { deadline, done } => drain = Some((deadline, done)),
        }
        let gather_until = Instant::now() + delay;
        while drain.is_none() && ids.len() < size {
            match messages.recv_deadline(gather_until) {
                Ok(Message::Done(id)) => ids.push(id),
                Ok(Message::Drain { deadline, done }) => drain = Some((deadline, done)),
                Err(_) => break,
            }
        }
        if drain.is_some() {
            ids.extend(messages.try_iter().filter_map(|message| match message {
                Message::Done(id) => Some(id),
                Message::Drain { .. } => None,
            }));
        }
        let give_up = match &drain {
            Some((deadline, _)) => *deadline,
            None => Instant::now() + shared.config.lease,
        };
        for chunk in ids.chunks(size) {
            flush(&shared, chunk, give_up);
        }
        if let Some((_, done)) = drain {
            let _ = done.send(());
            return;
        }
    }
}

/// Sends the waiting outcomes of `ids`. A failure of the whole send that
/// may pass (a lost connection) is tried again, with growing pauses, until
/// `give_up`; the attempts stay in the flight table meanwhile, so their
/// leases keep being renewed.
pub(crate) fn flush(shared: &Shared, ids: &[JobId], give_up: Instant) {
    let entries = shared.flights.take_for_flush(ids);
    if entries.is_empty() {
        return;
    }
    let completions: Vec<Completion> = entries.iter().map(|(_, c)| c.clone()).collect();
    send_all(shared, &entries, &completions, give_up);
}

/// Gives held attempts back at once (they become available to anyone):
/// prefetched units at a shutdown, or, `abandoned`, those whose handlers
/// did not stop in time. Both count as released.
pub(crate) fn release(
    shared: &Shared,
    flights: Vec<(JobId, Flight)>,
    abandoned: bool,
    give_up: Instant,
) {
    if flights.is_empty() {
        return;
    }
    let entries: Vec<(JobId, Completion)> = flights
        .into_iter()
        .map(|(id, flight)| (id, Completion::new(flight.attempt, Outcome::Expire(None))))
        .collect();
    let completions: Vec<Completion> = entries.iter().map(|(_, c)| c.clone()).collect();
    let released = send_all(shared, &entries, &completions, give_up);
    if abandoned {
        shared.counters.add(Count::Abandoned, released);
    }
}

/// Sends `completions`, retrying as [`flush`] says; returns how many the
/// backend accepted.
fn send_all(
    shared: &Shared,
    entries: &[(JobId, Completion)],
    completions: &[Completion],
    give_up: Instant,
) -> usize {
    let _span = tracing::debug_span!("coordinate.complete", batch = completions.len()).entered();
    let mut pause = FIRST_PAUSE;
    let mut failed_before = false;
    loop {
        match send(shared, completions) {
            Ok(results) => {
                let mut accepted = 0;
                for ((id, completion), result) in entries.iter().zip(results) {
                    accepted += usize::from(settle(shared, completion, result, failed_before));
                    shared.flights.remove(*id);
                }
                return accepted;
            }
            Err(error) if error.is_transient() && Instant::now() + pause < give_up => {
                tracing::warn!(%error, batch = completions.len(), retry_in = ?pause,
                    "could not send results; trying again");
                std::thread::sleep(pause);
                pause = (pause * 2).min(LONGEST_PAUSE);
                failed_before = true;
            }
            Err(error) => {
                tracing::error!(%error, batch = completions.len(),
                    "gave up sending results; their units come back when their leases run out");
                for (id, _) in entries {
                    shared.flights.remove(*id);
                }
                let count = if error.is_transient() {
                    Count::Unsent
                } else {
                    Count::Refused
                };
                shared.counters.add(count, entries.len());
                return 0;
            }
        }
    }
}

/// One send, batched or not. In immediate mode a transient error of the
/// single call counts as a failure of the whole send, so it is retried.
fn send(shared: &Shared, completions: &[Completion]) -> Result<Vec<Result<()>>> {
    match (shared.config.completion, completions) {
        (CompletionMode::Immediate, [completion]) => match completion.apply_alone() {
            Err(error) if error.is_transient() => Err(error),
            result => Ok(vec![result]),
        },
        _ => shared.namespace.complete_attempts(completions),
    }
}

/// Counts one entry's answer; returns whether the backend accepted it.
fn settle(
    shared: &Shared,
    completion: &Completion,
    result: Result<()>,
    failed_before: bool,
) -> bool {
    match result {
        Ok(()) => {
            shared.applied(completion);
            true
        }
        Err(Error::NotPending { .. } | Error::LostLease { .. })
            if failed_before && already_applied(completion) =>
        {
            // The earlier send did commit before its connection broke.
            shared.applied(completion);
            true
        }
        // An attempt or unit that no longer exists held no lease either:
        // deleted or re-added meanwhile, or, after a failover with
        // asynchronous replication, a claim the new primary never got.
        Err(error @ (Error::NotPending { .. } | Error::LostLease { .. } | Error::Gone { .. })) => {
            tracing::warn!(%error, "result not applied: the lease was lost first");
            shared.counters.add(Count::LostLease, 1);
            false
        }
        Err(error) => {
            tracing::error!(%error, "the backend refused a result");
            shared.counters.add(Count::Refused, 1);
            false
        }
    }
}

/// Whether the attempt already has the status `completion` gives it.
fn already_applied(completion: &Completion) -> bool {
    let wanted = match completion.outcome {
        Outcome::Finish(_) => AttemptStatus::Finished,
        Outcome::Fail(_) => AttemptStatus::Failed,
        Outcome::Retry { .. } => AttemptStatus::Retryable,
        Outcome::Expire(_) => AttemptStatus::Expired,
    };
    completion
        .attempt
        .status()
        .is_ok_and(|status| status == wanted)
}

/// Waits for the completer to drain, at most until `deadline` plus a
/// second for the last send.
pub(crate) fn drain(messages: &Sender<Message>, deadline: Instant) {
    let (done, finished) = crossbeam_channel::bounded(1);
    if messages.send(Message::Drain { deadline, done }).is_ok() {
        let wait = deadline.saturating_duration_since(Instant::now()) + Duration::from_secs(1);
        if let Err(RecvTimeoutError::Timeout) = finished.recv_timeout(wait) {
            tracing::warn!("the completer did not drain in time");
        }
    }
}
