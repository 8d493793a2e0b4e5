//! Progress while a batch runs, on stderr: on a terminal a bar redrawn in place with the
//! count done and the current submission; otherwise a plain line per finished one (a log,
//! CI) — no progress-bar crate for one line of output.

use std::io::Write as _;
use std::sync::Mutex;

/// Progress on stderr: a bar redrawn in place on a terminal, a line per finished
/// submission otherwise.
pub struct Progress {
    tty: bool,
    state: Mutex<(String, usize, usize)>,
}

impl Progress {
    /// A progress display; `tty` redraws one line in place.
    pub fn new(tty: bool) -> Self {
        Progress {
            tty,
            state: Mutex::new((String::new(), 0, 0)),
        }
    }

    /// No progress at all (for tests and tools).
    pub fn silent() -> Self {
        Progress {
            tty: false,
            state: Mutex::new(("silent".into(), 0, usize::MAX)),
        }
    }

    fn silent_now(st: &(String, usize, usize)) -> bool {
        st.2 == usize::MAX
    }

    pub(crate) fn phase(&self, phase: &str, total: usize) {
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        if Self::silent_now(&st) {
            return;
        }
        *st = (phase.to_string(), 0, total);
        if !self.tty {
            eprintln!(
                "{phase} {total} submission{}",
                if total == 1 { "" } else { "s" }
            );
        }
    }

    pub(crate) fn started(&self, name: &str) {
        let Ok(st) = self.state.lock() else { return };
        if self.tty && !Self::silent_now(&st) {
            self.draw(&st, name);
        }
    }

    pub(crate) fn finished(&self, name: &str, line: Option<String>) {
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        if Self::silent_now(&st) {
            return;
        }
        st.1 += 1;
        if self.tty {
            self.draw(&st, name);
        } else if let Some(line) = line {
            eprintln!("  [{}/{}] {line}", st.1, st.2);
        }
    }

    fn draw(&self, st: &(String, usize, usize), name: &str) {
        const WIDTH: usize = 24;
        let filled = (st.1 * WIDTH).checked_div(st.2).unwrap_or(0);
        eprint!(
            "\r\x1b[2K{:<9} [{}{}] {}/{}  {name}",
            st.0,
            "█".repeat(filled),
            "░".repeat(WIDTH - filled),
            st.1,
            st.2
        );
        let _ = std::io::stderr().flush();
    }

    pub(crate) fn clear(&self) {
        if let Ok(st) = self.state.lock()
            && self.tty
            && !Self::silent_now(&st)
        {
            eprint!("\r\x1b[2K");
            let _ = std::io::stderr().flush();
        }
    }
}
