//! The primitives, one per file, each with its guard beside it, and the one blocking helper
//! they share ([`blocking`]).
//!
//! A primitive talks to the floors below it through a few calls only: the detector's
//! `holds::{on_acquire, on_release}` (a hold taken, a hold given back), `blocking::block`
//! (which registers a wait with the detector and sleeps or passes the baton), `judge` (what
//! to do with a report), and `sched::point` (a scheduling point). It describes itself to the
//! detector as data: a `Resource` (identity and name) and a `Waitable` (who could end a wait
//! on it, and the evidence a report shows).

pub(crate) mod barrier;
pub(crate) mod blocking;
pub(crate) mod condition;
pub(crate) mod core;
pub(crate) mod event;
pub(crate) mod lock;
pub(crate) mod raw;
pub(crate) mod rlock;
pub(crate) mod semaphore;
