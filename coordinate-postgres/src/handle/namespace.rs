//! Namespaces: the `namespace` table and the `Namespace` trait.

use std::sync::Arc;
use std::time::Duration;

use coordinate_api::{
    Attempt, Completion, Data, Error, Namespace, ObjectKind, PruneRequest, Pruned, Result, Summary,
    Wakeup, WorkSpec, Worker,
};
use diesel::prelude::*;

use crate::claim::expiry::with_expiry;
use crate::db::listener::{Event, Mark};
use crate::db::shared::Shared;
use crate::db::transaction::{with_retry, Isolation, Subject};
use crate::handle::summary::{summarize, Scope};
use crate::schema::namespace;

/// Handle to one namespace: its id and name, and the shared pool.
#[derive(Clone)]
pub(crate) struct PgNamespace {
    pub(crate) shared: Arc<Shared>,
    pub(crate) id: i32,
    pub(crate) name: Arc<str>,
    /// Where this handle's last `wait_for_cancellation` left off, so that
    /// an attempt taken between two waits wakes the next one. Shared by
    /// clones of the handle.
    cancellations_seen: Arc<std::sync::Mutex<Option<Mark>>>,
}

impl PgNamespace {
    /// Whether `other` is this namespace: the same row, reached through
    /// the same coordinate. A handle of another coordinate is refused even
    /// when its namespace has the same id (another database, or another
    /// pool onto this one): the rule every call taking a second handle
    /// applies, as the memory backend does.
    pub(crate) fn is_same(&self, other: &PgNamespace) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared) && self.id == other.id
    }
}

/// Names this namespace in [`Error::Gone`] when it was deleted.
impl Subject for PgNamespace {
    fn shared(&self) -> &Shared {
        &self.shared
    }

    fn gone(&self) -> Error {
        Error::gone(ObjectKind::Namespace, &*self.name)
    }
}

impl PgNamespace {
    /// A handle to namespace `id`, called `name`.
    pub(crate) fn new(shared: Arc<Shared>, id: i32, name: String) -> Self {
        PgNamespace {
            shared,
            id,
            name: name.into(),
            cancellations_seen: Arc::default(),
        }
    }
}

impl Namespace for PgNamespace {
    fn name(&self) -> &str {
        &self.name
    }

    fn destroy(&self) -> Result<()> {
        // Everything below the namespace goes with it (ON DELETE CASCADE).
        with_retry(self, Isolation::Autocommit, |conn| {
            diesel::delete(namespace::table.find(self.id)).execute(conn)?;
            Ok(())
        })
    }

    fn set_work_spec(&self, data: Data) -> Result<Arc<dyn WorkSpec>> {
        Ok(Arc::new(self.put_work_spec(data)?))
    }

    fn work_spec(&self, name: &str) -> Result<Arc<dyn WorkSpec>> {
        Ok(Arc::new(self.find_work_spec(name)?))
    }

    fn destroy_work_spec(&self, name: &str) -> Result<()> {
        self.delete_work_spec(name)
    }

    fn work_spec_names(&self) -> Result<Vec<String>> {
        self.list_work_spec_names()
    }

    fn worker(&self, name: &str) -> Result<Arc<dyn Worker>> {
        Ok(Arc::new(self.get_or_create_worker(name)?))
    }

    fn workers(&self) -> Result<Vec<Arc<dyn Worker>>> {
        self.list_workers()
    }

    fn summarize(&self) -> Result<Summary> {
        let now = self.shared.now();
        with_expiry(self, self.id, now, |conn| {
            summarize(conn, now, Scope::Namespace(self.id))
        })
    }

    fn prune(&self, request: &PruneRequest) -> Result<Pruned> {
        self.prune_history(request)
    }

    fn count_prunable(&self, request: &PruneRequest) -> Result<Pruned> {
        self.count_history(request)
    }

    fn complete_attempts(&self, batch: &[Completion]) -> Result<Vec<Result<()>>> {
        self.complete(batch)
    }

    fn renew_attempts(
        &self,
        attempts: &[Arc<dyn Attempt>],
        extend: Duration,
    ) -> Result<Vec<Result<()>>> {
        self.renew_all(attempts, extend)
    }

    fn wait_for_work(&self, timeout: Duration) -> Result<Wakeup> {
        self.shared.listener.wait(Event::Work, self.id, timeout)
    }

    fn wait_for_cancellation(&self, timeout: Duration) -> Result<Wakeup> {
        let mut seen = self
            .cancellations_seen
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let (wakeup, mark) =
            self.shared
                .listener
                .wait_since(Event::Cancellation, self.id, timeout, *seen)?;
        *seen = mark;
        Ok(wakeup)
    }
}
