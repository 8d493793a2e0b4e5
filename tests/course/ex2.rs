// Checks of exercise 2 (race condition). Included by tests/exercises.rs once per module under
// test, which it names `ex`.
//
// Two tellers run under `synckit::testing::explore`: `between()` is a yield point, where the
// explorer may let the other teller run, and it tries every schedule with at most 2
// preemptions. A gap between the check and the act loses an update under some schedule, so
// it fails every run; one critical section passes every run.

use std::sync::Arc;

use synckit::testing::{self, Config, Run};
use synckit::thread::yield_point;

use crate::schedules::*;
use crate::support::*;

/// The checks of this exercise, and what the stub must do under each.
pub fn checks() -> Vec<Check> {
    vec![
        Check {
            name: "two_tellers_withdraw",
            run: two_tellers_withdraw,
            stub: StubExpect::Fails {
                why: &[Why::LostUpdate],
                detail: None,
            },
        },
        Check {
            name: "two_tellers_deposit",
            run: two_tellers_deposit,
            stub: StubExpect::Fails {
                why: &[Why::LostUpdate],
                detail: None,
            },
        },
    ]
}

/// Two tellers, `teller-1` and `teller-2`, each run `teller` once on an account opened with
/// `opening`; `between()` is a yield point. Returns their results and the final balance.
fn two_tellers<R: Send + 'static>(
    run: &Run,
    opening: i64,
    teller: fn(&ex::Account, &dyn Fn()) -> R,
) -> (R, R, i64) {
    let account = Arc::new(ex::Account::new(opening));
    let tellers: Vec<_> = (1..=2)
        .map(|i| {
            let account = account.clone();
            run.spawn(&format!("teller-{i}"), move || {
                teller(&account, &yield_point)
            })
        })
        .collect();
    let mut results = tellers.into_iter().map(join);
    let (a, b) = (results.next(), results.next());
    let balance = *account.balance.acquire();
    match (a, b) {
        (Some(a), Some(b)) => (a, b, balance),
        _ => unreachable!("two tellers"),
    }
}

fn two_tellers_withdraw() -> Verdict {
    let expected = "two tellers each withdraw 80 from a balance of 100 at the same time: one is \
                    paid, the other refused, and the balance ends at 20, under every schedule \
                    (at most 2 preemptions)";
    explored(
        expected,
        || {
            testing::explore(course_config(Config::exhaustive(2)), |run| {
                let (a, b, balance) =
                    two_tellers(run, 100, |acc, between| ex::withdraw(acc, 80, between));
                let paid = [a, b].iter().filter(|&&ok| ok).count() as i64;
                if paid == 1 && balance == 20 {
                    return;
                }
                let happened = format!(
                    "{paid} withdrawal(s) of 80 went through ({} paid out of 100) and the \
                     balance says {balance}",
                    paid * 80
                );
                match (paid, balance) {
                    (2, 20) => broken(
                        Why::LostUpdate,
                        format!(
                            "{happened}: both tellers read 100 before either wrote; each \
                             decided on its own stale copy, and the second write overwrote the \
                             first (a lost update)"
                        ),
                    ),
                    (2, _) if balance < 0 => broken(
                        Why::Overdrawn,
                        format!(
                            "{happened}: both tellers saw 100 and said yes, then each took 80 \
                             from the balance as it was by then. The decision and the update \
                             must be one critical section"
                        ),
                    ),
                    _ => broken(Why::WrongAnswer, happened),
                }
            })
        },
        |_, f| f,
    )
}

fn two_tellers_deposit() -> Verdict {
    let expected = "two tellers each deposit 50 into a balance of 100 at the same time: the \
                    balance ends at 200, under every schedule (at most 2 preemptions)";
    explored(
        expected,
        || {
            testing::explore(course_config(Config::exhaustive(2)), |run| {
                let ((), (), balance) =
                    two_tellers(run, 100, |acc, between| ex::deposit(acc, 50, between));
                match balance {
                    200 => {}
                    150 => broken(
                        Why::LostUpdate,
                        "the balance ends at 150: one deposit of 50 vanished. Both tellers \
                         read 100 and both wrote 150: the second write overwrote the first (a \
                         lost update)",
                    ),
                    other => broken(
                        Why::WrongAnswer,
                        format!("the balance ends at {other}"),
                    ),
                }
            })
        },
        |_, f| f,
    )
}
