// Checks of exercise 3 (re-entrancy). Included by tests/exercises.rs once per module under
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
            name: "two_depositors_get_their_own_receipts",
            run: two_depositors_get_their_own_receipts,
            stub: StubExpect::Fails {
                why: &[Why::Report(ReportKind::ReentrantAcquire)],
                detail: Some(|f| report_in_exercise_file(f, 3)),
            },
        },
    ]
}

fn deposit_then_audit() -> Verdict {
    let expected = "deposit(50) into an account opened with 100 adds 50 and audits the books, on \
                    one thread, without hanging: the receipt and the balance are then 150";
    let (receipt, balance) = run(expected, || {
        let account = ex::Account::new(100);
        let receipt = account.deposit(50);
        (receipt, account.balance())
    })?;
    if (receipt, balance) == (150, 150) {
        Ok(())
    } else {
        Err(Failure::new(
            Why::WrongAnswer,
            expected,
            format!("the receipt says {receipt} and the balance is {balance}"),
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

fn two_depositors_get_their_own_receipts() -> Verdict {
    let expected = "two threads deposit 1 and 10 into an account opened with 100, under every \
                    schedule with at most 2 preemptions: each receipt is the balance its own \
                    deposit left (101 then 111, or 110 then 111), and the books add up";
    explored(
        expected,
        || {
            testing::explore(course_config(Config::exhaustive(2)), |run| {
                let account = Arc::new(ex::Account::new(100));
                let depositors: Vec<_> = [1, 10]
                    .into_iter()
                    .map(|amount| {
                        let account = account.clone();
                        run.spawn(&format!("depositor-{amount}"), move || {
                            account.deposit(amount)
                        })
                    })
                    .collect();
                let receipts: Vec<i64> = depositors.into_iter().map(join).collect();
                let (small, big) = (receipts[0], receipts[1]);
                let fine = matches!((small, big), (101, 111) | (111, 110));
                if !fine && small == big {
                    broken(
                        Why::StaleRead,
                        format!(
                            "both receipts say {small}: one depositor let go of the lock before \
                             its audit and receipt, the other deposited in between, and the first \
                             one's receipt shows the other's money too"
                        ),
                    );
                }
                if !fine {
                    broken(
                        Why::WrongAnswer,
                        format!("the receipts for 1 and 10 say {small} and {big}"),
                    );
                }
                if !account.audit() || account.balance() != 111 {
                    broken(
                        Why::WrongAnswer,
                        format!(
                            "the balance ends at {}, and the final audit says {}",
                            account.balance(),
                            account.audit()
                        ),
                    );
                }
            })
        },
        |_, f| f,
    )
}
