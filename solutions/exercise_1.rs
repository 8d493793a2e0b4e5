//! # Exercise 1 · Threads: spawn, share, join (solution)
//!
//! A thread is a second line of execution inside the same process. It runs at the same
//! time as the code that started it and sees the same memory: cheap to start, easy to talk
//! to, and (exercises 2–8) easy to get wrong.
//!
//! A spawned thread may outlive the function that started it, so its closure must *own*
//! what it uses (`move`). To let several threads read the same data, put it in an `Arc`
//! and give each thread its own clone of the pointer (`Arc::clone` copies the pointer, not
//! the data). `join()` waits for a thread and hands back what it returned.
//!
//! ## Why this works
//!
//! Each thread gets its own `Arc` clone, so the pages live as long as the last thread that
//! reads them; nothing is copied. The handles are kept in page order and joined in that
//! order, so the results come back in page order whatever order the threads *finish* in:
//! `join` waits for that particular thread. Once every handle is joined, every clone of the
//! `Arc` has been dropped with its thread, and the caller owns the pages alone again.

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
            spawn_named(&format!("page-{i}"), move || count_page(&pages[i]))
        })
        .collect();
    // Joined in page order: results in page order, however the threads were scheduled.
    handles
        .into_iter()
        .map(|handle| handle.join().expect("a page thread panicked"))
        .collect()
}
