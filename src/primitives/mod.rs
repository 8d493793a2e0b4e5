//! The primitives, one per file, each with its guard beside it.

pub(crate) mod barrier;
pub(crate) mod condition;
pub(crate) mod core;
pub(crate) mod event;
pub(crate) mod lock;
pub(crate) mod rlock;
pub(crate) mod semaphore;
