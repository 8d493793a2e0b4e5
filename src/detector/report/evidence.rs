//! Who could have ended a wait: the facts a primitive keeps (as data), and the sentences a
//! closed-world report says about them (written here, and only here).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::super::registry::{Global, ThreadShared};
use super::super::resource::{Kind, Site};
use super::fmt_site;

/// A thread as a primitive remembers it: the record kept when it acted, so the report can
/// name it (and say whether it is alive) after it has exited.
#[derive(Clone)]
pub(crate) enum ThreadRef {
    /// The thread's shared record.
    Known(Arc<ThreadShared>),
    /// A thread that was already exiting when it acted (its detector state was gone).
    Exiting,
}

impl ThreadRef {
    /// The calling thread.
    pub fn current() -> ThreadRef {
        match super::super::registry::current_thread() {
            Some(t) => ThreadRef::Known(t),
            None => ThreadRef::Exiting,
        }
    }

    fn describe(&self) -> (String, &'static str) {
        match self {
            ThreadRef::Known(t) => (
                t.name.clone(),
                if t.alive.load(Ordering::Acquire) {
                    "still alive"
                } else {
                    "which has exited"
                },
            ),
            ThreadRef::Exiting => ("an exiting thread".to_string(), "which has exited"),
        }
    }
}

/// One signal a primitive remembers: who sent it and from where.
#[derive(Clone)]
pub(crate) struct Signal {
    pub by: ThreadRef,
    pub site: Site,
}

impl Signal {
    /// A signal sent by the calling thread at `site`.
    pub fn here(site: Site) -> Signal {
        Signal {
            by: ThreadRef::current(),
            site,
        }
    }
}

/// What a primitive knows about who could end a wait on it.
pub(crate) enum Evidence {
    /// A condition: its last notify (and how many it woke), if any.
    Condition {
        name: String,
        last_notify: Option<(Signal, usize)>,
    },
    /// An event: its last set, if any (it has been cleared since, or the wait would end).
    Event {
        name: String,
        last_set: Option<Signal>,
    },
    /// A semaphore with no free permit: who holds permits through guards (thread ids and
    /// counts), and the last bare `release()`.
    Permits {
        kind: Kind,
        name: String,
        held_by: Vec<(u64, u32)>,
        last_release: Option<Signal>,
    },
    /// A barrier: how many parties have arrived of how many.
    Barrier {
        name: String,
        arrived: usize,
        parties: usize,
    },
    /// A join: the detector id of the thread joined.
    Join { thread: u64 },
}

impl Evidence {
    /// The evidence as a sentence (under the global lock: names come from the registry).
    pub(crate) fn sentence(&self, g: &Global) -> String {
        match self {
            Evidence::Condition { name, last_notify } => match last_notify {
                None => format!("no thread has ever notified Condition `{name}`"),
                Some((signal, woke)) => {
                    let (who, alive) = signal.by.describe();
                    format!(
                        "Condition `{name}` was last notified by `{who}` at {} (woke {woke}), {alive}",
                        fmt_site(signal.site)
                    )
                }
            },
            Evidence::Event { name, last_set } => match last_set {
                None => format!("no thread has ever set Event `{name}`"),
                Some(signal) => {
                    let (who, alive) = signal.by.describe();
                    format!(
                        "Event `{name}` was last set by `{who}` at {} (and cleared since), {alive}",
                        fmt_site(signal.site)
                    )
                }
            },
            Evidence::Permits {
                kind,
                name,
                held_by,
                last_release,
            } => {
                let holders: Vec<String> = held_by
                    .iter()
                    .map(|&(t, n)| format!("`{}` x{n}", g.thread_name(t)))
                    .collect();
                let held = if holders.is_empty() {
                    "no thread holds a permit through a guard".to_string()
                } else {
                    format!("permits held by {}", holders.join(", "))
                };
                let released = match last_release {
                    None => "nobody has ever called release()".to_string(),
                    Some(signal) => {
                        let (who, alive) = signal.by.describe();
                        format!(
                            "last release() by `{who}` at {}, {alive}",
                            fmt_site(signal.site)
                        )
                    }
                };
                format!("{kind} `{name}` has 0 permits; {held}; {released}")
            }
            Evidence::Barrier {
                name,
                arrived,
                parties,
            } => format!(
                "Barrier `{name}` has {arrived} of {parties} parties; {} more must arrive",
                parties - arrived.min(parties)
            ),
            Evidence::Join { thread } => {
                let what = match g.waiting.get(thread) {
                    Some(w) => format!(
                        "which waits on {} `{}` at {}",
                        w.resource.kind,
                        w.resource.display_name(),
                        fmt_site(w.site)
                    ),
                    None => "which is running".to_string(),
                };
                format!("joins thread `{}`, {what}", g.thread_name(*thread))
            }
        }
    }
}
