// Checks of exercise 1 (threads). Included by tests/exercises.rs once per module under test,
// which it names `ex`.

use std::sync::Arc;

use synckit::testing::{self, Config};

use crate::schedules::*;
use crate::support::*;

fn pages() -> Vec<String> {
    vec![
        "Threads share their process's memory".to_string(),
        "so they are cheap to create and quick to switch".to_string(),
        "".to_string(),
        "but two threads touching the same data at once is a race".to_string(),
        "join waits".to_string(),
    ]
}

/// The checks of this exercise, and what the stub must do under each.
pub fn checks() -> Vec<Check> {
    vec![
        Check {
            name: "counts_in_page_order",
            run: counts_in_page_order,
            stub: StubExpect::Passes,
        },
        Check {
            name: "one_named_thread_per_page",
            run: one_named_thread_per_page,
            stub: StubExpect::Fails {
                why: &[Why::NotOnThreads],
                detail: None,
            },
        },
        Check {
            name: "every_thread_joined",
            run: every_thread_joined,
            stub: StubExpect::Passes,
        },
    ]
}

fn counts_in_page_order() -> Verdict {
    let expected = "word_counts returns one count per page, in page order: [5, 10, 0, 12, 2], \
                    however the page threads are scheduled (every schedule that deviates once \
                    from the default order)";
    explored(
        expected,
        || {
            testing::explore(course_config(Config::delay_bounded(1)), |_| {
                let got = ex::word_counts(Arc::new(pages()));
                let words: Vec<usize> = got.iter().map(|c| c.words).collect();
                let want: Vec<usize> = pages()
                    .iter()
                    .map(|p| p.split_whitespace().count())
                    .collect();
                if words != want {
                    broken(
                        Why::WrongAnswer,
                        format!(
                            "it returned the counts {words:?}: in the order the threads \
                             finished, not in page order? Join the handles in page order"
                        ),
                    );
                }
            })
        },
        |_, f| f,
    )
}

fn one_named_thread_per_page() -> Verdict {
    let expected = "page i is counted on its own thread, named `page-i` (page-0, page-1, ...)";
    let got = run(expected, || ex::word_counts(Arc::new(pages())))?;
    let threads: Vec<String> = got.iter().map(|c| c.thread.clone()).collect();
    let want: Vec<String> = (0..pages().len()).map(|i| format!("page-{i}")).collect();
    if threads == want {
        return Ok(());
    }
    let happened = if threads.iter().all(|t| t == "main") {
        "every page was counted on the calling thread (`main`), one after the other: no thread was spawned"
            .to_string()
    } else {
        format!("the pages were counted on the threads {threads:?}")
    };
    Err(Failure::new(Why::NotOnThreads, expected, happened))
}

fn every_thread_joined() -> Verdict {
    let expected = "when word_counts returns, every thread has been joined and has dropped its clone of the Arc";
    let clones_left = run(expected, || {
        let pages = Arc::new(pages());
        let _ = ex::word_counts(Arc::clone(&pages));
        Arc::strong_count(&pages) - 1
    })?;
    if clones_left == 0 {
        Ok(())
    } else {
        Err(Failure::new(
            Why::WrongAnswer,
            expected,
            format!(
                "{clones_left} clone(s) of the Arc were still alive: some thread was not joined"
            ),
        ))
    }
}
