//! What the connection pool says in the log (`tracing`): a connection
//! lost and one opened again after it, connections that could not be
//! opened, the pool exhausted. Every connection string and error text
//! goes through [`ConnInfo::redact`] first, so no password reaches a log.
//!
//! Trouble is said once at `warn` and then at `debug` until a connection
//! opens again, which is said at `info`: a server that is down for a
//! minute makes r2d2 retry every connection many times, and one line per
//! retry would bury everything else.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::r2d2::{event::AcquireEvent, HandleError, HandleEvent};

use crate::db::connection::ConnInfo;

/// The pool's health as the log tells it, shared by the pool's handlers
/// and the coordinate's calls.
pub(crate) struct PoolHealth {
    info: ConnInfo,
    /// Whether something went wrong since a connection last opened.
    troubled: AtomicBool,
}

impl fmt::Debug for PoolHealth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolHealth")
            .field("connection", &self.info.display())
            .field("troubled", &self.troubled.load(Ordering::Relaxed))
            .finish()
    }
}

impl PoolHealth {
    /// Health of a pool connecting with `info`.
    pub(crate) fn new(info: ConnInfo) -> Arc<PoolHealth> {
        Arc::new(PoolHealth {
            info,
            troubled: AtomicBool::new(false),
        })
    }

    /// Notes trouble; true when it is the first since things were well.
    fn trouble(&self) -> bool {
        !self.troubled.swap(true, Ordering::Relaxed)
    }

    /// A statement failed because its connection was lost (the server
    /// went away, restarted, or ended the session); the pool replaces it.
    pub(crate) fn lost(&self, error: &(dyn std::error::Error + 'static)) {
        let connection = self.info.display();
        let error = self.info.redact(&chain(error));
        if self.trouble() {
            tracing::warn!(%connection, %error, "lost a database connection; the pool opens a new one");
        } else {
            tracing::debug!(%connection, %error, "lost another database connection");
        }
    }

    /// Every connection stayed busy for the connection timeout.
    pub(crate) fn exhausted(&self, pool_size: u32, timeout: Duration) {
        tracing::warn!(
            pool_size,
            timeout_secs = timeout.as_secs_f64(),
            "connection pool exhausted: every connection stayed busy for the connection timeout"
        );
    }

    /// The pool opened a connection.
    fn opened(&self) {
        let connection = self.info.display();
        if self.troubled.swap(false, Ordering::Relaxed) {
            tracing::info!(%connection, "database connection re-established");
        } else {
            tracing::debug!(%connection, "opened a pooled database connection");
        }
    }

    /// The pool could not open a connection; it tries again by itself.
    fn failed_to_open(&self, error: &diesel::r2d2::Error) {
        let connection = self.info.display();
        let error = self.info.redact(&chain(error));
        if self.trouble() {
            tracing::warn!(%connection, %error, "could not open a pooled database connection; retrying");
        } else {
            tracing::debug!(%connection, %error, "could not open a pooled database connection");
        }
    }
}

/// An error and its causes, one after the other.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        text.push_str(": ");
        text.push_str(&next.to_string());
        cause = next.source();
    }
    text
}

/// The pool's event and error handler, reporting to [`PoolHealth`].
#[derive(Debug, Clone)]
pub(crate) struct PoolEvents(pub(crate) Arc<PoolHealth>);

impl HandleEvent for PoolEvents {
    fn handle_acquire(&self, _event: AcquireEvent) {
        self.0.opened();
    }
}

impl HandleError<diesel::r2d2::Error> for PoolEvents {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        self.0.failed_to_open(&error);
    }
}
