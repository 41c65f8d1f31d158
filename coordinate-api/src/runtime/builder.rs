//! Setting a runtime up and starting its threads.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU8};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::clock::{Clock, SystemClock};
use crate::completion::Completion;
use crate::error::{BackendErrorKind, Error, Result};
use crate::namespace::Namespace;
use crate::runtime::config::Config;
use crate::runtime::executor::Results;
use crate::runtime::records::{default_worker_name, Records, MODE_RUN};
use crate::runtime::supervisor::{Supervisor, Threads};
use crate::runtime::{
    cancel_watch, completer, dispatcher, executor, AppliedObserver, Backoff, CompletionMode,
    Handler, Handlers, Registered, RuntimeHandle, Shared, Stopper, WakeupState,
};

/// Sets up a runtime: its handlers and settings. Every setting has a
/// default; [`RuntimeBuilder::start`] checks them.
pub struct RuntimeBuilder {
    namespace: Arc<dyn Namespace>,
    handlers: BTreeMap<String, Registered>,
    config: Config,
    worker_name: Option<String>,
    clock: Arc<dyn Clock>,
    on_applied: Option<AppliedObserver>,
}

impl RuntimeBuilder {
    pub(crate) fn new(namespace: Arc<dyn Namespace>) -> Self {
        RuntimeBuilder {
            namespace,
            handlers: BTreeMap::new(),
            config: Config::default(),
            worker_name: None,
            clock: Arc::new(SystemClock),
            on_applied: None,
        }
    }

    /// Runs `handler` for the units of the work spec `work_spec`. The
    /// runtime asks only for the specs it has handlers for.
    pub fn handler(mut self, work_spec: impl Into<String>, handler: impl Handler) -> Self {
        let registered = Registered {
            handler: Arc::new(handler),
            max_run_time: None,
        };
        self.handlers.insert(work_spec.into(), registered);
        self
    }

    /// Cancels the handler of `work_spec` (with
    /// [`CancelReason::Deadline`](super::CancelReason::Deadline)) when it
    /// runs longer than `limit`. Set it after the handler.
    pub fn max_run_time(mut self, work_spec: &str, limit: Duration) -> Self {
        if let Some(registered) = self.handlers.get_mut(work_spec) {
            registered.max_run_time = Some(limit);
        }
        self
    }

    /// How many handlers run at once (default 4).
    pub fn concurrency(mut self, executors: usize) -> Self {
        self.config.concurrency = executors;
        self
    }

    /// How many units to claim beyond the free executors, so the next job
    /// is at hand when one ends (default 0). Prefetched units are leased
    /// and renewed like running ones, and given back at a shutdown.
    pub fn prefetch(mut self, units: usize) -> Self {
        self.config.prefetch = units;
        self
    }

    /// How long each lease lasts; renewed every third of it (default 60 s,
    /// at least 300 ms).
    pub fn lease(mut self, lease: Duration) -> Self {
        self.config.lease = lease;
        self
    }

