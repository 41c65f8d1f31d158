//! The entry point of a backend.

use std::sync::Arc;

use crate::error::Result;
use crate::namespace::Namespace;
use crate::summary::Summary;

/// A connection to one coordinate store: the root of every other handle.
///
/// Applications hold it as `Arc<dyn Coordinate>` so they can swap backends.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait Coordinate: Send + Sync + std::any::Any {
    /// Gets the namespace called `name`, creating it if it does not exist.
    ///
    /// Errors: [`InvalidInput`](crate::Error::InvalidInput) for an empty name
    /// or one with a NUL character; [`Backend`](crate::Error::Backend).
    fn namespace(&self, name: &str) -> Result<Arc<dyn Namespace>>;

    /// Every namespace, in name order.
    ///
    /// Errors: [`Backend`](crate::Error::Backend).
    fn namespaces(&self) -> Result<Vec<Arc<dyn Namespace>>>;

    /// Unit counts per namespace, work spec and status.
    ///
    /// Errors: [`Backend`](crate::Error::Backend).
    fn summarize(&self) -> Result<Summary>;

    /// Succeeds when the store can take work now: what a readiness probe
    /// asks. The default lists the namespaces; a backend that can reach a
    /// server which answers reads but refuses writes (a PostgreSQL
    /// standby) checks for that too.
    ///
    /// Errors: [`Backend`](crate::Error::Backend), transient while no
    /// writable store is reachable.
    fn ready(&self) -> Result<()> {
        self.namespaces().map(drop)
    }
}
