//! A simulated Global Interpreter Lock: see, and measure, why CPU-bound Python threads do not
//! run in parallel while I/O-bound ones do.
//!
//! An [`Interpreter`] owns a GIL that is an ordinary, instrumented synckit
//! [`Lock`](crate::Lock) named `GIL`: it shows in the detector's reports (who holds it, who
//! waits for it, at which line of *your* code), in closed worlds' dumps and in the lock-order
//! graph. Threads run "Python" through a [`Py`] handle:
//!
//! - [`Py::compute`] does real CPU work while holding the GIL. Like CPython's eval loop it
//!   checks a *drop request* between units of work and yields the GIL when one is set.
//! - [`Py::io`] and [`Py::blocking`] release the GIL around a blocking call and take it back
//!   after (what CPython does around `time.sleep`, `socket.recv`, `lock.acquire`, ...).
//!
//! **The switch interval** (CPython ≥ 3.2, `sys.getswitchinterval()`, 5 ms by default): a
//! thread that wants the GIL waits for it at most one interval; if no thread took the GIL
//! during that interval it sets the drop request, and the holder drops the GIL at its next
//! check (a *forced switch*) and then waits until another thread has taken it before asking
//! for it again (CPython's `FORCE_SWITCHING`), so the requester really gets its turn.
//!
//! Two idealisations, both so that the trace shows the protocol rather than the OS scheduler:
//!
//! - A waiter makes one timed wait of an interval (and sets the request if no switch
//!   happened), then waits in the lock's queue, untimed. CPython's waiter instead re-waits
//!   every interval, which on a busy machine wakes it late (a woken thread may wait several
//!   milliseconds for a CPU, stretching the interval) and sends it to the back of the queue
//!   each time (with three or more threads, one can starve). Here the holder's check keeps
//!   each waiter's intervals itself and sets the request the moment one has passed with no
//!   switch, exactly when the waiter's own timed wait would have.
//! - Because the waits are untimed, the detector sees them: a thread that holds the GIL and
//!   blocks on a lock held by a thread waiting for the GIL (C code that forgot
//!   `Py_BEGIN_ALLOW_THREADS`) is reported as a deadlock cycle through `GIL`.
//!
//! [`Interpreter::run_threads`] runs `n` threads and returns a [`GilTrace`]: every span of
//! every thread (holding, waiting for the GIL, outside it), the forced and voluntary releases,
//! the drop requests and the wait times. It renders as lanes:
//!
//! ```text
//!          0 ms                                                           80.4 ms
//!   py-0  │███·····███·····███·····█████······███······█████···│
//!   py-1  │···███·····███······█████·····████·····██████···████│
//! ```
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use synckit::gil::{Interpreter, units_for};
//!
//! let py = Interpreter::new().with_switch_interval(Duration::from_millis(1));
//! let work = units_for(Duration::from_millis(10));
//! let trace = py.run_threads(2, |py| {
//!     py.compute(work);
//! });
//! assert!(trace.max_concurrent_holders() <= 1); // the GIL: one thread at a time
//! println!("{trace}");
//! ```

mod demo;
mod interpreter;
mod trace;
mod work;

pub use demo::{Demonstration, demonstrate};
pub use interpreter::{DEFAULT_SWITCH_INTERVAL, Interpreter, Py};
pub use trace::{GilTrace, Release, Span, State};
pub use work::{spin, units_for};
