//! How this backend's failures become [`Error::Backend`] values: which
//! [`BackendErrorKind`] each driver, pool and migration error is, and which
//! handle an [`Error::Gone`], [`Error::NotPending`] or [`Error::LostLease`]
//! names, kept in one place so every failure is reported the same way.
//!
//! # What can be recognised
//!
//! Diesel 2 keeps PostgreSQL's SQLSTATE to itself: its
//! `DatabaseErrorInformation` offers the message, details, hint and the
//! names of the table, column and constraint, and `DatabaseErrorKind` has
//! a variant for serialization failures (40001), lost connections (class
//! 08) and constraint violations, but none for a deadlock (40P01) or a
//! cancelled statement (57014). Those two are recognised by the server's
//! English message text instead. A server whose `lc_messages` is set to
//! another language translates that text; there a deadlock is not retried
//! and is reported as [`BackendErrorKind::Other`], and a statement timeout
//! as `Other` rather than [`BackendErrorKind::Timeout`]. The same holds for
//! a session the server terminates (57P01) before libpq notices the
//! closed socket: recognised by its text as
//! [`BackendErrorKind::Unavailable`], else `Other`. The tests in
//! `transaction.rs` provoke both on the test server to pin what happens.
//!
//! # A server that takes no writes
//!
//! A standby, a primary demoted to one, or a session left read-only
//! refuses every write with SQLSTATE 25006, which diesel does name. That
//! is [`BackendErrorKind::Unavailable`], like a lost connection: no
//! writable server is reachable on this connection, so it is discarded
//! (see `transaction.rs`) and the caller's retry gets a new one, which a
//! multi-host connection string with `target_session_attrs=read-write`
//! sends to whichever server is the primary by then.

use std::fmt;

use coordinate_api::error::BoxError;
use coordinate_api::{BackendErrorKind, Error};
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::db::connect_error::{ConnectError, ConnectErrorKind};

/// PostgreSQL's text for SQLSTATE 40P01 (`deadlock_detected`).
const DEADLOCK: &str = "deadlock detected";
/// PostgreSQL's text for a 40001 that diesel did not classify.
const SERIALIZATION: &str = "could not serialize";
/// Texts of a session the server ended or lost: 57P01
/// (`admin_shutdown`, also what `pg_terminate_backend` sends), 57P02 and
/// 57P03 from the server, and libpq's own for a socket that closed. Diesel
/// reports these as a closed connection only when libpq has already
/// noticed; otherwise they arrive with no kind.
const SESSION_LOST: &[&str] = &[
    "terminating connection due to administrator command",
    "terminating connection due to crash of another server process",
    "the database system is shutting down",
    "the database system is starting up",
    "the database system is in recovery mode",
    "server closed the connection unexpectedly",
    "no connection to the server",
    "connection to server was lost",
    "could not receive data from server",
    "could not send data to server",
];
/// PostgreSQL's texts for SQLSTATE 57014 (`query_canceled`) when a
/// statement or lock timeout ran out; a cancel by hand reads differently
/// and stays [`BackendErrorKind::Other`].
const TIMEOUTS: &[&str] = &[
    "canceling statement due to statement timeout",
    "canceling statement due to lock timeout",
];

/// Whether PostgreSQL aborted the transaction because of a concurrent one,
/// so that running it again can succeed: a serialization failure or a
/// deadlock (the latter recognised by its English text, see the module
/// documentation).
pub(crate) fn is_conflict(error: &DieselError) -> bool {
    conflict(error).is_some()
}

/// Which conflict [`is_conflict`] sees, in words for the log.
pub(crate) fn conflict(error: &DieselError) -> Option<&'static str> {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
            Some("serialization failure")
        }
        DieselError::DatabaseError(_, info) if info.message().contains(DEADLOCK) => {
            Some("deadlock")
        }
        DieselError::DatabaseError(_, info) if info.message().contains(SERIALIZATION) => {
            Some("serialization failure")
        }
        _ => None,
    }
}