    /// How long to wait for work, with ±20 % jitter, before asking again
    /// when the backend does not announce it sooner (default 1 s).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.config.poll_interval = interval;
        self
    }

    /// How long a graceful stop lets running handlers finish before it
    /// cancels them (default 10 s).
    pub fn grace(mut self, grace: Duration) -> Self {
        self.config.grace = grace;
        self
    }

    /// How long after cancelling them a stop waits for handlers before it
    /// gives their units back anyway (default 500 ms).
    pub fn abandon_after(mut self, wait: Duration) -> Self {
        self.config.abandon_after = wait;
        self
    }

    /// How results reach the database (default: batches of 100 or 5 ms).
    pub fn completion(mut self, mode: CompletionMode) -> Self {
        self.config.completion = mode;
        self
    }

    /// Delays between attempts after handler errors (default 1 s base,
    /// 10 minutes cap, full jitter).
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.config.backoff = backoff;
        self
    }

    /// After this many attempts a handler error fails the unit for good
    /// instead of retrying it (default 25).
    pub fn max_attempts(mut self, attempts: usize) -> Self {
        self.config.max_attempts = attempts;
        self
    }

    /// Only take work specs with one of these `runtime`s (default: any).
    pub fn runtimes<I: IntoIterator<Item = S>, S: Into<String>>(mut self, runtimes: I) -> Self {
        self.config.runtimes = runtimes.into_iter().map(Into::into).collect();
        self
    }

    /// The parent worker record's name (default: host, process id and a
    /// random suffix). Executors are `NAME.0`, `NAME.1`, ….
    pub fn worker_name(mut self, name: impl Into<String>) -> Self {
        self.worker_name = Some(name.into());
        self
    }

    /// Where the backend cannot tell of attempts taken from their workers
    /// ([`Namespace::wait_for_cancellation`] answers
    /// [`Wakeup::Polling`](crate::Wakeup::Polling): the REST client, a
    /// pooler without a listener), renew every lease this often to find
    /// out (default: the heartbeat, a third of the lease). Backends that
    /// can tell wake the runtime at once whatever this says.
    pub fn cancellation_poll(mut self, interval: Duration) -> Self {
        self.config.cancellation_poll = Some(interval);
        self
    }

    /// Calls `observer` with every result the store accepted, once per
    /// attempt, after its commit: finishes, failures, retries and the
    /// releases of units given back. A result sent again after a lost
    /// connection and found already applied is reported once; results the
    /// store refused (a lost lease) or that were never sent are not.
    ///
    /// It runs on the thread that sent the result (the completer, or the
    /// executor in [`CompletionMode::Immediate`]), so it should be quick:
    /// an audit line, a metric, a note of what was acknowledged.
    pub fn on_applied(mut self, observer: impl Fn(&Completion) + Send + Sync + 'static) -> Self {
        self.on_applied = Some(Arc::new(observer));
        self
    }

    /// The clock for the worker records' report times (default: the
    /// system's). Leases and deadlines use the monotonic clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Checks the settings, creates the worker records and starts the
    /// threads.
    ///
    /// Errors: [`InvalidInput`](crate::Error::InvalidInput) for a setting
    /// out of range or no handlers; what creating the worker records
    /// returns.
    pub fn start(self) -> Result<RuntimeHandle> {
        self.config.validate()?;
        if self.handlers.is_empty() {
            return Err(Error::invalid("runtime handlers", "register at least one"));
        }
        let worker_name = self.worker_name.unwrap_or_else(default_worker_name);
        let records = Records::open(
            self.namespace.as_ref(),
            &worker_name,
            self.config.concurrency,
        )?;
        let shared = Arc::new(Shared {
            namespace: self.namespace,
            config: self.config,
            handlers: Handlers(self.handlers),
            flights: Default::default(),
            counters: Default::default(),
            wakeup: AtomicU8::new(WakeupState::Unknown as u8),
            clock: self.clock,
            started: Instant::now(),
            on_applied: self.on_applied,
            renew_now: AtomicBool::new(false),
        });
        records.report(&shared, MODE_RUN);
        let (stop_requests_tx, stop_requests) = crossbeam_channel::unbounded();
        let supervisor = Supervisor::new(shared.clone(), records, stop_requests);
        let threads = spawn_threads(&shared, supervisor.records.parent.clone())?;
        let supervisor = spawn("coordinate-supervisor", move || supervisor.run(threads))?;
        Ok(RuntimeHandle {
            shared,
            stopper: Stopper::new(stop_requests_tx),
            supervisor,
            worker_name,
        })
    }
}

/// Starts the completer, the executors and the dispatcher.
fn spawn_threads(shared: &Arc<Shared>, parent: Arc<dyn crate::Worker>) -> Result<Threads> {
    let config = &shared.config;
    let completer = match config.completion {
        CompletionMode::Batched { size, delay } => {
            let (messages, received) = crossbeam_channel::unbounded();
            let shared = shared.clone();
            let thread = spawn("coordinate-completer", move || {
                completer::run(shared, received, size, delay)
            })?;
            Some((messages, thread))
        }
        CompletionMode::Immediate => None,
    };
    let (jobs, jobs_received) = crossbeam_channel::unbounded();
    let (capacity, capacity_received) = crossbeam_channel::bounded(1);
    let executors = (0..config.concurrency)
        .map(|index| {
            let shared = shared.clone();
            let jobs = jobs_received.clone();
            let capacity = capacity.clone();
            let results = match &completer {
                Some((messages, _)) => Results::Batched(messages.clone()),
                None => Results::Immediate,
            };
            spawn(&format!("coordinate-executor-{index}"), move || {
                executor::run(shared, index, jobs, capacity, results)
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let (stop_broadcast, stopped) = crossbeam_channel::bounded(0);
    let cancel_watch = {
        let (shared, stopped) = (shared.clone(), stopped.clone());
        spawn("coordinate-cancel-watch", move || {
            cancel_watch::run(shared, stopped)
        })?
    };
    let dispatcher = {
        let shared = shared.clone();
        spawn("coordinate-dispatcher", move || {
            dispatcher::run(shared, parent, jobs, capacity_received, stopped)
        })?
    };
    Ok(Threads {
        dispatcher,
        cancel_watch,
        executors,
        completer,
        stop_broadcast,
    })
}

fn spawn<T: Send + 'static>(
    name: &str,
    body: impl FnOnce() -> T + Send + 'static,
) -> Result<std::thread::JoinHandle<T>> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(body)
        .map_err(|error| Error::backend(BackendErrorKind::Other, error))
}
