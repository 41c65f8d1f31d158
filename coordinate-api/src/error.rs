//! The one error type every backend returns.
//!
//! Each error prints its own fact once: a wrapped cause is reachable through
//! [`std::error::Error::source`] and never repeated in the `Display` text, so
//! chain printers (anyhow's `{:#}`, `tracing`'s error fields) show every
//! link exactly once.

use std::fmt;

/// Shorthand for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A cause carried inside [`Error::Backend`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong when talking to a coordinate backend.
///
/// Callers match on the variant; the `Display` text is for people. New
/// variants may be added, so matches need a wildcard arm. To decide whether
/// to try again, use [`Error::is_transient`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A work spec definition has no `name` key.
    #[error("the work spec definition has no 'name' key")]
    NoWorkSpecName,
    /// A work spec definition's `name` is not a text string.
    #[error("the work spec 'name' must be a string")]
    BadWorkSpecName,
    /// `set_data` tried to give a work spec a different `name`.
    #[error("a work spec's 'name' cannot be changed")]
    ChangedName,
    /// No work spec of this name exists in the namespace.
    #[error("no such work spec {name:?}")]
    NoSuchWorkSpec {
        /// The name that was looked up.
        name: String,
    },
    /// No work unit of this name exists in the work spec.
    #[error("no such work unit {name:?}")]
    NoSuchWorkUnit {
        /// The name that was looked up.
        name: String,
    },
    /// The attempt is no longer its work unit's active attempt: another
    /// worker holds the unit now, or it was reset.
    #[error(
        "the attempt on work unit {work_unit:?} of work spec {work_spec:?} \
         is no longer the unit's active attempt (lease lost)"
    )]
    LostLease {
        /// The work spec of the attempt's work unit.
        work_spec: String,
        /// The work unit the attempt is on.
        work_unit: String,
    },
    /// The attempt is not in a state that allows this operation (it
    /// already finished, failed or expired).
    #[error("the attempt on work unit {work_unit:?} of work spec {work_spec:?} is not pending")]
    NotPending {
        /// The work spec of the attempt's work unit.
        work_spec: String,
        /// The work unit the attempt is on.
        work_unit: String,
    },
    /// `set_meta` asked for continuous mode on a work spec that was not
    /// defined as continuous.
    #[error("the work spec was not defined as continuous and cannot become continuous")]
    CannotBecomeContinuous,
    /// An object from one backend was handed to another backend.
    #[error("cannot combine coordinate objects from different backends")]
    WrongBackend,
    /// The object the call was made on no longer exists: it, or something
    /// it belongs to (its namespace, work spec or work unit), or an object
    /// handed to the call, was deleted. `kind` and `name` name the handle
    /// the call was made on; for an attempt, `name` is its work unit's.
    #[error("{kind} {name:?} no longer exists")]
    Gone {
        /// What sort of object the handle is.
        kind: ObjectKind,
        /// The handle's name (an attempt's: its work unit's).
        name: String,
    },
    /// An argument was rejected before anything was changed.
    #[error("invalid {what}: {why}")]
    InvalidInput {
        /// Which argument was rejected.
        what: &'static str,
        /// Why it was rejected.
        why: String,
    },
    /// The storage backend failed. `kind` says what a caller can do about
    /// it; `source` says what happened. Connection strings and passwords
    /// never appear in either.
    #[error("backend failure: {kind}")]
    Backend {
        /// What sort of failure this is.
        kind: BackendErrorKind,
        /// The backend's own error.
        source: BoxError,
    },
}

/// The sorts of object a coordinate hands out handles to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ObjectKind {
    /// A [`Namespace`](crate::Namespace).
    Namespace,
    /// A [`WorkSpec`](crate::WorkSpec).
    WorkSpec,
    /// A [`WorkUnit`](crate::WorkUnit).
    WorkUnit,
    /// A [`Worker`](crate::Worker).
    Worker,
    /// An [`Attempt`](crate::Attempt); it is named by its work unit.
    Attempt,
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ObjectKind::Namespace => "namespace",
            ObjectKind::WorkSpec => "work spec",
            ObjectKind::WorkUnit => "work unit",
            ObjectKind::Worker => "worker",
            ObjectKind::Attempt => "the attempt on work unit",
        })
    }
}

