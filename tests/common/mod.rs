//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::sync::mpsc;
use std::time::Duration;

/// Runs `f` on its own thread and fails the test with a message if it has not finished
/// within `secs` seconds: a hang becomes a failure instead of a stuck test run. A panic in
/// `f` is re-raised with its message.
pub fn with_deadline<T: Send + 'static>(
    secs: u64,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::Builder::new()
        .name(format!("deadline:{what}"))
        .spawn(move || {
            let _ = tx.send(f());
        })
        .expect("spawn test thread");
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(value) => {
            let _ = handle.join();
            value
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Err(payload) => std::panic::resume_unwind(payload),
            Ok(()) => unreachable!("the thread sent nothing and did not panic"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("`{what}` did not finish within {secs} s: it hangs (threads left parked)")
        }
    }
}

/// The message of a caught panic (detector reports included).
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    synckit::detector::panic_message(payload)
}
