// Checks of exercise 3 (re-entrancy). Included by tests/exercises.rs once per module under
// test, which it names `ex`.

use std::sync::Arc;

use synckit::detector::ReportKind;
use synckit::thread::spawn_named;

use crate::support::*;

/// The checks of this exercise, and what the stub must do under each.
pub fn checks() -> Vec<Check> {
    vec![
        Check {
            name: "deposit_then_audit",
            run: deposit_then_audit,
            stub: StubExpect::Fails {
                why: &[Why::Report(ReportKind::ReentrantAcquire)],
                detail: Some(|f| report_in_exercise_file(f, 3)),
            },
        },
        Check {
            name: "audit_on_its_own",
            run: audit_on_its_own,
            stub: StubExpect::Passes,
        },
        Check {
            name: "deposits_from_four_threads",
            run: deposits_from_four_threads,
            stub: StubExpect::Fails {
                why: &[Why::Report(ReportKind::ReentrantAcquire)],
                detail: Some(|f| report_in_exercise_file(f, 3)),
            },
        },
    ]
}

fn deposit_then_audit() -> Verdict {
    let expected = "deposit(50) into an account opened with 100 adds 50 and audits the books, on one \
                    thread, without hanging: the balance is then 150";
    let balance = run(expected, || {
        let account = ex::Account::new(100);
        account.deposit(50);
        account.balance()
    })?;
    if balance == 150 {
        Ok(())
    } else {
        Err(Failure::new(
            Why::WrongAnswer,
            expected,
            format!("the balance is {balance}"),
        ))
    }
}

fn audit_on_its_own() -> Verdict {
    let expected = "audit() on a fresh account takes the lock by itself and says the books add up";
    let ok = run(expected, || ex::Account::new(100).audit())?;
    if ok {
        Ok(())
    } else {
        Err(Failure::new(
            Why::WrongAnswer,
            expected,
            "audit() returned false",
        ))
    }
}

fn deposits_from_four_threads() -> Verdict {
    let expected = "four threads each deposit 1, 25 times, into an account opened with 0: the balance \
                    ends at 100 and every audit adds up";
    let balance = run(expected, || {
        let account = Arc::new(ex::Account::new(0));
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let account = account.clone();
                spawn_named(&format!("depositor-{i}"), move || {
                    for _ in 0..25 {
                        account.deposit(1);
                    }
                })
            })
            .collect();
        for h in handles {
            join(h);
        }
        let ok = account.audit();
        (account.balance(), ok)
    })?;
    match balance {
        (100, true) => Ok(()),
        (b, ok) => Err(Failure::new(
            Why::WrongAnswer,
            expected,
            format!("the balance ends at {b}, and the final audit says {ok}"),
        )),
    }
}
