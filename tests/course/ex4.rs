// Checks of exercise 4 (RLock in depth). Included by tests/exercises.rs once per module under
// test, which it names `ex`.

use std::sync::Arc;

use synckit::detector::ReportKind;
use synckit::testing::{self, Config};

use crate::schedules::*;
use crate::support::*;

/// The checks of this exercise, and what the stub must do under each.
pub fn checks() -> Vec<Check> {
    vec![
        Check {
            name: "recursion_reenters",
            run: recursion_reenters,
            stub: StubExpect::Passes,
        },
        Check {
            name: "child_totals_in_parallel",
            run: child_totals_in_parallel,
            stub: StubExpect::Fails {
                why: &[
                    Why::Report(ReportKind::Deadlock),
                    Why::Report(ReportKind::WorldDeadlock),
                ],
                detail: Some(|f| {
                    let text = f.report.as_ref().map(|r| r.to_string()).unwrap_or_default();
                    if text.contains("`tree`") && text.contains("sizer-") {
                        Ok(())
                    } else {
                        Err(
                            "the report does not show a sizer thread waiting for the `tree` RLock"
                                .into(),
                        )
                    }
                }),
            },
        },
        Check {
            name: "wait_until_total",
            run: wait_until_total,
            stub: StubExpect::Fails {
                why: &[Why::NotImplemented],
                detail: None,
            },
        },
    ]
}

/// root ── docs(10) ── drafts(100) ── old(1000)
///      ├─ music(20)
///      └─ src(5) ──── lib(7)
fn sample() -> ex::Tree {
    let tree = ex::Tree::new("root");
    let docs = tree.add(0, "docs", 10);
    let drafts = tree.add(docs, "drafts", 100);
    tree.add(drafts, "old", 1000);
    tree.add(0, "music", 20);
    let src = tree.add(0, "src", 5);
    tree.add(src, "lib", 7);
    tree
}

fn recursion_reenters() -> Verdict {
    let expected = "total_size re-enters the RLock on every level: 1142 for the whole tree, also when the \
                    caller already holds the lock, and nothing is held afterwards";
    let (alone, nested, held_inside, held_after) = run(expected, || {
        let tree = sample();
        let alone = tree.total_size(0);
        let (nested, held_inside) = tree.with_lock(|| (tree.total_size(0), tree.holds()));
        (alone, nested, held_inside, tree.holds())
    })?;
    if (alone, nested, held_inside, held_after) == (1142, 1142, 1, 0) {
        Ok(())
    } else {
        Err(Failure::new(
            Why::WrongAnswer,
            expected,
            format!(
                "total_size gave {alone} (and {nested} inside with_lock); holds() was {held_inside} inside \
                 with_lock and {held_after} after"
            ),
        ))
    }
}

fn child_totals_in_parallel() -> Verdict {
    let expected = "the totals of the root's children, each computed on its own `sizer-N` thread: \
                    [1110, 20, 12]";
    let totals = run(expected, || Arc::new(sample()).child_totals_in_parallel())?;
    if totals == [1110, 20, 12] {
        Ok(())
    } else {
        Err(Failure::new(
            Why::WrongAnswer,
            expected,
            format!("it returned {totals:?}"),
        ))
    }
}

fn wait_until_total() -> Verdict {
    let expected = "a watcher that already holds the RLock calls wait_until_total(root, 100) while \
                    `main` adds five files of 30: it returns a total of at least 100, still \
                    holding the RLock once, under every schedule with at most 2 preemptions";
    explored(
        expected,
        || {
            testing::explore(course_config(Config::exhaustive(2)), |run| {
                let tree = Arc::new(ex::Tree::new("root"));
                let watcher = {
                    let tree = tree.clone();
                    run.spawn("watcher", move || {
                        tree.with_lock(|| (tree.wait_until_total(0, 100), tree.holds()))
                    })
                };
                for i in 0..5 {
                    tree.add(0, &format!("file-{i}"), 30);
                }
                let (total, holds_after) = join(watcher);
                if total < 100 {
                    broken(
                        Why::WrongAnswer,
                        format!(
                            "wait_until_total returned {total}, less than 100: it stopped \
                             waiting after a wake-up without checking the total again"
                        ),
                    );
                }
                if holds_after != 1 {
                    broken(
                        Why::WrongAnswer,
                        format!(
                            "after wait_until_total the watcher held the RLock {holds_after} \
                             time(s), not 1"
                        ),
                    );
                }
            })
        },
        |_, f| f,
    )
}
