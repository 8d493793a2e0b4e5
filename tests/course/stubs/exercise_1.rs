//! # Exercise 1 · Threads: spawn, share, join
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
//! ## What to do
//!
//! `word_counts` must count the words of each page **on its own thread**, named `page-0`,
//! `page-1`, … (use `synckit::thread::spawn_named`: `std::thread::spawn` with a name the
//! detector's reports show), and return the results in page order. Right now it does all
//! the work on the calling thread.
//!
//! `cargo test exercise_1` checks it; `cargo run -- hint 1` if you are stuck.

use std::sync::Arc;

#[allow(unused_imports)]
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
    // TODO: this counts every page on the calling thread, one after the other. Instead:
    //   1. for each page index `i`, clone the Arc and spawn a thread named `page-{i}` that
    //      returns `count_page(&pages[i])`;
    //   2. keep the JoinHandles in a Vec (in page order);
    //   3. join them in that order and collect what they return.
    pages.iter().map(|page| count_page(page)).collect()
}
