//! `Namespace::wait_for_work`: one `LISTEN` connection per coordinate.
//!
//! Statements that make units available call `pg_notify('coordinate_work',
//! <namespace id>)` inside their transaction, so a notification arrives
//! only after the commit. A background thread, started by the first wait,
//! owns a connection outside the pool that listens on that channel and
//! bumps the notified namespace's counter; waiters sleep on a condition
//! variable until their namespace's counter or the listener's generation
//! changes.
//!
//! The generation changes whenever the listener (re)starts listening:
//! notifications sent while it was not listening are lost, so every waiter
//! that began before then is woken (spuriously, which the API allows)
//! rather than missing a unit.
//!
//! When the listener cannot hear itself (a pooler in transaction mode, a
//! listener connection that keeps failing), or the builder says the pool
//! goes through such a pooler and names no direct connection to listen on
//! (`LISTEN` through it would leave session state behind for other
//! clients), the coordinate falls back to sleeping the timeout and
//! answering `Wakeup::Polling`, and logs that once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use coordinate_api::{Result, Wakeup};
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, Pool};
use diesel::sql_types::Text;
use diesel::{QueryResult, RunQueryDsl};

use crate::db::connection::establish;
use crate::db::connection::ConnInfo;

/// How often the listener asks libpq for notifications; it does not block,
/// so this bounds the wake-up latency.
const POLL_INTERVAL: Duration = Duration::from_millis(2);
/// How long the listener waits for its own probe before giving up on
/// notifications.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How often an idle listener checks that its connection still answers
/// (a connection dropped without a close is otherwise never noticed).
const KEEPALIVE: Duration = Duration::from_secs(5);
/// First and largest pause between reconnection attempts.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(5));
/// Payloads that start with this are probes, not namespace ids.
const PROBE_PREFIX: &str = "probe ";
/// Payloads `cancel <namespace id>` say that a pending attempt of the
/// namespace was taken from its worker (`wait_for_cancellation`); the
/// same channel carries them, so one `LISTEN` hears both.
const CANCEL_PREFIX: &str = "cancel ";

/// Tells the workers of namespace `namespace_id` that one of its pending
/// attempts may have been taken from its worker, so that a runtime holding
/// it stops its handler (`Namespace::wait_for_cancellation`). Sent with
/// the caller's transaction: PostgreSQL delivers it only if that commits.
pub(crate) fn announce_taken(conn: &mut PgConnection, namespace_id: i32) -> QueryResult<()> {
    crate::sql::unit::WAKE
        .prepare()
        .bind::<Text, _>(Event::Cancellation.payload(namespace_id))
        .execute(conn)
        .map(drop)
}

/// What a waiter waits for.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) enum Event {
    /// Units may have become available (`wait_for_work`).
    Work,
    /// An attempt may have been taken from its worker
    /// (`wait_for_cancellation`).
    Cancellation,
}

impl Event {
    /// The payload that announces this event for `namespace_id`.
    pub(crate) fn payload(self, namespace_id: i32) -> String {
        match self {
            Event::Work => namespace_id.to_string(),
            Event::Cancellation => format!("{CANCEL_PREFIX}{namespace_id}"),
        }
    }

    /// The event and namespace a payload announces; `None` for probes.
    fn parse(payload: &str) -> Option<(Event, i32)> {
        match payload.strip_prefix(CANCEL_PREFIX) {
            Some(id) => id.parse().ok().map(|id| (Event::Cancellation, id)),
            None => payload.parse().ok().map(|id| (Event::Work, id)),
        }
    }
}

/// Whether the listener hears notifications.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// Not listening yet, or lost its connection: waiters time out.
    Connecting,
    /// Listening, and heard its own probe.
    Listening,
    /// Notifications cannot arrive (or are turned off): timeout only.
    Polling,
}

struct State {
    mode: Mode,
    /// Bumped each time the listener starts listening.
    generation: u64,
    /// Notifications seen per event and namespace id.
    counters: HashMap<(Event, i32), u64>,
    /// The listener thread, once started.
    thread: Option<JoinHandle<()>>,
}

/// What waiters and the listener thread share.
struct Inner {
    state: Mutex<State>,
    changed: Condvar,
    stop: AtomicBool,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave counters inconsistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set_mode(&self, mode: Mode) {
        let mut state = self.lock();
        if mode == Mode::Listening {
            state.generation += 1;
        }
        state.mode = mode;
        drop(state);
        self.changed.notify_all();
    }
}

/// Whether and where a coordinate listens, as its builder decided.
pub(crate) enum Listening {
    /// Listen on a connection made with this.
    On(ConnInfo),
    /// Notifications turned off by the user: poll, silently.
    Off,
    /// The pool goes through a transaction-pooling proxy and no direct
    /// connection was given: poll, and say so once.
    Unsupported,
}

