//! Bank assignment. Everything works, but the entry point is called `run`, not `program`:
//! the grader cannot find what to run.
//!
//! expected verdict: compile_error

use synckit::Lock;

pub fn run() {
    let account = Lock::new(100).named("account-0");
    *account.acquire() -= 10;
    assert_eq!(*account.acquire(), 90);
}
