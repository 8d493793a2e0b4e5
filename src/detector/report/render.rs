//! A report as text (plain or coloured), as Graphviz DOT, and the small helpers that make
//! its lines readable: call sites with clean paths, and backtraces cut to the user's frames.

use std::fmt::{self, Write as _};
use std::io::IsTerminal;
use std::path::{Component, Path, PathBuf};

use colored::Colorize;

use super::super::resource::Site;
use super::Report;
use super::lanes::{pad, width};

impl Report {
    /// The report as text; with `color`, highlighted for a terminal.
    pub fn render(&self, color: bool) -> String {
        let paint = |s: &str, style: fn(&str) -> colored::ColoredString| -> String {
            if color {
                style(s).to_string()
            } else {
                s.to_string()
            }
        };
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}: {}",
            paint("error", |s| s.red().bold()),
            paint(&self.headline, |s| s.bold())
        );
        if let Some(at) = self.at {
            let _ = writeln!(
                out,
                "  {} {}",
                paint("-->", |s| s.blue().bold()),
                fmt_site(at)
            );
        }
        for line in &self.body {
            let _ = writeln!(out, "  {line}");
        }
        for t in &self.threads {
            let alive = if t.alive { "" } else { " (exited)" };
            let _ = writeln!(
                out,
                "\n  thread {}{alive}",
                paint(&format!("`{}`", t.name), |s| s.cyan().bold())
            );
            for h in &t.holds {
                let times = if h.count > 1 {
                    format!(" x{}", h.count)
                } else {
                    String::new()
                };
                let what = format!("`{}` ({}){times}", h.resource, h.kind);
                let _ = writeln!(
                    out,
                    "      holds  {} taken at {}",
                    pad(&what, 28),
                    fmt_site(h.site)
                );
            }
            if t.holds.is_empty() {
                let _ = writeln!(out, "      holds  nothing");
            }
            if let Some(w) = &t.waiting {
                let timed = if w.timed { " (timed)" } else { "" };
                let what = format!("`{}` ({})", w.resource, w.kind);
                let _ = writeln!(
                    out,
                    "      {}  {} at {}{timed}",
                    paint("waits", |s| s.yellow().bold()),
                    pad(&what, 28),
                    fmt_site(w.site)
                );
                if let Some(e) = &w.evidence {
                    let _ = writeln!(out, "             {e}");
                }
            }
            if let Some(bt) = &t.backtrace {
                for line in bt.lines() {
                    let _ = writeln!(out, "        {line}");
                }
            }
        }
        if !self.cycle.is_empty() && self.order.is_empty() {
            let _ = writeln!(out, "\n  {}", paint("cycle:", |s| s.bold()));
            for (thread, resource, holder) in &self.cycle {
                let _ = writeln!(
                    out,
                    "      {thread} ──waits for──▶ `{resource}` ──held by──▶ {holder}"
                );
            }
        }
        if !self.order.is_empty() {
            let _ = writeln!(out, "\n  {}", paint("lock order seen:", |s| s.bold()));
            for e in &self.order {
                let timed = if e.timed { " (timed acquire)" } else { "" };
                let _ = writeln!(
                    out,
                    "      `{}` ──then──▶ `{}`   by {}: {} then {}{timed}",
                    e.from,
                    e.to,
                    e.thread,
                    fmt_site(e.from_site),
                    fmt_site(e.to_site)
                );
            }
            let _ = writeln!(
                out,
                "\n  {}",
                paint("possible deadlock scenario:", |s| s.bold())
            );
            out.push_str(&self.scenario());
        }
        if let Some(lanes) = &self.timeline {
            let _ = writeln!(out, "\n  {}", paint("last events:", |s| s.bold()));
            out.push_str(lanes);
        }
        let _ = writeln!(
            out,
            "\n  {}: {}",
            paint("hint", |s| s.green().bold()),
            self.hint
        );
        out
    }

    /// The lockdep-style scenario table: one column per edge's thread, rows in time order.
    fn scenario(&self) -> String {
        // One column per edge: (the lock it holds, the lock it then blocks on).
        let mut columns: Vec<(String, String)> = self
            .order
            .iter()
            .map(|e| (e.from.clone(), e.to.clone()))
            .collect();
        if let [e] = self.order.as_slice() {
            // A cycle of one (two members of one lock class): two threads, one member each.
            columns = vec![
                (format!("{} #1", e.from), format!("{} #2", e.to)),
                (format!("{} #2", e.from), format!("{} #1", e.to)),
            ];
        }
        let n = columns.len();
        let cell = columns
            .iter()
            .map(|(from, to)| width(from).max(width(to)) + 24)
            .max()
            .unwrap_or(20);
        let row = |cells: Vec<String>| -> String {
            let line: String = cells.iter().map(|c| pad(c, cell)).collect();
            format!("      {}\n", line.trim_end())
        };
        let mut out = String::new();
        out.push_str(&row((0..n).map(|i| format!("thread {}", i + 1)).collect()));
        out.push_str(&row((0..n).map(|_| "--------".to_string()).collect()));
        for (i, (from, _)) in columns.iter().enumerate() {
            let mut cells = vec![String::new(); n];
            cells[i] = format!("lock({from})");
            out.push_str(&row(cells));
        }
        for (i, (_, to)) in columns.iter().enumerate() {
            let mut cells = vec![String::new(); n];
            cells[i] = format!("lock({to})  <- blocks");
            out.push_str(&row(cells));
        }
        out.push_str("      *** DEADLOCK ***\n");
        out
    }

    /// The cycle as a Graphviz DOT graph: threads as boxes, resources as ellipses
    /// (wait-for), or locks with `then` edges (lock order).
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph synckit {\n  rankdir=LR;\n");
        if self.order.is_empty() {
            for (thread, resource, holder) in &self.cycle {
                let _ = writeln!(out, "  \"{}\" [shape=box];", esc(thread));
                let _ = writeln!(out, "  \"{}\" [shape=ellipse];", esc(resource));
                let _ = writeln!(
                    out,
                    "  \"{}\" -> \"{}\" [label=\"waits for\"];",
                    esc(thread),
                    esc(resource)
                );
                let _ = writeln!(
                    out,
                    "  \"{}\" -> \"{}\" [label=\"held by\"];",
                    esc(resource),
                    esc(holder)
                );
            }
        } else {
            for e in &self.order {
                let _ = writeln!(
                    out,
                    "  \"{}\" -> \"{}\" [label=\"{} then {}\\n({})\", color=red];",
                    esc(&e.from),
                    esc(&e.to),
                    esc(&fmt_site(e.from_site)),
                    esc(&fmt_site(e.to_site)),
                    esc(&e.thread)
                );
            }
        }
        out.push_str("}\n");
        out
    }

    /// Prints the report to stderr, coloured when stderr is a terminal and `NO_COLOR` is unset.
    pub fn eprint(&self) {
        eprintln!("{}", self.render(color_enabled()));
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

/// Whether output to stderr should be coloured: a terminal, and `NO_COLOR` unset.
pub fn color_enabled() -> bool {
    no_color_unset() && std::io::stderr().is_terminal()
}

/// Whether output to stdout should be coloured: a terminal, and `NO_COLOR` unset.
pub fn color_enabled_stdout() -> bool {
    no_color_unset() && std::io::stdout().is_terminal()
}

fn no_color_unset() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// A call site as `file:line:column`, with a clean path.
pub(crate) fn fmt_site(site: Site) -> String {
    format!(
        "{}:{}:{}",
        clean_path(site.file()),
        site.line(),
        site.column()
    )
}

/// A source path as the learner knows it: `tests/../exercises/exercise_3.rs` (how rustc
/// names a file a `#[path]` attribute reached) is `exercises/exercise_3.rs`. Lexical only.
pub(crate) fn clean_path(file: &str) -> String {
    if !file.contains("..") && !file.starts_with("./") {
        return file.to_string();
    }
    let mut parts: Vec<Component<'_>> = Vec::new();
    for c in Path::new(file).components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match parts.last() {
                Some(Component::Normal(_)) => {
                    parts.pop();
                }
                _ => parts.push(c),
            },
            other => parts.push(other),
        }
    }
    parts
        .iter()
        .collect::<PathBuf>()
        .to_string_lossy()
        .into_owned()
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Runs `f`, and marks the frame: backtraces in reports stop here, so what called `f` (a
/// test harness, a grader, synckit's own thread start-up) stays out of them. Wrap the call
/// into the code a report should be about.
///
/// # Examples
///
/// ```
/// let answer = synckit::detector::short_backtrace(|| 6 * 7);
/// assert_eq!(answer, 42);
/// ```
#[inline(never)]
pub fn short_backtrace<T>(f: impl FnOnce() -> T) -> T {
    let result = f();
    // Keep this frame on the stack (no tail call), so the trimmer can find it.
    std::hint::black_box(());
    result
}

/// Function paths registered with [`hide_frames`].
static HIDDEN: std::sync::RwLock<Vec<String>> = std::sync::RwLock::new(Vec::new());

/// Leaves out of reports' backtraces every frame of a function whose path starts with
/// `prefix` (as synckit's own frames are): for a harness, a grader or a test helper that
/// calls the code a report is about, and that this code calls back. (A frame *below* the
/// code under test can also be cut with [`short_backtrace`].)
///
/// # Examples
///
/// ```
/// // A course harness whose helpers live in `exercises::table`, called by the learner's code.
/// synckit::detector::hide_frames("exercises::table");
/// ```
pub fn hide_frames(prefix: &str) {
    let mut hidden = HIDDEN.write().unwrap_or_else(|e| e.into_inner());
    if !hidden.iter().any(|p| p == prefix) {
        hidden.push(prefix.to_string());
    }
}

/// Whether a frame's function belongs to the machinery around the user's code: the runtime,
/// the unwinder, the detector and the primitives themselves, test runners, and what
/// [`hide_frames`] names.
fn machinery(symbol: &str) -> bool {
    let symbol = symbol.trim_start_matches('<');
    if HIDDEN
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .any(|p| symbol.starts_with(p.as_str()))
    {
        return true;
    }
    const PREFIXES: &[&str] = &[
        "std::",
        "core::",
        "alloc::",
        "backtrace::",
        "parking_lot",
        "lock_api::",
        "test::",
        "libtest_mimic::",
        "__rust",
        "rust_begin_unwind",
        "synckit::detector::",
        "synckit::primitives::",
        "synckit::sched::",
        "synckit::world::",
        "synckit::thread::",
        "synckit::testing::",
        "synckit::grade::",
    ];
    PREFIXES.iter().any(|p| symbol.starts_with(p))
}

/// Keeps the user's frames: drops the detector's, the primitives' and the runtime's frames,
/// and stops at [`short_backtrace`] (std's thread start-up has its own such marker), so the
/// first line is the learner's code and no harness or test-runner frame follows. At most 6.
pub(crate) fn trim_backtrace(bt: &backtrace::Backtrace) -> String {
    let here = std::env::current_dir().ok();
    let mut out = String::new();
    let mut kept = 0;
    for frame in bt.frames() {
        for sym in frame.symbols() {
            let name = sym
                .name()
                .map(|n| format!("{n:#}"))
                .unwrap_or_else(|| "?".into());
            if name.contains("short_backtrace") {
                return out;
            }
            let (Some(file), Some(line)) = (sym.filename(), sym.lineno()) else {
                continue;
            };
            if machinery(&name) {
                continue;
            }
            let file = match &here {
                Some(dir) => file.strip_prefix(dir).unwrap_or(file),
                None => file,
            };
            let file = clean_path(&file.to_string_lossy());
            let _ = writeln!(out, "at {name} ({file}:{line})");
            kept += 1;
            if kept == 6 {
                return out;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::ReportKind;
    use super::*;

    fn sample() -> Report {
        let mut r = Report::new(
            ReportKind::Deadlock,
            "deadlock: 2 threads wait for each other",
            "take them in order",
        );
        r.cycle
            .push(("t1".into(), "a \"quoted\" lock".into(), "t2".into()));
        r.cycle.push(("t2".into(), "b".into(), "t1".into()));
        r
    }

    #[test]
    fn plain_rendering_has_no_escape_codes_and_names_everything() {
        let text = sample().to_string();
        assert!(!text.contains('\u{1b}'), "{text:?}");
        assert!(text.starts_with("error: deadlock: 2 threads"));
        assert!(text.contains("t1 ──waits for──▶ `a \"quoted\" lock` ──held by──▶ t2"));
        assert!(text.contains("hint: take them in order"));
        assert_eq!(
            sample().resources(),
            vec!["a \"quoted\" lock".to_string(), "b".to_string()]
        );
    }

    #[test]
    fn dot_output_escapes_quotes() {
        let dot = sample().to_dot();
        assert!(dot.starts_with("digraph synckit {"));
        assert!(
            dot.contains("\"a \\\"quoted\\\" lock\" -> \"t2\" [label=\"held by\"]"),
            "{dot}"
        );
    }

    #[test]
    fn paths_are_cleaned_lexically() {
        assert_eq!(
            clean_path("tests/../exercises/exercise_3.rs"),
            "exercises/exercise_3.rs"
        );
        assert_eq!(clean_path("./src/a.rs"), "src/a.rs");
        assert_eq!(clean_path("../up/a.rs"), "../up/a.rs", "nothing to cancel");
        assert_eq!(clean_path("src/lib.rs"), "src/lib.rs");
    }

    #[test]
    fn machinery_frames_are_recognised_by_their_function() {
        assert!(machinery("std::thread::Builder::spawn"));
        assert!(machinery(
            "<synckit::primitives::lock::LockGuard<T> as core::ops::drop::Drop>::drop"
        ));
        assert!(!machinery("exercises::learner_3::Bank::audit"));
        assert!(
            !machinery("synckit::tour::ab_ba"),
            "the binary's own code is user code"
        );
    }
}
