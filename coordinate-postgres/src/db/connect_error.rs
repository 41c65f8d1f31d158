//! Connection errors: what libpq said, sorted into kinds a caller can act
//! on, with every secret scrubbed out.

use std::fmt;

/// What went wrong while connecting, for callers that want to react.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConnectErrorKind {
    /// The connection string could not be understood.
    InvalidConnectionString,
    /// No server answered at the address (refused, unknown host, timeout),
    /// or, with `target_session_attrs=read-write`, none of the listed
    /// servers takes writes (only standbys are up, mid-failover).
    Unreachable,
    /// The server rejected the user name or password.
    AuthenticationFailed,
    /// The server has no database of that name.
    NoSuchDatabase,
    /// The TLS handshake or certificate check failed: the server does not
    /// offer TLS although the connection string requires it, its
    /// certificate is not signed by the trusted CA or does not name the
    /// host, or a certificate file is missing or unreadable.
    Tls,
    /// Every connection of the pool stayed busy for the whole connection
    /// timeout: the server is fine, the pool is too small for the load.
    PoolExhausted,
    /// Any other failure to connect.
    Other,
}

/// A failure to connect to PostgreSQL, carried inside
/// [`coordinate_api::Error::Backend`]. Its text never holds the password.
#[derive(Debug, Clone)]
pub struct ConnectError {
    kind: ConnectErrorKind,
    detail: String,
}

impl ConnectError {
    /// Which kind of failure this is.
    pub fn kind(&self) -> ConnectErrorKind {
        self.kind
    }

    /// An error of `kind` whose `detail` holds no secret.
    pub(crate) fn new(kind: ConnectErrorKind, detail: impl Into<String>) -> Self {
        ConnectError {
            kind,
            detail: detail.into(),
        }
    }

    /// Classifies a libpq (or pool) message whose secrets were already
    /// scrubbed out (`ConnInfo::connect_error` does both).
    pub(crate) fn from_redacted(message: &str) -> Self {
        let detail = tidy(message);
        ConnectError::new(classify(&detail), detail)
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            ConnectErrorKind::InvalidConnectionString => "invalid PostgreSQL connection string",
            ConnectErrorKind::Unreachable => "cannot reach the PostgreSQL server",
            ConnectErrorKind::AuthenticationFailed => "PostgreSQL rejected the user or password",
            ConnectErrorKind::NoSuchDatabase => "the PostgreSQL database does not exist",
            ConnectErrorKind::Tls => "no secure (TLS) connection to PostgreSQL",
            ConnectErrorKind::PoolExhausted => "no PostgreSQL connection free in the pool",
            ConnectErrorKind::Other => "cannot connect to PostgreSQL",
        };
        write!(f, "{what}: {}", self.detail)
    }
}

impl std::error::Error for ConnectError {}

