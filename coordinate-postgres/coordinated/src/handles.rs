//! The handles this server has handed out, by token.
//!
//! go's REST server finds every object by the names in its URL, and
//! `namespace` and `worker` lookups create what they do not find. So a
//! client holding the URL of a namespace that was destroyed (and maybe
//! re-created under its name) would silently reach the new one, or
//! re-create it, where a backend's own handle answers
//! [`Error::Gone`](coordinate_api::Error::Gone).
//!
//! This server keeps, per store, the handles behind the URLs it hands
//! out: every resource URL in its answers carries `?ref=TOKEN`, and a
//! request carrying a known token is served by *that* handle, which
//! answers `Gone` itself once its object was deleted. A request without
//! `ref` (go's client, hand-written URLs), or whose token was evicted, is
//! resolved by names as go does. The registry is bounded: past
//! [`DEFAULT_CAPACITY`] entries the oldest go first, and their URLs fall
//! back to names.
//!
//! Tokens start at a random base per registry, so a token from before a
//! restart (or from another test session) is unknown here, not another
//! object's.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex};

use coordinate_api::{Attempt, Namespace, WorkSpec, WorkUnit, Worker};

/// How many handles a registry keeps by default.
pub const DEFAULT_CAPACITY: usize = 200_000;

/// One handle, of any kind.
#[derive(Clone)]
pub enum Handle {
    /// A namespace.
    Namespace(Arc<dyn Namespace>),
    /// A work spec.
    WorkSpec(Arc<dyn WorkSpec>),
    /// A work unit.
    WorkUnit(Arc<dyn WorkUnit>),
    /// A worker.
    Worker(Arc<dyn Worker>),
    /// An attempt.
    Attempt(Arc<dyn Attempt>),
}

impl Handle {
    /// The address of the object behind the handle: the same `Arc`
    /// registered twice gets the same token.
    fn address(&self) -> usize {
        match self {
            Handle::Namespace(h) => Arc::as_ptr(h) as *const () as usize,
            Handle::WorkSpec(h) => Arc::as_ptr(h) as *const () as usize,
            Handle::WorkUnit(h) => Arc::as_ptr(h) as *const () as usize,
            Handle::Worker(h) => Arc::as_ptr(h) as *const () as usize,
            Handle::Attempt(h) => Arc::as_ptr(h) as *const () as usize,
        }
    }

    /// What kind of handle it is, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Handle::Namespace(_) => "namespace",
            Handle::WorkSpec(_) => "work spec",
            Handle::WorkUnit(_) => "work unit",
            Handle::Worker(_) => "worker",
            Handle::Attempt(_) => "attempt",
        }
    }
}

/// A registered handle with the namespace it belongs to (handles below a
/// namespace do not know it, and some calls need it).
#[derive(Clone)]
pub struct Registered {
    /// The handle's namespace (for a namespace: itself).
    pub namespace: Arc<dyn Namespace>,
    /// The handle.
    pub handle: Handle,
}

struct Entries {
    next: u64,
    by_token: HashMap<u64, Registered>,
    by_address: HashMap<usize, u64>,
    /// Tokens oldest first, for eviction.
    order: VecDeque<u64>,
}

/// The handles handed out by one store, by token; at most `capacity`.
pub struct HandleRegistry {
    capacity: usize,
    entries: Mutex<Entries>,
}

impl HandleRegistry {
    /// An empty registry keeping at most `capacity` handles (at least one).
    pub fn new(capacity: usize) -> Self {
        // 52 random bits: tokens differ from any earlier registry's and
        // never wrap.
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_usize(capacity);
        let base = hasher.finish() >> 12;
        HandleRegistry::starting_at(capacity, base)
    }

    /// An empty registry whose first token is `first`.
    fn starting_at(capacity: usize, first: u64) -> Self {
        HandleRegistry {
            capacity: capacity.max(1),
            entries: Mutex::new(Entries {
                next: first,
                by_token: HashMap::new(),
                by_address: HashMap::new(),
                order: VecDeque::new(),
            }),
        }
    }

    /// The token of `handle` (of `namespace`): its old one if this same
    /// `Arc` is still registered, else a new one, evicting the oldest
    /// entry when full.
    pub fn register(&self, namespace: &Arc<dyn Namespace>, handle: Handle) -> u64 {
        let address = handle.address();
        let mut entries = self.lock();
        if let Some(&token) = entries.by_address.get(&address) {
            return token;
        }
        while entries.order.len() >= self.capacity {
            let Some(oldest) = entries.order.pop_front() else {
                break;
            };
            if let Some(gone) = entries.by_token.remove(&oldest) {
                entries.by_address.remove(&gone.handle.address());
            }
        }
        let token = entries.next;
        entries.next += 1;
        entries.order.push_back(token);
        entries.by_address.insert(address, token);
        entries.by_token.insert(
            token,
            Registered {
                namespace: namespace.clone(),
                handle,
            },
        );
        token
    }

    /// The handle registered as `token`, if it still is.
    pub fn get(&self, token: u64) -> Option<Registered> {
        self.lock().by_token.get(&token).cloned()
    }

    /// How many handles are registered.
    pub fn len(&self) -> usize {
        self.lock().order.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // The entries stay consistent between statements, so a panic
        // elsewhere leaves them usable.
        self.entries
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

impl Default for HandleRegistry {
    /// An empty registry of [`DEFAULT_CAPACITY`].
    fn default() -> Self {
        HandleRegistry::new(DEFAULT_CAPACITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coordinate_api::Coordinate;
    use coordinate_memory::MemoryCoordinate;

    #[test]
    fn the_oldest_handles_go_first_and_the_same_arc_keeps_its_token() {
        let store = MemoryCoordinate::new();
        let registry = HandleRegistry::starting_at(2, 10);
        let a = store.namespace("a").unwrap();
        let b = store.namespace("b").unwrap();
        let c = store.namespace("c").unwrap();
        assert_eq!(registry.register(&a, Handle::Namespace(a.clone())), 10);
        assert_eq!(registry.register(&a, Handle::Namespace(a.clone())), 10);
        assert_eq!(registry.register(&b, Handle::Namespace(b.clone())), 11);
        assert_eq!(registry.register(&c, Handle::Namespace(c.clone())), 12);
        assert_eq!(registry.len(), 2);
        assert!(registry.get(10).is_none(), "evicted");
        let found = registry.get(11).unwrap();
        assert_eq!(found.namespace.name(), "b");
        assert_eq!(found.handle.kind(), "namespace");
        // Evicted, `a` is new again.
        assert_eq!(registry.register(&a, Handle::Namespace(a.clone())), 13);
    }

    #[test]
    fn registries_start_apart() {
        let store = MemoryCoordinate::new();
        let ns = store.namespace("n").unwrap();
        let one = HandleRegistry::default().register(&ns, Handle::Namespace(ns.clone()));
        let two = HandleRegistry::default().register(&ns, Handle::Namespace(ns.clone()));
        assert_ne!(one, two);
        assert!(one < 1 << 52 && two < 1 << 52);
    }
}
