//! Which checks a command line selects.
//!
//! Cargo's test filter is a substring match, so `exercise_1` would also run `exercise_10`,
//! and `exercise_99` would run nothing and pass. Here a filter that starts with `exercise`
//! belongs to the course:
//! - `exercise_3` (or `exercise_03`) selects exactly the checks of exercise 3;
//! - `exercise_3::...` keeps libtest's substring meaning, within exercise 3;
//! - anything else (`exercise_99`, `exercise_1x`, `exercise_`, `exercises`) is a mistake,
//!   answered with one line saying which exercises exist and how to name one, and a
//!   non-zero exit: a filter that matches nothing must not look like a pass.
//!
//! Any other filter (`lock`, `harness::`) keeps libtest's meaning.

/// What a filter asks of the course.
#[derive(Debug, PartialEq, Eq)]
pub enum Selection {
    /// Not a course filter: libtest's substring match.
    Substring,
    /// Exactly the checks of one exercise: trials named `prefix` or `prefix::...`.
    Exercise { number: u32, prefix: String },
    /// The checks of one exercise whose names contain `filter` (the given one, with the
    /// exercise number written the canonical way).
    Within { number: u32, filter: String },
    /// A course filter that names no exercise: the line to print.
    Unknown(String),
}

/// Reads `filter` against the course's exercise `numbers`.
pub fn select(filter: &str, numbers: &[u32]) -> Selection {
    if !filter.starts_with("exercise") {
        return Selection::Substring;
    }
    let (head, rest) = match filter.split_once("::") {
        Some((head, rest)) => (head, Some(rest)),
        None => (filter, None),
    };
    let number = head
        .strip_prefix("exercise_")
        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|d| d.parse::<u32>().ok())
        .filter(|n| numbers.contains(n));
    match (number, rest) {
        (Some(number), None) => Selection::Exercise {
            number,
            prefix: format!("exercise_{number}"),
        },
        (Some(number), Some(rest)) => Selection::Within {
            number,
            filter: format!("exercise_{number}::{rest}"),
        },
        (None, _) => Selection::Unknown(unknown_line(filter, numbers)),
    }
}

/// The one line for a course filter that names no exercise.
pub fn unknown_line(filter: &str, numbers: &[u32]) -> String {
    let (first, last) = (
        numbers.first().copied().unwrap_or(1),
        numbers.last().copied().unwrap_or(1),
    );
    format!(
        "`{filter}` names no exercise: the exercises are exercise_{first} to exercise_{last}; \
         run one with `cargo test exercise_3` (`cargo run` lists them)"
    )
}

/// Whether the trial `name` belongs to the exercise whose prefix is `prefix`.
pub fn belongs(name: &str, prefix: &str) -> bool {
    name == prefix
        || name
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with("::"))
}