/// The kind of a driver error that is not a missing row or a broken
/// foreign key (those mean the object is gone and never get here).
pub(crate) fn kind_of(error: &DieselError) -> BackendErrorKind {
    match error {
        _ if is_conflict(error) => BackendErrorKind::Conflict,
        // Diesel reports a statement that could not be sent (the socket is
        // gone) and a connection the server closed; both mean the server is
        // out of reach right now.
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        ) => BackendErrorKind::Unavailable,
        DieselError::DatabaseError(DatabaseErrorKind::ReadOnlyTransaction, _) => {
            BackendErrorKind::Unavailable
        }
        DieselError::DatabaseError(_, info)
            if SESSION_LOST
                .iter()
                .any(|text| info.message().contains(text)) =>
        {
            BackendErrorKind::Unavailable
        }
        DieselError::DatabaseError(_, info)
            if TIMEOUTS.iter().any(|text| info.message().contains(text)) =>
        {
            BackendErrorKind::Timeout
        }
        _ => BackendErrorKind::Other,
    }
}

/// A driver error, sorted by [`kind_of`], with the error kept as its
/// source.
pub(crate) fn database(error: DieselError) -> Error {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::ReadOnlyTransaction, _) => {
            Error::backend(BackendErrorKind::Unavailable, ReadOnlyServer(Some(error)))
        }
        error => Error::backend(kind_of(&error), error),
    }
}

/// The server answered but takes no writes (a readiness check found it in
/// recovery or read-only): as transient as a refused write.
pub(crate) fn read_only_server() -> Error {
    Error::backend(BackendErrorKind::Unavailable, ReadOnlyServer(None))
}

/// A server that takes no writes: says so in words a reader of a log acts
/// on, and keeps PostgreSQL's refusal, when there was one, as the source.
#[derive(Debug)]
struct ReadOnlyServer(Option<DieselError>);

impl fmt::Display for ReadOnlyServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "the server takes no writes: it is read-only (a standby, or a session set \
             read-only); list every server in the connection string with \
             target_session_attrs=read-write to reach the primary",
        )
    }
}

impl std::error::Error for ReadOnlyServer {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.as_ref().map(|e| e as _)
    }
}

/// Concurrent changes aborted a transaction on every one of its `tries`.
pub(crate) fn conflicts_exhausted(tries: u32) -> Error {
    Error::backend(
        BackendErrorKind::Conflict,
        format!("gave up after {tries} tries because of concurrent changes"),
    )
}

/// The database held something this version cannot read (a status it does
/// not know, say): not worth retrying.
pub(crate) fn unreadable(what: String) -> Error {
    Error::backend(BackendErrorKind::Other, what)
}

/// A failure to connect, sorted by what a caller can do about it. Only an
/// unreachable server (or one that failed in a way libpq does not name) is
/// worth waiting for; a bad connection string, a rejected password, a
/// missing database or a failed certificate check keep failing until
/// someone changes the configuration.
pub(crate) fn connect(error: ConnectError) -> Error {
    let kind = match error.kind() {
        ConnectErrorKind::Unreachable | ConnectErrorKind::Other => BackendErrorKind::Unavailable,
        ConnectErrorKind::PoolExhausted => BackendErrorKind::PoolExhausted,
        _ => BackendErrorKind::Other,
    };
    Error::backend(kind, error)
}

/// The schema could not be created or migrated; `cause` says why and stays
/// reachable as the source. A connection lost on the way (a restart, a
/// terminated session) says nothing about the schema: that is
/// [`BackendErrorKind::Unavailable`], so a caller waits and connects again
/// rather than giving up on a schema that may be fine.
pub(crate) fn schema(cause: BoxError) -> Error {
    let kind = if lost_the_connection(&*cause) {
        BackendErrorKind::Unavailable
    } else {
        BackendErrorKind::Schema
    };
    Error::backend(kind, MigrationFailed(cause))
}

/// Whether a migration failed because its connection went away. A driver
/// error says so by its kind; the migration harness hands its own errors
/// over as text wrapping PostgreSQL's, so those are recognised by that
/// text, anywhere in the chain of sources.
fn lost_the_connection(cause: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(cause);
    while let Some(error) = next {
        if let Some(driver) = error.downcast_ref::<DieselError>() {
            if kind_of(driver) == BackendErrorKind::Unavailable {
                return true;
            }
        }
        let text = error.to_string();
        if SESSION_LOST.iter().any(|lost| text.contains(lost)) {
            return true;
        }
        next = error.source();
    }
    false
}

