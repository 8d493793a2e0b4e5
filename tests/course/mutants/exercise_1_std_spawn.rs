//! Mutant `std_spawn` of solutions/exercise_1.rs: a wrong fix, kept so that the course shows
//! its checks catch it.
//!
//! Wrong fix: `std::thread::spawn` instead of `spawn_named`.
//! Why it fails: the threads have no names, so no page is counted on a thread called `page-i`
//! (check `one_named_thread_per_page`).
//!
//! @generated from tests/course/mutants.rs by `SYNCKIT_BLESS=1 cargo test --features solutions
//! --test exercises harness::`; do not edit.
#![allow(dead_code, unused_imports, unused_variables, unused_mut, clippy::all)]

use std::sync::Arc;

use synckit::thread::spawn_named;

/// What one page gave: the thread that counted it, and how many words it has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counted {
    /// The name of the thread that did the counting.
    pub thread: String,
    /// The number of words on the page.
    pub words: usize,
}

/// Counts the words of one page and notes which thread did it. (Given: no need to change.)
pub fn count_page(page: &str) -> Counted {
    Counted {
        thread: std::thread::current()
            .name()
            .unwrap_or("<unnamed>")
            .to_string(),
        words: page.split_whitespace().count(),
    }
}

/// Counts the words of every page, one thread per page, results in page order.
pub fn word_counts(pages: Arc<Vec<String>>) -> Vec<Counted> {
    // One thread per page. Each closure owns its own clone of the Arc (`move`), so it may
    // outlive this loop iteration; the index is copied in.
    let handles: Vec<_> = (0..pages.len())
        .map(|i| {
            let pages = Arc::clone(&pages);
            std::thread::spawn(move || count_page(&pages[i]))
        })
        .collect();
    // Joined in page order: results in page order, however the threads were scheduled.
    handles
        .into_iter()
        .map(|handle| handle.join().expect("a page thread panicked"))
        .collect()
}
