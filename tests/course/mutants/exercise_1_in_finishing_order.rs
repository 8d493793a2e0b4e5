//! Mutant `in_finishing_order` of solutions/exercise_1.rs: a wrong fix, kept so that the course
//! shows its checks catch it.
//!
//! Wrong fix: each thread pushes its count into a shared list, which is returned.
//! Why it fails: the list is in the order the threads finished; a schedule where page 1
//! finishes first puts the counts out of page order (check `counts_in_page_order`).
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
    let results = Arc::new(synckit::Lock::new(Vec::new()).named("results"));
    let handles: Vec<_> = (0..pages.len())
        .map(|i| {
            let (pages, results) = (Arc::clone(&pages), Arc::clone(&results));
            spawn_named(&format!("page-{i}"), move || {
                results.acquire().push(count_page(&pages[i]))
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("a page thread panicked");
    }
    let counted = results.acquire().clone();
    counted
}
