// Checks of exercise 7 (dining philosophers). Included by tests/exercises.rs once per module
// under test, which it names `ex`.

use std::collections::BTreeSet;
use std::sync::Arc;

use synckit::detector::ReportKind;
use synckit::testing::{self, Config};
use synckit::{LockGuard, Semaphore};

use crate::schedules::*;
use crate::support::*;
use crate::table::{DinnerTable, SEATS};

impl ex::Table for DinnerTable {
    #[track_caller]
    fn pick_up(&self, fork: usize) -> LockGuard<'_, ()> {
        DinnerTable::pick_up(self, fork)
    }
    #[track_caller]
    fn try_pick_up(&self, fork: usize) -> Option<LockGuard<'_, ()>> {
        DinnerTable::try_pick_up(self, fork)
    }
    fn eat(&self, seat: usize) {
        DinnerTable::eat(self, seat)
    }
    fn waiter(&self) -> &Semaphore {
        DinnerTable::waiter(self)
    }
}

/// The checks of this exercise, and what the stub must do under each.
pub fn checks() -> Vec<Check> {
    vec![Check {
        name: "five_philosophers_dine",
        run: five_philosophers_dine,
        stub: StubExpect::Fails {
            why: &[Why::Report(ReportKind::Deadlock)],
            detail: Some(|f| {
                let report = f.report.as_ref().ok_or("there is no report")?;
                let forks: BTreeSet<String> = report.resources().into_iter().collect();
                let want: BTreeSet<String> = (0..SEATS).map(|i| format!("fork-{i}")).collect();
                if forks != want {
                    return Err(format!(
                        "the cycle goes through {forks:?}, not the five forks"
                    ));
                }
                report_in_exercise_file(f, 7)
            }),
        },
    }]
}

fn five_philosophers_dine() -> Verdict {
    let expected = "five philosophers sit down at once and each eats once, with both forks in \
                    hand, and nobody waits forever, under every schedule that deviates at most \
                    once from going round the table";
    explored(
        expected,
        || {
            testing::explore(course_config(Config::delay_bounded(1)), |run| {
                let table = Arc::new(DinnerTable::new());
                let philosophers: Vec<_> = (0..SEATS)
                    .map(|seat| {
                        let table = table.clone();
                        run.spawn(&format!("philosopher-{seat}"), move || {
                            ex::philosopher(seat, &*table)
                        })
                    })
                    .collect();
                philosophers.into_iter().for_each(join);
                let (mut meals, bad) = table.meals();
                meals.sort();
                if meals != (0..SEATS).collect::<Vec<_>>() || !bad.is_empty() {
                    broken(
                        Why::WrongAnswer,
                        format!("the seats that ate: {meals:?}; ate without both forks: {bad:?}"),
                    );
                }
            })
        },
        |_, f| f,
    )
}