/// Joins libpq's multi-line messages into one line.
pub(crate) fn tidy(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Sorts a libpq message into a [`ConnectErrorKind`]. libpq has no error
/// codes for connection failures, so this reads its (English) text.
fn classify(message: &str) -> ConnectErrorKind {
    const INVALID: &[&str] = &[
        "missing \"=\" after",
        "invalid connection option",
        "invalid URI",
        "invalid percent-encoded token",
        "unterminated quoted string",
        "invalid integer value",
        "invalid port number",
        "invalid sslmode value",
        "invalid value for",
        "extra key/value separator",
        "end of string reached",
        "unexpected spaces found",
        "could not match",
        "forbidden value",
    ];
    const UNREACHABLE: &[&str] = &[
        "Connection refused",
        "could not translate host name",
        "Name or service not known",
        "nodename nor servname",
        "Temporary failure in name resolution",
        "timeout expired",
        "timed out",
        "No route to host",
        "Network is unreachable",
        "No such file or directory",
        "could not connect to server",
        // libpq's refusal of a standby under target_session_attrs=read-write.
        "session is read-only",
        "server is in hot standby mode",
    ];
    // Failures of the handshake or of the certificate check. The transport
    // dying mid-connection ("SSL SYSCALL error", "SSL connection has been
    // closed unexpectedly") is left out: that is the server going away, not
    // a TLS problem the caller could fix in its settings.
    const TLS: &[&str] = &[
        "certificate verify failed",
        "SSL error:",
        "server does not support SSL",
        "root certificate file",
        "certificate file \"",
        "server certificate for \"",
        "does not match host name",
        "host name must be specified for a verified SSL connection",
        "could not establish SSL connection",
        "SSL negotiation",
        "during SSL exchange",
        "after SSL response",
        "SSL protocol version",
        "could not create SSL context",
        "private key file",
        "private SSL key",
    ];
    let has = |needles: &[&str]| needles.iter().any(|n| message.contains(n));
    if has(INVALID) {
        ConnectErrorKind::InvalidConnectionString
    } else if message.contains("database \"") && message.contains("does not exist") {
        ConnectErrorKind::NoSuchDatabase
    } else if has(&[
        "password authentication failed",
        "authentication failed",
        "no password supplied",
        "role \"",
        "pg_hba.conf",
    ]) {
        ConnectErrorKind::AuthenticationFailed
    } else if has(TLS) {
        // Before the unreachable check: a missing certificate file is
        // reported with "No such file or directory".
        ConnectErrorKind::Tls
    } else if has(UNREACHABLE) {
        ConnectErrorKind::Unreachable
    } else {
        ConnectErrorKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpq_messages_are_classified() {
        for (message, kind) in [
            (
                "missing \"=\" after \"x\" in connection info string",
                ConnectErrorKind::InvalidConnectionString,
            ),
            (
                "connection to server at \"127.0.0.1\", port 1 failed: Connection refused\n\tIs the server running",
                ConnectErrorKind::Unreachable,
            ),
            (
                "could not translate host name \"nope\" to address: Name or service not known",
                ConnectErrorKind::Unreachable,
            ),
            (
                "connection to server failed: FATAL:  password authentication failed for user \"u\"",
                ConnectErrorKind::AuthenticationFailed,
            ),
            (
                "connection to server failed: FATAL:  database \"nope\" does not exist",
                ConnectErrorKind::NoSuchDatabase,
            ),
            (
                "connection to server at \"127.0.0.1\", port 2 failed: session is read-only",
                ConnectErrorKind::Unreachable,
            ),
            ("something else", ConnectErrorKind::Other),
        ] {
            assert_eq!(classify(&tidy(message)), kind, "{message}");
        }
    }

    /// libpq 15's wording for each TLS failure a caller can meet.
    #[test]
    fn tls_failures_are_classified() {
        for message in [
            "connection to server at \"localhost\" (127.0.0.1), port 5432 failed: \
             SSL error: certificate verify failed",
            "connection to server at \"127.0.0.1\", port 5432 failed: \
             server does not support SSL, but SSL was required",
            "connection to server at \"h\" (10.0.0.1), port 5432 failed: \
             root certificate file \"/nope/ca.crt\" does not exist\n\
             Either provide the file or change sslmode to disable server certificate verification.",
            "connection to server at \"h\" (10.0.0.1), port 5432 failed: \
             could not read root certificate file \"/etc/ca.crt\": No such file or directory",
            "connection to server at \"h\" (10.0.0.1), port 5432 failed: \
             server certificate for \"localhost\" (and 1 other name) does not match host name \"h\"",
            "connection to server at \"h\" (10.0.0.1), port 5432 failed: \
             could not open certificate file \"/c.crt\": Permission denied",
            "connection to server at \"h\" (10.0.0.1), port 5432 failed: \
             SSL error: tlsv1 alert unknown ca",
        ] {
            assert_eq!(
                classify(&tidy(message)),
                ConnectErrorKind::Tls,
                "{message}"
            );
        }
        // Not TLS problems, though they mention SSL.
        for (message, kind) in [
            (
                "invalid sslmode value: \"sometimes\"",
                ConnectErrorKind::InvalidConnectionString,
            ),
            (
                "connection to server at \"h\" (10.0.0.1), port 5432 failed: FATAL:  \
                 no pg_hba.conf entry for host \"10.0.0.2\", user \"u\", database \"d\", SSL off",
                ConnectErrorKind::AuthenticationFailed,
            ),
            (
                "connection to server at \"h\" (10.0.0.1), port 5432 failed: \
                 SSL SYSCALL error: EOF detected",
                ConnectErrorKind::Other,
            ),
        ] {
            assert_eq!(classify(&tidy(message)), kind, "{message}");
        }
    }
}
