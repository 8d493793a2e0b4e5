//! Prints a lock-order inversion's cycle as Graphviz DOT (`Report::to_dot`).
//!
//! ```sh
//! cargo run --example lock_order_dot | dot -Tsvg > docs/inversion.svg
//! ```

use synckit::Lock;

fn main() {
    let ledger = Lock::new(()).named("ledger");
    let audit_log = Lock::new(()).named("audit_log");
    {
        let _l = ledger.acquire();
        let _a = audit_log.acquire();
    }
    let _a = audit_log.acquire();
    let report = ledger
        .acquire_checked()
        .expect_err("audit_log then ledger inverts ledger then audit_log")
        .into_report();
    print!("{}", report.to_dot());
}
