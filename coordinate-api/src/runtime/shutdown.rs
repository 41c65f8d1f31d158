//! The graceful stop, on one deadline: stop claiming, give back what no
//! handler started, let running handlers finish within the grace period,
//! cancel them, give back what still runs, send the last results, and
//! deactivate the worker records.

use std::time::{Duration, Instant};

use crate::runtime::cancel::CancelReason;
use crate::runtime::completer;
use crate::runtime::flights::Stage;
use crate::runtime::records::MODE_STOPPING;
use crate::runtime::stats::Report;
use crate::runtime::supervisor::{StopKind, Supervisor, Threads};

/// How long a give-back of held attempts may keep trying when the
/// database does not answer.
const RELEASE_PATIENCE: Duration = Duration::from_secs(1);

/// Runs the stop. `kind` Immediate skips the grace period.
pub(crate) fn run(mut supervisor: Supervisor, threads: Threads, kind: StopKind) -> Report {
    let begun = Instant::now();
    let shared = supervisor.shared.clone();
    let config = &shared.config;
    tracing::info!(?kind, grace = ?config.grace, "runtime stopping");
    drop(threads.stop_broadcast);
    // A claim still on its way when the stop began must not start a
    // handler the grace and the cancellation below never see.
    shared.flights.close();
    supervisor.mode = MODE_STOPPING;
    supervisor.records.report(&shared, MODE_STOPPING);
    release_queued(&supervisor);

    let running = |shared: &crate::runtime::Shared| shared.flights.gauges().running == 0;
    if kind == StopKind::Graceful {
        supervisor.tick_until(begun + config.grace, running);
    }
    shared.flights.cancel_running(CancelReason::Shutdown);
    supervisor.tick_until(Instant::now() + config.abandon_after, running);
    let abandoned = shared
        .flights
        .take_where(|stage| matches!(stage, Stage::Running { .. }));
    if !abandoned.is_empty() {
        tracing::warn!(
            jobs = abandoned.len(),
            "handlers did not stop in time; their units are released"
        );
    }
    completer::release(&shared, abandoned, true, Instant::now() + RELEASE_PATIENCE);

    // The dispatcher may have claimed once more while the stop began.
    if threads.dispatcher.join().is_err() {
        tracing::error!("the dispatcher thread panicked");
    }
    if threads.cancel_watch.join().is_err() {
        tracing::error!("the cancellation watcher thread panicked");
    }
    release_queued(&supervisor);

    match threads.completer {
        Some((messages, completer)) => {
            completer::drain(&messages, Instant::now() + RELEASE_PATIENCE);
            drop(messages);
            if completer.join().is_err() {
                tracing::error!("the completer thread panicked");
            }
        }
        // Executors send their own results; give the last ones a moment.
        None => {
            let backlog_sent =
                |shared: &crate::runtime::Shared| shared.flights.gauges().backlog == 0;
            supervisor.tick_until(Instant::now() + RELEASE_PATIENCE, backlog_sent);
        }
    }
    supervisor.records.deactivate();
    // Idle executors end once the dispatcher has gone; one still inside an
    // abandoned handler is left to finish on its own.
    let settle_until = Instant::now() + Duration::from_millis(200);
    while threads.executors.iter().any(|e| !e.is_finished()) && Instant::now() < settle_until {
        std::thread::sleep(Duration::from_millis(5));
    }
    for executor in threads.executors {
        if executor.is_finished() && executor.join().is_err() {
            tracing::error!("an executor thread panicked");
        }
    }
    let report = Report {
        totals: shared.stats(),
        shutdown: begun.elapsed(),
        elapsed: shared.started.elapsed(),
    };
    tracing::info!(?report, "runtime stopped");
    report
}

/// Gives back every claimed unit no handler has started.
fn release_queued(supervisor: &Supervisor) {
    let shared = &supervisor.shared;
    let queued = shared
        .flights
        .take_where(|stage| matches!(stage, Stage::Queued));
    completer::release(shared, queued, false, Instant::now() + RELEASE_PATIENCE);
}
