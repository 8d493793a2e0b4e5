// Checks of exercise 8 (lock-order inversion). Included by tests/exercises.rs once per module
// under test, which it names `ex`.

use std::sync::Arc;

use synckit::detector::ReportKind;
use synckit::thread::spawn_named;

use crate::support::*;

/// The checks of this exercise, and what the stub must do under each.
pub fn checks() -> Vec<Check> {
    vec![
        Check {
            name: "opposite_transfers_one_after_the_other",
            run: opposite_transfers_one_after_the_other,
            stub: StubExpect::Fails {
                why: &[Why::Report(ReportKind::LockOrderInversion)],
                detail: Some(|f| {
                    let report = f.report.as_ref().ok_or("there is no report")?;
                    let mut locks = report.resources();
                    locks.sort();
                    if locks != ["account-1", "account-2"] {
                        return Err(format!(
                            "the inversion is between {locks:?}, not account-1 and account-2"
                        ));
                    }
                    report_in_exercise_file(f, 8)
                }),
            },
        },
        Check {
            name: "accounts_in_one_lock_class",
            run: accounts_in_one_lock_class,
            stub: StubExpect::Fails {
                why: &[Why::Report(ReportKind::LockOrderInversion)],
                detail: Some(|f| report_in_exercise_file(f, 8)),
            },
        },
        Check {
            name: "busy_bank",
            run: busy_bank,
            stub: StubExpect::Fails {
                why: &[
                    Why::Report(ReportKind::LockOrderInversion),
                    Why::Report(ReportKind::Deadlock),
                ],
                detail: None,
            },
        },
    ]
}

fn opposite_transfers_one_after_the_other() -> Verdict {
    let expected = "transfer 30 from account-1 to account-2, then 10 back, on one thread: balances 80 and \
                    120, and no lock taken in two orders";
    let balances = run(expected, || {
        let alice = ex::Account::new(1, 100);
        let bob = ex::Account::new(2, 100);
        ex::transfer(&alice, &bob, 30);
        ex::transfer(&bob, &alice, 10);
        let a = *alice.balance.acquire();
        let b = *bob.balance.acquire();
        (a, b)
    })?;
    if balances == (80, 120) {
        Ok(())
    } else {
        Err(Failure::new(
            Why::WrongAnswer,
            expected,
            format!("the balances are {balances:?}"),
        ))
    }
}

fn accounts_in_one_lock_class() -> Verdict {
    let expected = "transfers 1→2, 2→3, 3→1 between accounts of the lock class `ex8-account`: balances \
                    stay 100 each (every account gives and gets 10), and the class is nested in a declared order";
    let balances = run(expected, || {
        let accounts: Vec<_> = (1..=3).map(|id| ex::Account::in_class(id, 100)).collect();
        ex::transfer(&accounts[0], &accounts[1], 10);
        ex::transfer(&accounts[1], &accounts[2], 10);
        ex::transfer(&accounts[2], &accounts[0], 10);
        accounts
            .iter()
            .map(|a| *a.balance.acquire())
            .collect::<Vec<_>>()
    })?;
    if balances == [100, 100, 100] {
        Ok(())
    } else {
        Err(Failure::new(
            Why::WrongAnswer,
            expected,
            format!("the balances are {balances:?}"),
        ))
    }
}

fn busy_bank() -> Verdict {
    let expected = "four clerks make 200 transfers each between four accounts, in both directions: no \
                    deadlock, no inversion, and the bank still holds 400 in total";
    let balances = run(expected, || {
        let accounts: Arc<Vec<_>> = Arc::new((1..=4).map(|id| ex::Account::new(id, 100)).collect());
        let clerks: Vec<_> = (0..4u64)
            .map(|clerk| {
                let accounts = accounts.clone();
                spawn_named(&format!("clerk-{clerk}"), move || {
                    // A fixed pseudo-random walk per clerk: the same transfers on every run.
                    let mut x = clerk * 7919 + 17;
                    for _ in 0..200 {
                        x = x
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        let from = (x >> 33) as usize % 4;
                        let to = (from + 1 + (x >> 45) as usize % 3) % 4;
                        ex::transfer(&accounts[from], &accounts[to], 1);
                    }
                })
            })
            .collect();
        clerks.into_iter().for_each(join);
        accounts
            .iter()
            .map(|a| *a.balance.acquire())
            .collect::<Vec<_>>()
    })?;
    let total: i64 = balances.iter().sum();
    if total == 400 {
        Ok(())
    } else {
        Err(Failure::new(
            Why::WrongAnswer,
            expected,
            format!("the balances are {balances:?}: {total} in total"),
        ))
    }
}