/// The schema is not what this version needs and we were told not to
/// change it; `what` says which migrations are missing.
pub(crate) fn schema_behind(what: String) -> Error {
    Error::backend(BackendErrorKind::Schema, what)
}

/// A failed migration: says what was being done, and leaves the why to its
/// source so that the cause is printed once.
#[derive(Debug)]
struct MigrationFailed(BoxError);

impl fmt::Display for MigrationFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("could not migrate the database schema")
    }
}

impl std::error::Error for MigrationFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What diesel reports for a statement PostgreSQL refused with `message`.
    fn refused(kind: DatabaseErrorKind, message: &str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn driver_errors_are_sorted_into_kinds() {
        let cases = [
            (
                refused(DatabaseErrorKind::SerializationFailure, "x"),
                BackendErrorKind::Conflict,
            ),
            (
                refused(DatabaseErrorKind::Unknown, "deadlock detected"),
                BackendErrorKind::Conflict,
            ),
            (
                refused(DatabaseErrorKind::ClosedConnection, "server closed"),
                BackendErrorKind::Unavailable,
            ),
            (
                refused(DatabaseErrorKind::UnableToSendCommand, "no connection"),
                BackendErrorKind::Unavailable,
            ),
            (
                refused(
                    DatabaseErrorKind::Unknown,
                    "canceling statement due to statement timeout",
                ),
                BackendErrorKind::Timeout,
            ),
            (
                refused(
                    DatabaseErrorKind::Unknown,
                    "canceling statement due to user request",
                ),
                BackendErrorKind::Other,
            ),
            (
                refused(
                    DatabaseErrorKind::Unknown,
                    "terminating connection due to administrator command",
                ),
                BackendErrorKind::Unavailable,
            ),
            (
                refused(
                    DatabaseErrorKind::ReadOnlyTransaction,
                    "cannot execute INSERT in a read-only transaction",
                ),
                BackendErrorKind::Unavailable,
            ),
            (
                refused(DatabaseErrorKind::CheckViolation, "violates check"),
                BackendErrorKind::Other,
            ),
            // The documented limit: a translated deadlock is not a conflict.
            (
                refused(
                    DatabaseErrorKind::Unknown,
                    "Verklemmung (Deadlock) entdeckt",
                ),
                BackendErrorKind::Other,
            ),
        ];
        for (error, kind) in cases {
            assert_eq!(kind_of(&error), kind, "{error:?}");
        }
    }

    #[test]
    fn a_migration_that_lost_its_connection_is_worth_retrying() {
        let kind = |cause: BoxError| schema(cause).backend_kind();
        assert_eq!(
            kind(Box::new(refused(
                DatabaseErrorKind::ClosedConnection,
                "server closed the connection unexpectedly"
            ))),
            Some(BackendErrorKind::Unavailable)
        );
        // The harness's own wrapping, as text.
        assert_eq!(
            kind(
                "Failed to run 2015-09-27-000000 with: terminating connection due to \
                 administrator command"
                    .into()
            ),
            Some(BackendErrorKind::Unavailable)
        );
        assert_eq!(
            kind(Box::new(refused(
                DatabaseErrorKind::Unknown,
                "relation \"work_unit\" already exists"
            ))),
            Some(BackendErrorKind::Schema)
        );
        assert_eq!(
            kind("permission denied for schema public".into()),
            Some(BackendErrorKind::Schema)
        );
    }

    #[test]
    fn only_a_reachable_problem_is_worth_waiting_for() {
        let kind = |connect_kind| connect(ConnectError::new(connect_kind, "x")).backend_kind();
        assert_eq!(
            kind(ConnectErrorKind::Unreachable),
            Some(BackendErrorKind::Unavailable)
        );
        assert_eq!(
            kind(ConnectErrorKind::PoolExhausted),
            Some(BackendErrorKind::PoolExhausted)
        );
        for permanent in [
            ConnectErrorKind::InvalidConnectionString,
            ConnectErrorKind::AuthenticationFailed,
            ConnectErrorKind::NoSuchDatabase,
            ConnectErrorKind::Tls,
        ] {
            assert_eq!(
                kind(permanent),
                Some(BackendErrorKind::Other),
                "{permanent:?}"
            );
        }
    }
}