/// The coordinate's wake-ups: where its listener sends, what waiters wait on.
pub(crate) struct Listener {
    inner: Arc<Inner>,
    /// Where the listener connects; `None` when it never listens.
    info: Option<ConnInfo>,
    /// Set when polling needs saying, until the first wait has said it.
    unannounced: AtomicBool,
    pool: Pool<ConnectionManager<PgConnection>>,
}

/// Where a waiter left off: the listener's connection generation and the
/// count of one event it had seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mark {
    generation: u64,
    counter: u64,
}

impl Listener {
    /// A listener that connects as `listening` says when first waited on,
    /// and sends its probes through `pool`; otherwise every wait polls.
    pub(crate) fn new(
        listening: Listening,
        pool: Pool<ConnectionManager<PgConnection>>,
    ) -> Listener {
        let unannounced = matches!(listening, Listening::Unsupported);
        let info = match listening {
            Listening::On(info) => Some(info),
            Listening::Off | Listening::Unsupported => None,
        };
        let mode = if info.is_some() {
            Mode::Connecting
        } else {
            Mode::Polling
        };
        Listener {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    mode,
                    generation: 0,
                    counters: HashMap::new(),
                    thread: None,
                }),
                changed: Condvar::new(),
                stop: AtomicBool::new(false),
            }),
            info,
            unannounced: AtomicBool::new(unannounced),
            pool,
        }
    }

    /// `Namespace::wait_for_work` (or `wait_for_cancellation`, as `event`
    /// says) for namespace `namespace_id`.
    pub(crate) fn wait(
        &self,
        event: Event,
        namespace_id: i32,
        timeout: Duration,
    ) -> Result<Wakeup> {
        Ok(self.wait_since(event, namespace_id, timeout, None)?.0)
    }

    /// [`Listener::wait`], counting from `since` (a mark an earlier wait
    /// returned) rather than from now, so that an event between two waits
    /// wakes the second; returns the mark to pass next time.
    pub(crate) fn wait_since(
        &self,
        event: Event,
        namespace_id: i32,
        timeout: Duration,
        since: Option<Mark>,
    ) -> Result<(Wakeup, Option<Mark>)> {
        let key = (event, namespace_id);
        let started = Instant::now();
        let deadline = started.checked_add(timeout);
        let mut state = self.inner.lock();
        if state.thread.is_none() && state.mode != Mode::Polling {
            state.thread = Some(self.start());
        }
        let Mark {
            generation,
            counter,
        } = since.unwrap_or(Mark {
            generation: state.generation,
            counter: state.counters.get(&key).copied().unwrap_or(0),
        });
        let mark = |state: &State| {
            Some(Mark {
                generation: state.generation,
                counter: state.counters.get(&key).copied().unwrap_or(0),
            })
        };
        loop {
            if state.mode == Mode::Polling {
                drop(state);
                if self.unannounced.swap(false, Ordering::Relaxed) {
                    give_up(
                        "transaction_pooling is set and no listener_url names a direct \
                         connection, so the coordinate cannot LISTEN",
                    );
                }
                if let Some(rest) = deadline.and_then(|d| d.checked_duration_since(Instant::now()))
                {
                    std::thread::sleep(rest);
                }
                return Ok((Wakeup::Polling, None));
            }
            if state.generation != generation
                || state.counters.get(&key).copied().unwrap_or(0) != counter
            {
                return Ok((Wakeup::Woken, mark(&state)));
            }
            let now = Instant::now();
            let rest = match deadline {
                Some(deadline) if deadline <= now => return Ok((Wakeup::TimedOut, mark(&state))),
                Some(deadline) => deadline - now,
                // A timeout too long to represent: wait in long steps.
                None => Duration::from_secs(3600),
            };
            state = self
                .inner
                .changed
                .wait_timeout(state, rest)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    fn start(&self) -> JoinHandle<()> {
        let inner = self.inner.clone();
        let info = self.info.clone().expect("only started with a connection");
        let pool = self.pool.clone();
        std::thread::Builder::new()
            .name("coordinate-listener".into())
            .spawn(move || run(&inner, &info, &pool))
            .expect("spawning the listener thread")
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.inner.stop.store(true, Ordering::Relaxed);
        let thread = self.inner.lock().thread.take();
        if let Some(thread) = thread {
            // Joined so that no thread is left inside libpq at exit; it
            // checks `stop` every poll interval and between attempts.
            let _ = thread.join();
        }
    }
}

/// The listener thread: connect, listen, probe, read; reconnect when the
/// connection is lost.
fn run(inner: &Inner, info: &ConnInfo, pool: &Pool<ConnectionManager<PgConnection>>) {
    let first_try = Instant::now();
    let mut heard_once = false;
    let mut backoff = BACKOFF.0;
    let mut probes = 0u64;
    while !inner.stop.load(Ordering::Relaxed) {
        match listen(info) {
            Ok(mut conn) => {
                probes += 1;
                let probe = format!("{PROBE_PREFIX}{}-{probes}", std::process::id());
                match confirm(inner, &mut conn, pool, &probe) {
                    Ok(true) => {
                        if heard_once {
                            tracing::info!("coordinate listener re-established its connection");
                        }
                        heard_once = true;
                        backoff = BACKOFF.0;
                        inner.set_mode(Mode::Listening);
                        read(inner, &mut conn);
                        if inner.stop.load(Ordering::Relaxed) {
                            return;
                        }
                        inner.set_mode(Mode::Connecting);
                        tracing::warn!("coordinate listener lost its connection; reconnecting");
                        continue;
                    }
                    Ok(false) => {
                        give_up("the listener did not receive its own notification");
                        inner.set_mode(Mode::Polling);
                        return;
                    }
                    Err(()) if !heard_once && first_try.elapsed() >= PROBE_TIMEOUT => {
                        give_up("the listener could not send its probe");
                        inner.set_mode(Mode::Polling);
                        return;
                    }
                    Err(()) => {}
                }
            }
            Err(error) if !heard_once && first_try.elapsed() >= PROBE_TIMEOUT => {
                give_up(&info.redact(&error.to_string()));
                inner.set_mode(Mode::Polling);
                return;
            }
            Err(_) => {}
        }
        pause(inner, backoff);
        backoff = (backoff * 2).min(BACKOFF.1);
    }
}

fn give_up(reason: &str) {
    tracing::warn!(
        reason,
        "coordinate notifications are not arriving; wait_for_work falls back to \
         sleeping its timeout and answering Wakeup::Polling"
    );
}

/// Sleeps `span`, waking early when the coordinate is dropped.
fn pause(inner: &Inner, span: Duration) {
    let until = Instant::now() + span;
    while !inner.stop.load(Ordering::Relaxed) && Instant::now() < until {
        std::thread::sleep(POLL_INTERVAL.max(Duration::from_millis(10)));
    }
}

/// A new connection listening on the work channel.
fn listen(info: &ConnInfo) -> Result<PgConnection> {
    let mut conn = establish(info)?;
    conn.batch_execute("LISTEN coordinate_work").map_err(|e| {
        coordinate_api::Error::backend(
            coordinate_api::BackendErrorKind::Unavailable,
            info.redact(&e.to_string()),
        )
    })?;
    Ok(conn)
}

/// Sends `probe` through the pool and waits for it on `conn`: `Ok(true)`
/// when it came back, `Ok(false)` when it did not within the probe
/// timeout, `Err` when a connection failed (try again). Work notifications
/// read meanwhile wake their namespaces.
fn confirm(
    inner: &Inner,
    conn: &mut PgConnection,
    pool: &Pool<ConnectionManager<PgConnection>>,
    probe: &str,
) -> std::result::Result<bool, ()> {
    let mut sender = pool.get().map_err(|_| ())?;
    crate::sql::unit::WAKE
        .prepare()
        .bind::<Text, _>(probe)
        .execute(&mut *sender)
        .map_err(|_| ())?;
    drop(sender);
    let deadline = Instant::now() + PROBE_TIMEOUT;
    while Instant::now() < deadline {
        if inner.stop.load(Ordering::Relaxed) {
            return Err(());
        }
        for notification in conn.notifications_iter() {
            let payload = notification.map_err(|_| ())?.payload;
            if payload == probe {
                return Ok(true);
            }
            wake(inner, &payload);
        }
        std::thread::sleep(POLL_INTERVAL);
    }
    Ok(false)
}

/// Reads notifications until the connection fails or the coordinate is
/// dropped.
fn read(inner: &Inner, conn: &mut PgConnection) {
    let mut last_check = Instant::now();
    while !inner.stop.load(Ordering::Relaxed) {
        let mut payloads = Vec::new();
        for notification in conn.notifications_iter() {
            match notification {
                Ok(notification) => payloads.push(notification.payload),
                Err(_) => return,
            }
        }
        if !payloads.is_empty() {
            wake_all(inner, &payloads);
        }
        if last_check.elapsed() >= KEEPALIVE {
            if conn.batch_execute("SELECT 1").is_err() {
                return;
            }
            last_check = Instant::now();
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

fn wake(inner: &Inner, payload: &str) {
    wake_all(inner, std::slice::from_ref(&payload.to_owned()));
}

/// Bumps the counters of the events and namespaces named by `payloads`
/// (probes and anything else are ignored) and wakes the waiters.
fn wake_all(inner: &Inner, payloads: &[String]) {
    let mut state = inner.lock();
    let mut any = false;
    for payload in payloads {
        if let Some(key) = Event::parse(payload) {
            *state.counters.entry(key).or_insert(0) += 1;
            any = true;
        }
    }
    drop(state);
    if any {
        inner.changed.notify_all();
    }
}