/// What sort of storage failure an [`Error::Backend`] is, so a caller can
/// tell a failure worth retrying from one that needs a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BackendErrorKind {
    /// The storage cannot be reached: the connection was refused or lost,
    /// or the host does not answer. Transient: a server that restarts or a
    /// network that heals makes the next call succeed.
    Unavailable,
    /// Every pooled connection stayed busy for the whole connection
    /// timeout. Transient: the storage is fine, the load is too high for
    /// the pool.
    PoolExhausted,
    /// Concurrent changes kept aborting the operation (serialization
    /// failures, deadlocks) until its retries were used up. Transient.
    Conflict,
    /// The storage's schema could not be created or migrated, or is not
    /// one this version understands. Not transient: it needs a person.
    Schema,
    /// The storage gave up on a statement that ran too long (a server-side
    /// statement timeout). Transient.
    Timeout,
    /// Anything else: a statement the storage refused, stored data this
    /// version cannot read, or a configuration the storage turns down (a
    /// malformed connection string, a rejected password, a missing
    /// database, a failed certificate check). Not transient: it fails the
    /// same way until someone changes something.
    Other,
}

impl BackendErrorKind {
    /// Whether trying the same operation again later can succeed.
    pub fn is_transient(self) -> bool {
        match self {
            BackendErrorKind::Unavailable
            | BackendErrorKind::PoolExhausted
            | BackendErrorKind::Conflict
            | BackendErrorKind::Timeout => true,
            BackendErrorKind::Schema | BackendErrorKind::Other => false,
        }
    }
}

impl fmt::Display for BackendErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BackendErrorKind::Unavailable => "storage unavailable",
            BackendErrorKind::PoolExhausted => "connection pool exhausted",
            BackendErrorKind::Conflict => "concurrent changes conflicted too often",
            BackendErrorKind::Schema => "database schema problem",
            BackendErrorKind::Timeout => "statement timed out",
            BackendErrorKind::Other => "storage error",
        })
    }
}

impl Error {
    /// Builds an [`Error::InvalidInput`].
    pub fn invalid(what: &'static str, why: impl fmt::Display) -> Self {
        Error::InvalidInput {
            what,
            why: why.to_string(),
        }
    }

    /// Wraps a backend failure of `kind` in [`Error::Backend`]; `cause`
    /// may be an error or a message.
    pub fn backend(kind: BackendErrorKind, cause: impl Into<BoxError>) -> Self {
        Error::Backend {
            kind,
            source: cause.into(),
        }
    }

    /// Builds an [`Error::Gone`] for the `kind` handle called `name`.
    pub fn gone(kind: ObjectKind, name: impl Into<String>) -> Self {
        Error::Gone {
            kind,
            name: name.into(),
        }
    }

    /// Builds an [`Error::NotPending`] for the attempt on `work_unit`.
    pub fn not_pending(work_spec: impl Into<String>, work_unit: impl Into<String>) -> Self {
        Error::NotPending {
            work_spec: work_spec.into(),
            work_unit: work_unit.into(),
        }
    }

    /// Builds an [`Error::LostLease`] for the attempt on `work_unit`.
    pub fn lost_lease(work_spec: impl Into<String>, work_unit: impl Into<String>) -> Self {
        Error::LostLease {
            work_spec: work_spec.into(),
            work_unit: work_unit.into(),
        }
    }

    /// Builds an [`Error::NoSuchWorkSpec`].
    pub fn no_such_work_spec(name: impl Into<String>) -> Self {
        Error::NoSuchWorkSpec { name: name.into() }
    }

