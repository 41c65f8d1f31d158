//! The worker runtime: register a handler per work spec, start it, stop
//! it cleanly.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use coordinate_api::definition::WorkSpecDefinition;
//! use coordinate_api::runtime::{JobOutcome, Runtime};
//! use coordinate_api::{Coordinate, Data, WorkUnitMeta};
//!
//! # fn main() -> coordinate_api::Result<()> {
//! let coordinate = coordinate_memory::MemoryCoordinate::new();
//! let namespace = coordinate.namespace("example")?;
//! let spec = namespace.set_work_spec(WorkSpecDefinition::new("greet").into())?;
//! spec.add_work_unit("world", Data::new(), WorkUnitMeta::default())?;
//!
//! let runtime = Runtime::builder(namespace)
//!     .handler("greet", |job: &coordinate_api::runtime::Job| {
//!         println!("hello, {}", job.work_unit_name());
//!         Ok(JobOutcome::finish())
//!     })
//!     .concurrency(2)
//!     .start()?;
//! while runtime.stats().finished < 1 {
//!     std::thread::sleep(Duration::from_millis(10));
//! }
//! runtime.shutdown();
//! let report = runtime.wait();
//! assert_eq!(report.totals.finished, 1);
//! # Ok(())
//! # }
//! ```
//!
//! # How it works
//!
//! One *dispatcher* thread claims units for the registered specs in
//! batches, as many as there are free executors (plus
//! [`prefetch`](RuntimeBuilder::prefetch)), and waits with
//! [`Namespace::wait_for_work`] when there
//! are none. [`concurrency`](RuntimeBuilder::concurrency) *executor*
//! threads run the handlers; a handler's panic is caught there. Results go
//! to a *completer* thread that sends them in batches with
//! [`Namespace::complete_attempts`].
//! A *supervisor* thread renews every held lease in one
//! [`Namespace::renew_attempts`] call
//! each third of the lease, cancels handlers whose lease was lost (their
//! results are not applied) or could not be renewed in time, enforces
//! maximum run times, keeps the worker records current, and runs the
//! shutdown. A *cancellation watcher* waits with
//! [`Namespace::wait_for_cancellation`] and has the supervisor renew at
//! once when someone else takes an attempt (expires it, clears, deletes
//! or re-adds its unit): the renewal is refused and the handler cancelled
//! with [`CancelReason::LeaseLost`] right away, its result dropped. Where
//! the backend cannot tell (the REST client, a pooler without a listener)
//! that happens at the next renewal, every
//! [`cancellation_poll`](RuntimeBuilder::cancellation_poll) interval
//! (by default a third of the lease).
//!
//! Delivery is at least once: a unit runs again only when its runtime died
//! or lost the lease, and the runtime cancels a handler before a lease it
//! could not renew runs out. Cancellation is cooperative: handlers look at
//! [`Job::is_cancelled`] or sleep with [`Job::sleep`].
//!
//! # Outcomes
//!
//! | the handler | the unit |
//! | --- | --- |
//! | `Ok(JobOutcome::Finish(data))` | finished; `output` in the data chains |
//! | `Ok(JobOutcome::RetryAfter(delay))` | offered again after the delay |
//! | `Ok(JobOutcome::Fail(reason))` | failed, the reason under `traceback` |
//! | `Ok(JobOutcome::Completed(outcome))` | already ended by the handler itself (a backend's transactional handler); nothing is sent |
//! | `Err(_)` or a panic | retried after a [`Backoff`] delay, the error under `traceback`; failed at [`max_attempts`](RuntimeBuilder::max_attempts) |
//! | `Err(_)` after a shutdown cancelled it | given back at once |
//!
//! # Stopping
//!
//! [`RuntimeHandle::shutdown`] stops claiming, gives back prefetched units,
//! lets running handlers finish within the [grace](RuntimeBuilder::grace)
//! period, then cancels them; what still runs after
//! [`abandon_after`](RuntimeBuilder::abandon_after) is given back too. The
//! last results are sent, the worker records deactivated, and
//! [`RuntimeHandle::wait`] returns a [`Report`]. With the `signals`
//! feature, `signals::stop_on_signals` does this on SIGTERM or SIGINT.

mod backoff;
mod builder;
mod cancel;
mod cancel_watch;
mod completer;
mod config;
mod dispatcher;
mod executor;
mod flights;
mod handle;
mod handler;
mod job;
mod panics;
mod records;
mod shutdown;
#[cfg(feature = "signals")]
pub mod signals;
mod stats;
mod supervisor;

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU8;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use self::backoff::Backoff;
pub use self::builder::RuntimeBuilder;
pub use self::cancel::{CancelReason, Cancelled};
pub use self::config::CompletionMode;
pub use self::handle::{RuntimeHandle, Stopper};
pub use self::handler::{outcome_of, Handler, JobError, JobOutcome};
pub use self::job::Job;
pub use self::stats::{Report, Stats};

use crate::clock::Clock;
use crate::namespace::Namespace;

/// Where runtimes start.
pub struct Runtime;

impl Runtime {
    /// A builder for a runtime working on `namespace`.
    pub fn builder(namespace: Arc<dyn Namespace>) -> RuntimeBuilder {
        RuntimeBuilder::new(namespace)
    }
}

/// A registered handler and its limits.
struct Registered {
    handler: Arc<dyn Handler>,
    max_run_time: Option<Duration>,
}

/// The handlers by work spec name.
struct Handlers(BTreeMap<String, Registered>);

impl Handlers {
    fn get(&self, work_spec: &str) -> Option<&Arc<dyn Handler>> {
        self.0.get(work_spec).map(|registered| &registered.handler)
    }

    fn max_run_time(&self, work_spec: &str) -> Option<Duration> {
        self.0
            .get(work_spec)
            .and_then(|registered| registered.max_run_time)
    }

    fn names(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }
}

/// How the dispatcher last heard of work, for the worker record.
#[repr(u8)]
enum WakeupState {
    Unknown,
    Listening,
    Polling,
}

/// What every runtime thread shares.
pub(crate) struct Shared {
    namespace: Arc<dyn Namespace>,
    config: config::Config,
    handlers: Handlers,
    flights: flights::Flights,
    counters: stats::Counters,
    wakeup: AtomicU8,
    clock: Arc<dyn Clock>,
    started: Instant,
    /// [`RuntimeBuilder::on_applied`]'s observer, if any.
    on_applied: Option<AppliedObserver>,
    /// Set by the cancellation watcher: renew every lease at the next tick.
    renew_now: std::sync::atomic::AtomicBool,
}

/// What [`RuntimeBuilder::on_applied`] calls.
pub(crate) type AppliedObserver = Arc<dyn Fn(&crate::completion::Completion) + Send + Sync>;

impl Shared {
    fn stats(&self) -> Stats {
        self.counters.snapshot(self.flights.gauges())
    }

    /// Counts a result the store accepted and tells the observer.
    fn applied(&self, completion: &crate::completion::Completion) {
        self.counters.applied(&completion.outcome);
        if let Some(observer) = &self.on_applied {
            observer(completion);
        }
    }
}
