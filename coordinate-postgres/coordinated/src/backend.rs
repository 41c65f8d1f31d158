//! `-backend`: go's `impl[:address]` strings, and opening the store they
//! name.

use std::fmt;
use std::sync::Arc;

use coordinate_api::{Clock, Coordinate};
use coordinate_memory::MemoryCoordinate;
use coordinate_postgres::PostgresCoordinate;

use crate::error::ServerError;

/// Reads a PostgreSQL store's pool (open, idle and most connections).
pub type PoolProbe = Arc<dyn Fn() -> coordinate_postgres::PoolState + Send + Sync>;

/// The store `-backend` names.
#[derive(Clone, PartialEq, Eq)]
pub enum BackendSpec {
    /// `memory`: one in-process store, gone when the server stops.
    Memory,
    /// A PostgreSQL connection string in any form the library accepts
    /// (`postgres` alone means libpq's environment).
    Postgres(String),
    /// `http://…` or `https://…`: another coordinated, through the Rust
    /// client (go's proxy mode).
    Http(String),
}

impl BackendSpec {
    /// Reads go's `impl[:address]` form.
    pub fn parse(text: &str) -> Result<Self, ServerError> {
        let implementation = text.split(':').next().unwrap_or("");
        match implementation {
            "memory" if text == "memory" || text == "memory:" => Ok(BackendSpec::Memory),
            // go passes the address after `postgres:`; the library takes the
            // whole string in every form go's users write.
            "postgres" | "postgresql" if text == implementation => {
                Ok(BackendSpec::Postgres(String::new()))
            }
            "postgres" | "postgresql" => Ok(BackendSpec::Postgres(text.to_owned())),
            "http" | "https" => Ok(BackendSpec::Http(text.to_owned())),
            _ => Err(ServerError::Usage(format!(
                "-backend: unknown coordinate backend {:?} (memory, postgres…, http(s)://…)",
                redact_unknown(implementation)
            ))),
        }
    }

    /// Opens the store with the server's clock.
    pub fn open(&self, clock: Arc<dyn Clock>) -> Result<Arc<dyn Coordinate>, ServerError> {
        Ok(self.open_with_pool(clock)?.0)
    }

    /// Opens the store with the server's clock, with a way to read its
    /// connection pool for `/metrics` when it has one (PostgreSQL).
    pub fn open_with_pool(
        &self,
        clock: Arc<dyn Clock>,
    ) -> Result<(Arc<dyn Coordinate>, Option<PoolProbe>), ServerError> {
        match self {
            BackendSpec::Memory => Ok((Arc::new(MemoryCoordinate::with_clock(clock)), None)),
            BackendSpec::Postgres(conn) => {
                let coordinate = PostgresCoordinate::builder(conn)
                    .clock(clock)
                    .build()
                    .map_err(ServerError::Store)?;
                let probe = coordinate.clone();
                let probe: PoolProbe = Arc::new(move || probe.pool_state());
                Ok((Arc::new(coordinate), Some(probe)))
            }
            BackendSpec::Http(url) => Ok((crate::proxy::open(url)?, None)),
        }
    }

    /// The store for one test-clock session: its own clock and scheduler
    /// seed; PostgreSQL with a pool of two. Its `wait_for_work` listens
    /// (as a production store does, or wake-up cases could only poll),
    /// which costs a connection only once a session first waits.
    pub fn open_session(
        &self,
        clock: Arc<dyn Clock>,
        seed: u64,
    ) -> Result<Arc<dyn Coordinate>, ServerError> {
        match self {
            BackendSpec::Memory => Ok(Arc::new(
                MemoryCoordinate::with_clock(clock).with_scheduler_seed(seed),
            )),
            BackendSpec::Postgres(conn) => {
                let coordinate = PostgresCoordinate::builder(conn)
                    .clock(clock)
                    .scheduler_seed(seed)
                    .pool_size(2)
                    .notifications(true)
                    .build()
                    .map_err(ServerError::Store)?;
                Ok(Arc::new(coordinate))
            }
            BackendSpec::Http(_) => Err(ServerError::Usage(
                "--test-clock serves memory and PostgreSQL backends, not a proxied server"
                    .to_owned(),
            )),
        }
    }

    /// How many store calls may run at once: a PostgreSQL pool's size (a
    /// call beyond it would only wait inside the pool, unseen), a few for
    /// the others.
    pub fn store_concurrency(&self) -> usize {
        match self {
            BackendSpec::Memory => 8,
            BackendSpec::Postgres(_) => coordinate_postgres::DEFAULT_POOL_SIZE as usize,
            BackendSpec::Http(_) => 32,
        }
    }
}

/// Never echo what might be a secret: an unknown backend is shown only if
/// it looks like a plain word.
fn redact_unknown(implementation: &str) -> &str {
    if implementation.len() <= 20 && implementation.chars().all(|c| c.is_ascii_alphanumeric()) {
        implementation
    } else {
        "<hidden>"
    }
}

impl fmt::Debug for BackendSpec {
    /// With any password hidden, so that the log may show it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackendSpec::Memory => f.write_str("memory"),
            BackendSpec::Postgres(conn) => {
                let builder = PostgresCoordinate::builder(conn);
                write!(f, "postgres ({builder:?})")
            }
            BackendSpec::Http(url) => write!(f, "proxy {}", redact_url(url)),
        }
    }
}

impl fmt::Display for BackendSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A URL with its userinfo (where go's client carries the token) hidden.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "<hidden>".to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://***@{host}{path}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_forms_are_read() {
        assert_eq!(BackendSpec::parse("memory").unwrap(), BackendSpec::Memory);
        assert_eq!(
            BackendSpec::parse("postgres").unwrap(),
            BackendSpec::Postgres(String::new())
        );
        for conn in [
            "postgres:",
            "postgres://u:p@h/db",
            "postgres:host=h user=u",
            "postgresql://h/db",
        ] {
            assert_eq!(
                BackendSpec::parse(conn).unwrap(),
                BackendSpec::Postgres(conn.into())
            );
        }
        assert_eq!(
            BackendSpec::parse("https://h:5980").unwrap(),
            BackendSpec::Http("https://h:5980".into())
        );
        assert!(BackendSpec::parse("mysql://root:secret@h").is_err());
    }

    #[test]
    fn passwords_never_show() {
        let spec = BackendSpec::parse("postgres://user:hunter2@db.example.com/c").unwrap();
        assert!(!format!("{spec:?}").contains("hunter2"), "{spec:?}");
        let proxy = BackendSpec::parse("http://any:tok3n@h:1/x").unwrap();
        assert_eq!(proxy.to_string(), "proxy http://***@h:1/x");
        let unknown = BackendSpec::parse("weird//user:pw@h").unwrap_err();
        assert!(!unknown.to_string().contains("pw"), "{unknown}");
    }
}
