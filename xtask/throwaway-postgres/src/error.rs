//! The one error type: what went wrong, in words for the person running
//! the tests.

use std::fmt;

/// Why a [`Cluster`](crate::Cluster) could not be made, started or
/// changed.
///
/// It carries a message only: every failure here ends in a person reading
/// it (a missing binary, a server that would not start and its log), and
/// none is something a caller could handle differently by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
}

impl Error {
    pub(crate) fn new(message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
        }
    }

    /// An I/O failure while doing `what`.
    pub(crate) fn io(what: impl fmt::Display, error: std::io::Error) -> Error {
        Error::new(format!("{what}: {error}"))
    }

    /// The message, as [`Display`](fmt::Display) prints it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
