//! A primitive's identity as the detector knows it: a lazily drawn id, its kind, its name and
//! where it was created. Every primitive embeds one [`Resource`]; creating it touches no
//! global state (it is a `const fn`), so a `static` lock needs no `LazyLock`.

use std::collections::HashMap;
use std::fmt;
use std::panic::Location;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::Mutex;

/// A call site, as captured by `#[track_caller]`.
pub(crate) type Site = &'static Location<'static>;

/// What kind of primitive a resource is; shown in reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// [`crate::Lock`]
    Lock,
    /// [`crate::RLock`]
    RLock,
    /// [`crate::Semaphore`]
    Semaphore,
    /// [`crate::BoundedSemaphore`]
    BoundedSemaphore,
    /// [`crate::Condition`]
    Condition,
    /// [`crate::Event`]
    Event,
    /// [`crate::Barrier`]
    Barrier,
    /// A thread being joined (`synckit::thread::JoinHandle::join`).
    Thread,
}

impl Kind {
    /// Locks: a hold of one orders the acquires made under it (the lock-order graph).
    pub(crate) fn is_lock(self) -> bool {
        matches!(self, Kind::Lock | Kind::RLock)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Lock => "Lock",
            Kind::RLock => "RLock",
            Kind::Semaphore => "Semaphore",
            Kind::BoundedSemaphore => "BoundedSemaphore",
            Kind::Condition => "Condition",
            Kind::Event => "Event",
            Kind::Barrier => "Barrier",
            Kind::Thread => "Thread",
        })
    }
}

/// An interned name: a thin pointer (one word, where a `&str` takes two), so that a hold,
/// which copies its resource's identity on every acquire, stays small.
pub(crate) type Name = &'static &'static str;

/// A primitive's identity for reports: copyable, valid after the primitive is gone (it points
/// only at interned names and call sites, never at the primitive, which a leaked guard lets
/// move or drop while the hold is still listed). Five words.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ResourceInfo {
    pub id: u64,
    pub name: Option<Name>,
    pub class: Option<Name>,
    pub created: Site,
    pub kind: Kind,
}

impl ResourceInfo {
    /// The name shown in reports: the given name, or `Kind@file:line`.
    pub fn display_name(&self) -> String {
        match self.name {
            Some(name) => name.to_string(),
            None => format!(
                "{}@{}:{}",
                self.kind,
                super::report::clean_path(self.created.file()),
                self.created.line()
            ),
        }
    }
}

/// Identity and naming, embedded in every primitive.
pub(crate) struct Resource {
    id: AtomicU64,
    kind: Kind,
    name: Option<Name>,
    class: Option<Name>,
    created: Site,
    /// Set once the resource has an edge in the lock-order graph, so that dropping it
    /// knows whether it must take the global lock to leave the graph.
    in_order_graph: AtomicBool,
}

impl Resource {
    pub const fn new(kind: Kind, created: Site) -> Self {
        Resource {
            id: AtomicU64::new(0),
            kind,
            name: None,
            class: None,
            created,
            in_order_graph: AtomicBool::new(false),
        }
    }

    pub fn set_name(&mut self, name: &str) {
        self.name = Some(intern(name));
    }

    pub fn set_class(&mut self, class: &str) {
        self.class = Some(intern(class));
    }

    pub fn class(&self) -> Option<Name> {
        self.class
    }

    #[inline(always)]
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The resource's id, drawing one on first use.
    #[inline(always)]
    pub fn id(&self) -> u64 {
        let id = self.id.load(Ordering::Relaxed);
        if id != 0 {
            return id;
        }
        self.assign_id()
    }

    /// Draws the id: once per primitive, on its first use (so creating one costs nothing).
    #[inline]
    fn assign_id(&self) -> u64 {
        let fresh = super::registry::next_resource_id();
        match self
            .id
            .compare_exchange(0, fresh, Ordering::Relaxed, Ordering::Relaxed)
        {
            Ok(_) => fresh,
            Err(existing) => existing,
        }
    }

    #[inline(always)]
    pub fn info(&self) -> ResourceInfo {
        ResourceInfo {
            id: self.id(),
            kind: self.kind,
            name: self.name,
            class: self.class,
            created: self.created,
        }
    }

    /// The id, or 0 if none was drawn yet (the fast path leaves a first use to the full one).
    #[inline(always)]
    pub fn peek_id(&self) -> u64 {
        self.id.load(Ordering::Relaxed)
    }

    /// The identity, under an id already drawn.
    #[inline(always)]
    pub fn info_with(&self, id: u64) -> ResourceInfo {
        ResourceInfo {
            id,
            kind: self.kind,
            name: self.name,
            class: self.class,
            created: self.created,
        }
    }

    /// The name shown in reports.
    pub fn display_name(&self) -> String {
        self.info().display_name()
    }

    /// The id if one was ever drawn (a resource without one was never in any graph).
    #[inline(always)]
    pub fn existing_id(&self) -> Option<u64> {
        match self.id.load(Ordering::Relaxed) {
            0 => None,
            id => Some(id),
        }
    }

    #[inline(always)]
    pub(crate) fn mark_in_order_graph(&self) {
        self.in_order_graph.store(true, Ordering::Relaxed);
    }

    #[inline(always)]
    pub(crate) fn in_order_graph(&self) -> bool {
        self.in_order_graph.load(Ordering::Relaxed)
    }
}

/// Names are interned so that holds and reports can copy one word around. Only
/// `named()`/`class()` reach this, never the fast path; the table grows with the number of
/// *distinct* names, not with the number of primitives.
pub(crate) fn intern(name: &str) -> Name {
    static NAMES: LazyLock<Mutex<HashMap<String, Name>>> = LazyLock::new(Default::default);
    let mut names = NAMES.lock();
    if let Some(interned) = names.get(name) {
        return interned;
    }
    let text: &'static str = Box::leak(name.to_string().into_boxed_str());
    let leaked: Name = Box::leak(Box::new(text));
    names.insert(name.to_string(), leaked);
    leaked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unnamed_resources_are_named_after_kind_and_creation_site() {
        let meta = Resource::new(Kind::Semaphore, Location::caller());
        let line = line!() - 1;
        assert_eq!(
            meta.info().display_name(),
            format!("Semaphore@{}:{line}", file!())
        );
    }

    #[test]
    fn ids_are_drawn_lazily_once_and_never_shared() {
        let a = Resource::new(Kind::Lock, Location::caller());
        let b = Resource::new(Kind::Lock, Location::caller());
        assert_eq!(a.existing_id(), None, "creating a resource draws no id");
        let id = a.id();
        assert_ne!(id, 0);
        assert_eq!(a.id(), id, "the id is stable");
        assert_ne!(b.id(), id);
    }

    #[test]
    fn interning_gives_one_address_per_distinct_name() {
        let a = intern("registry-test-name");
        let b = intern(&String::from("registry-test-name"));
        assert!(std::ptr::eq(a, b));
        assert_eq!(*a, "registry-test-name");
        assert_ne!(intern("registry-test-other"), a);
    }
}
