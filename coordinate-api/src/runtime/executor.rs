//! The executor threads: run one job at a time, turn what the handler did
//! into an outcome, and pass it on.

use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender};
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::completion::{Completion, Outcome};
use crate::runtime::cancel::CancelReason;
use crate::runtime::completer::{self, Message};
use crate::runtime::flights::{Ended, JobId};
use crate::runtime::handler::{outcome_of, with_traceback};
use crate::runtime::stats::Count;
use crate::runtime::{panics, Job, JobError, JobOutcome, Shared};

/// Where an executor sends finished jobs.
pub(crate) enum Results {
    /// To the completer thread.
    Batched(Sender<Message>),
    /// Itself, at once.
    Immediate,
}

/// One executor thread's loop; it ends when the dispatcher stops.
pub(crate) fn run(
    shared: Arc<Shared>,
    index: usize,
    jobs: Receiver<JobId>,
    capacity: Sender<()>,
    results: Results,
) {
    let mut rng = StdRng::from_rng(&mut rand::rng());
    for id in jobs {
        let Some((attempt, cancel)) = shared
            .flights
            .start(id, index, |spec| shared.handlers.max_run_time(spec))
        else {
            continue;
        };
        let job = Job::with_cancellation(attempt, cancel);
        let (outcome, applied) = run_job(&shared, &job, &mut rng);
        if applied {
            // The handler ended the attempt itself: nothing to send.
            shared.flights.remove(id);
            shared.applied(&Completion::new(job.attempt().clone(), outcome));
            let _ = capacity.try_send(());
            continue;
        }
        match shared.flights.ended(id, outcome) {
            Ended::Completing => match &results {
                Results::Batched(completer) => {
                    if completer.send(Message::Done(id)).is_err() {
                        shared.flights.remove(id);
                    }
                }
                Results::Immediate => {
                    completer::flush(&shared, &[id], Instant::now() + shared.config.lease)
                }
            },
            Ended::Lost => {
                tracing::debug!(unit = job.work_unit_name(), "result dropped: lease lost")
            }
            Ended::Gone => {}
        }
        // A full buffer already tells the dispatcher there is room.
        let _ = capacity.try_send(());
    }
}

/// Runs the job's handler inside a span and decides its outcome; `true`
/// when the handler already applied it ([`JobOutcome::Completed`]).
fn run_job(shared: &Shared, job: &Job, rng: &mut StdRng) -> (Outcome, bool) {
    let span = tracing::info_span!(
        "coordinate.job",
        "messaging.system" = "coordinate",
        "messaging.operation.type" = "process",
        "messaging.destination.name" = job.work_spec_name(),
        "messaging.message.id" = job.work_unit_name(),
        "coordinate.attempt" = tracing::field::Empty,
        "coordinate.outcome" = tracing::field::Empty,
        "coordinate.duration_ms" = tracing::field::Empty,
    );
    let _entered = span.enter();
    let returned = match shared.handlers.get(job.work_spec_name()) {
        Some(handler) => panics::catch(|| handler.handle(job)),
        None => Ok(Err(JobError::from("no handler for this work spec"))),
    };
    let applied = matches!(returned, Ok(Ok(JobOutcome::Completed(_))));
    let outcome = decide(shared, job, returned, rng);
    span.record("coordinate.outcome", outcome_name(&outcome));
    span.record("coordinate.duration_ms", job.elapsed().as_millis() as u64);
    (outcome, applied)
}

/// Turns what the handler did into the outcome to send. Errors and panics
/// are retried with backoff until the runtime's maximum number of
/// attempts, then fail; a job cancelled by a shutdown that ends in an
/// error is released instead, so another worker takes it at once.
fn decide(
    shared: &Shared,
    job: &Job,
    returned: Result<Result<JobOutcome, JobError>, String>,
    rng: &mut StdRng,
) -> Outcome {
    let problem = match returned {
        Ok(Ok(outcome)) => return outcome_of(job, outcome),
        Ok(Err(error)) => error.message(),
        Err(panic) => {
            shared.counters.add(Count::Panicked, 1);
            tracing::error!(message = %panic, "handler panicked");
            panic
        }
    };
    if job.cancel_reason() == Some(CancelReason::Shutdown) {
        return Outcome::Expire(None);
    }
    let attempt = job.attempt_number().unwrap_or(1);
    tracing::Span::current().record("coordinate.attempt", attempt);
    let max = shared.config.max_attempts;
    if attempt >= max {
        let reason = format!("{problem}\n(attempt {attempt} of at most {max})");
        return Outcome::Fail(with_traceback(job, reason));
    }
    Outcome::Retry {
        data: with_traceback(job, problem),
        delay: shared.config.backoff.delay(attempt, rng),
    }
}

fn outcome_name(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Finish(_) => "finish",
        Outcome::Fail(_) => "fail",
        Outcome::Retry { .. } => "retry",
        Outcome::Expire(_) => "release",
    }
}