    /// Builds an [`Error::NoSuchWorkUnit`].
    pub fn no_such_work_unit(name: impl Into<String>) -> Self {
        Error::NoSuchWorkUnit { name: name.into() }
    }

    /// The kind of an [`Error::Backend`]; `None` for every other variant.
    pub fn backend_kind(&self) -> Option<BackendErrorKind> {
        match self {
            Error::Backend { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    /// Whether trying the same call again later can succeed: true only for
    /// backend failures whose [`BackendErrorKind::is_transient`] holds.
    /// Every other error (a refused argument, a lost lease, a deleted
    /// object) gives the same answer however often it is repeated.
    pub fn is_transient(&self) -> bool {
        self.backend_kind()
            .is_some_and(BackendErrorKind::is_transient)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    /// Every message of `error`'s chain, outermost first.
    fn chain(error: &(dyn std::error::Error + 'static)) -> Vec<String> {
        let mut messages = vec![error.to_string()];
        let mut next = error.source();
        while let Some(cause) = next {
            messages.push(cause.to_string());
            next = cause.source();
        }
        messages
    }

    #[test]
    fn messages_read_well() {
        assert_eq!(
            Error::no_such_work_spec("fetch").to_string(),
            "no such work spec \"fetch\""
        );
        assert_eq!(
            Error::invalid("priority", "must be finite").to_string(),
            "invalid priority: must be finite"
        );
        assert_eq!(
            Error::gone(ObjectKind::WorkSpec, "fetch").to_string(),
            "work spec \"fetch\" no longer exists"
        );
        assert_eq!(
            Error::gone(ObjectKind::Attempt, "u1").to_string(),
            "the attempt on work unit \"u1\" no longer exists"
        );
        assert_eq!(
            Error::not_pending("fetch", "u1").to_string(),
            "the attempt on work unit \"u1\" of work spec \"fetch\" is not pending"
        );
        let backend = Error::backend(BackendErrorKind::Unavailable, "connection refused");
        assert_eq!(backend.to_string(), "backend failure: storage unavailable");
        assert_eq!(backend.source().unwrap().to_string(), "connection refused");
    }

    /// A cause with a cause of its own, as a driver error wrapped by a
    /// backend's error would be.
    #[derive(Debug, thiserror::Error)]
    #[error("could not run the migration")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn a_chain_prints_each_message_once() {
        let inner = std::io::Error::other("disk full");
        let error = Error::backend(BackendErrorKind::Schema, Outer(inner));
        let messages = chain(&error);
        assert_eq!(
            messages,
            [
                "backend failure: database schema problem",
                "could not run the migration",
                "disk full",
            ]
        );
        // No link repeats another's text, so `{:#}` reads each fact once.
        for (i, message) in messages.iter().enumerate() {
            for (j, other) in messages.iter().enumerate() {
                if i != j {
                    assert!(
                        !message.contains(other.as_str()),
                        "{message:?} repeats {other:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn only_failures_worth_retrying_are_transient() {
        let transient = [
            BackendErrorKind::Unavailable,
            BackendErrorKind::PoolExhausted,
            BackendErrorKind::Conflict,
            BackendErrorKind::Timeout,
        ];
        for kind in transient {
            assert!(Error::backend(kind, "x").is_transient(), "{kind:?}");
        }
        for kind in [BackendErrorKind::Schema, BackendErrorKind::Other] {
            assert!(!Error::backend(kind, "x").is_transient(), "{kind:?}");
        }
        assert!(!Error::gone(ObjectKind::Worker, "w").is_transient());
        assert!(!Error::lost_lease("s", "u").is_transient());
        assert!(!Error::invalid("x", "y").is_transient());
        assert_eq!(
            Error::backend(BackendErrorKind::Timeout, "x").backend_kind(),
            Some(BackendErrorKind::Timeout)
        );
        assert_eq!(Error::NoWorkSpecName.backend_kind(), None);
    }
}
