// Checks of exercise 2 (race condition). Included by tests/exercises.rs once per module under
// test, which it names `ex`.

use std::sync::Arc;

use synckit::Event;
use synckit::thread::spawn_named;

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

/// Runs two tellers against one account so that, if the code leaves a gap between its check
/// and its act, both check before either acts, on every run:
/// - teller-1 starts alone. At its `between()` it announces itself and, unless the balance
///   Lock is held (only teller-1 can hold it then: teller-2 has not started), waits until
///   teller-2 has passed its own `between()` (or finished);
/// - teller-2 starts only once teller-1 is at its gap (or done).
///
/// With the Lock held across the gap, teller-1 does not wait, and teller-2 queues at the Lock.
/// Returns each teller's result and the final balance.
fn two_tellers<R: Send + 'static>(
    opening: i64,
    teller: fn(&ex::Account, &dyn Fn()) -> R,
) -> impl FnOnce() -> (R, R, i64) + Send + 'static {
    move || {
        let account = Arc::new(ex::Account::new(opening));
        let first_at_gap = Arc::new(Event::new().named("course:teller-1-at-gap"));
        let second_looked = Arc::new(Event::new().named("course:teller-2-looked"));

        let one = {
            let (account, first_at_gap, second_looked) =
                (account.clone(), first_at_gap.clone(), second_looked.clone());
            spawn_named("teller-1", move || {
                let _announce = SetOnDrop(first_at_gap.clone());
                teller(&account, &|| {
                    first_at_gap.set();
                    if !account.balance.locked() {
                        second_looked.wait();
                    }
                })
            })
        };
        first_at_gap.wait();
        let two = {
            let (account, second_looked) = (account.clone(), second_looked.clone());
            spawn_named("teller-2", move || {
                let _announce = SetOnDrop(second_looked.clone());
                teller(&account, &|| second_looked.set())
            })
        };
        let r1 = join(one);
        let r2 = join(two);
        let balance = *account.balance.acquire();
        (r1, r2, balance)
    }
}

/// Sets the event when dropped: a teller that returns (or panics) without reaching its gap
/// must not leave the other one waiting.
struct SetOnDrop(Arc<Event>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.set();
    }
}

fn two_tellers_withdraw() -> Verdict {
    let expected = "two tellers each withdraw 80 from a balance of 100 at the same time: one is paid, \
                    the other refused, and the balance ends at 20";
    let (a, b, balance) = run(
        expected,
        two_tellers(100, |acc, between| ex::withdraw(acc, 80, between)),
    )?;
    let paid = [a, b].iter().filter(|&&ok| ok).count() as i64;
    if paid == 1 && balance == 20 {
        return Ok(());
    }
    let happened = format!(
        "{} withdrawal(s) of 80 went through ({} paid out of 100) and the balance says {balance}",
        paid,
        paid * 80
    );
    if paid == 2 && balance == 20 {
        Err(Failure::new(Why::LostUpdate, expected, happened).note(
            "both tellers read 100 before either wrote: each decided on its own stale copy, and \
             the second write overwrote the first (a lost update)",
        ))
    } else {
        Err(Failure::new(Why::WrongAnswer, expected, happened))
    }
}

fn two_tellers_deposit() -> Verdict {
    let expected = "two tellers each deposit 50 into a balance of 100 at the same time: the balance ends at 200";
    let ((), (), balance) = run(
        expected,
        two_tellers(100, |acc, between| ex::deposit(acc, 50, between)),
    )?;
    match balance {
        200 => Ok(()),
        150 => Err(Failure::new(
            Why::LostUpdate,
            expected,
            "the balance ends at 150: one deposit of 50 vanished",
        )
        .note("both tellers read 100, both wrote 150: the second write overwrote the first (a lost update)")),
        other => Err(Failure::new(Why::WrongAnswer, expected, format!("the balance ends at {other}"))),
    }
}
