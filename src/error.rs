//! Errors for misuse that Python raises for, and for broken barriers.

use std::fmt;

/// A primitive was used in a way Python's `threading` rejects. The primitive is left
/// unchanged and usable.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UsageError {
    /// A [`BoundedSemaphore`](crate::BoundedSemaphore) was released more times than acquired.
    OverRelease {
        /// The semaphore's name.
        name: String,
        /// Its initial (and maximum) value.
        max: usize,
        /// Permits held through guards, which come back by themselves when dropped.
        guarded: usize,
    },
    /// One [`Condition`](crate::Condition) was used with two different locks.
    ConditionLockMismatch {
        /// The condition's name.
        condition: String,
        /// The lock it was first used with.
        first: String,
        /// The other lock.
        second: String,
    },
    /// A [`Barrier`](crate::Barrier) was created for zero parties.
    ZeroParties,
    /// A thread tried to join itself.
    JoinSelf {
        /// The thread's name.
        thread: String,
    },
    /// A deadline of zero was given to [`check_with`](crate::check_with).
    ZeroDeadline,
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageError::OverRelease { name, max, guarded } => {
                write!(
                    f,
                    "BoundedSemaphore `{name}` released too many times: its value would exceed \
                     its initial value {max}"
                )?;
                if *guarded > 0 {
                    write!(
                        f,
                        " ({guarded} permit(s) are still held through guards and come back when \
                         they are dropped)"
                    )?;
                }
                write!(
                    f,
                    ". Release only what you acquired (drop the permit, or call release() once \
                     per forgotten permit)"
                )
            }
            UsageError::ConditionLockMismatch {
                condition,
                first,
                second,
            } => write!(
                f,
                "Condition `{condition}` was used with lock `{first}` and now with `{second}`. \
                 A condition belongs to one lock: create one Condition per lock"
            ),
            UsageError::ZeroParties => write!(
                f,
                "a Barrier needs at least 1 party (parties must be > 0): pass the number of \
                 threads that will call wait()"
            ),
            UsageError::JoinSelf { thread } => write!(
                f,
                "thread `{thread}` tried to join itself, which would wait forever (Python: \
                 cannot join current thread). Join it from another thread"
            ),
            UsageError::ZeroDeadline => write!(
                f,
                "a check deadline of zero would stop the world before it starts: give a \
                 positive duration (the default is 10 s)"
            ),
        }
    }
}

impl std::error::Error for UsageError {}

/// The barrier was broken (aborted, reset while threads waited, or a wait timed out), like
/// Python's `threading.BrokenBarrierError`. Call [`Barrier::reset`](crate::Barrier::reset) to
/// use it again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BrokenBarrier;

impl fmt::Display for BrokenBarrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "the barrier is broken (aborted, reset while threads waited, or a wait timed out); \
             call reset() before using it again",
        )
    }
}

impl std::error::Error for BrokenBarrier {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_was_wrong_and_what_to_do() {
        let over = UsageError::OverRelease {
            name: "pool".into(),
            max: 3,
            guarded: 0,
        }
        .to_string();
        let guarded = UsageError::OverRelease {
            name: "pool".into(),
            max: 1,
            guarded: 1,
        }
        .to_string();
        assert!(
            guarded.contains("1 permit(s) are still held through guards"),
            "{guarded}"
        );
        assert!(
            over.contains("`pool` released too many times") && over.contains("initial value 3")
        );
        assert!(
            UsageError::ZeroParties
                .to_string()
                .contains("parties must be > 0")
        );
        assert!(BrokenBarrier.to_string().contains("call reset()"));
    }
}
