//! The one error type every backend returns.

use std::fmt;

/// Shorthand for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong when talking to a coordinate backend.
///
/// Callers match on the variant; the `Display` text is for people. New
/// variants may be added, so matches need a wildcard arm.
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
    /// The attempt is no longer its work unit's active attempt.
    #[error("the attempt is no longer the work unit's active attempt (lease lost)")]
    LostLease,
    /// The attempt is not in a state that allows this operation.
    #[error("the attempt is not pending")]
    NotPending,
    /// `set_meta` asked for continuous mode on a work spec that was not
    /// defined as continuous.
    #[error("the work spec was not defined as continuous and cannot become continuous")]
    CannotBecomeContinuous,
    /// An object from one backend was handed to another backend.
    #[error("cannot combine coordinate objects from different backends")]
    WrongBackend,
    /// The object behind this handle (or one of its ancestors) was deleted.
    #[error("the object no longer exists")]
    Gone,
    /// An argument was rejected before anything was changed.
    #[error("invalid {what}: {why}")]
    InvalidInput {
        /// Which argument was rejected.
        what: &'static str,
        /// Why it was rejected.
        why: String,
    },
    /// The storage backend failed; the cause says how. Connection strings
    /// and passwords never appear in it.
    #[error("backend failure: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl Error {
    /// Builds an [`Error::InvalidInput`].
    pub fn invalid(what: &'static str, why: impl fmt::Display) -> Self {
        Error::InvalidInput {
            what,
            why: why.to_string(),
        }
    }

    /// Wraps any backend failure in [`Error::Backend`].
    pub fn backend(cause: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Error::Backend(cause.into())
    }

    /// Builds an [`Error::NoSuchWorkSpec`].
    pub fn no_such_work_spec(name: impl Into<String>) -> Self {
        Error::NoSuchWorkSpec { name: name.into() }
    }

    /// Builds an [`Error::NoSuchWorkUnit`].
    pub fn no_such_work_unit(name: impl Into<String>) -> Self {
        Error::NoSuchWorkUnit { name: name.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let backend = Error::backend("connection refused");
        assert_eq!(backend.to_string(), "backend failure: connection refused");
        assert!(std::error::Error::source(&backend).is_some());
    }
}
