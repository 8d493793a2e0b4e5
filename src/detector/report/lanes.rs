//! Timelines as lanes, one column per thread, and the words for what a thread did.
//!
//! One renderer for every timeline synckit draws: a closed world's last events (`check`),
//! a failing schedule (`explore`), and the row labels of the GIL trace. Widths are *display*
//! widths (a CJK character or an emoji takes two columns, a combining accent none), so names
//! in any script line up, and text is cut at a character boundary, never inside one.

use std::fmt::Write as _;

use unicode_width::UnicodeWidthChar;

use super::super::resource::ResourceInfo;

/// A synckit operation, as a timeline names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(feature = "testing"), allow(dead_code))] // some are controlled schedules' only
pub(crate) enum Op {
    Acquire,
    TryAcquire,
    Release,
    Wait,
    Notify,
    Set,
    Clear,
    Arrive,
    Reset,
    Abort,
    Spawn,
    Join,
    Yield,
}

impl Op {
    fn verb(self) -> &'static str {
        match self {
            Op::Acquire => "acquire",
            Op::TryAcquire => "try_acquire",
            Op::Release => "release",
            Op::Wait | Op::Arrive => "wait",
            Op::Notify => "notify",
            Op::Set => "set",
            Op::Clear => "clear",
            Op::Reset => "reset",
            Op::Abort => "abort",
            Op::Spawn => "spawn",
            Op::Join => "join",
            Op::Yield => "yield_point",
        }
    }
}

/// What an operation was done to.
#[derive(Clone, Debug)]
#[cfg_attr(not(feature = "testing"), allow(dead_code))]
pub(crate) enum Target {
    None,
    Resource(ResourceInfo),
    Thread(String),
}

impl Target {
    fn suffix(&self) -> String {
        match self {
            Target::None => String::new(),
            Target::Resource(info) => format!(" `{}`", info.display_name()),
            Target::Thread(name) => format!(" `{name}`"),
        }
    }
}

/// One thing a thread did.
#[derive(Clone, Debug)]
#[cfg_attr(not(feature = "testing"), allow(dead_code))]
pub(crate) enum Step {
    /// An operation. `timed`: a wait with a timeout; `woke`: how many a notify woke, when known.
    Op {
        op: Op,
        target: Target,
        timed: bool,
        woke: Option<usize>,
    },
    /// The thread blocked (under a controlled schedule): on a resource, or at a scope's end.
    Blocked(Target),
    /// A timed wait timed out.
    TimedOut,
    /// The baton went elsewhere although the thread could go on (`yielded`: at a yield point).
    Preempted { yielded: bool },
    /// The thread ended.
    Exit,
    /// The thread panicked.
    Panicked,
}

impl Step {
    /// An operation on a resource.
    pub fn on(op: Op, resource: ResourceInfo) -> Step {
        Step::Op {
            op,
            target: Target::Resource(resource),
            timed: false,
            woke: None,
        }
    }

    /// The step in words, as a lane shows it.
    pub fn describe(&self) -> String {
        match self {
            Step::Op {
                op,
                target,
                timed,
                woke,
            } => {
                let mut s = format!("{}{}", op.verb(), target.suffix());
                if let Some(n) = woke {
                    let _ = write!(s, " (woke {n})");
                }
                if *timed {
                    s.push_str(" (timed)");
                }
                s
            }
            Step::Blocked(Target::None) => "  .. blocked (scope end)".to_string(),
            Step::Blocked(target) => format!("  .. blocked on{}", target.suffix()),
            Step::TimedOut => "  .. timed out".to_string(),
            Step::Preempted { yielded: false } => "~~ preempted ~~".to_string(),
            Step::Preempted { yielded: true } => "~~ lets others run ~~".to_string(),
            Step::Exit => "exit".to_string(),
            Step::Panicked => "!! panicked".to_string(),
        }
    }
}

/// The display width of `s` in a terminal's columns.
pub(crate) fn width(s: &str) -> usize {
    s.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// `s` cut to at most `max` columns, ending in `…` when it was cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > max {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// `s` padded with spaces to `w` columns (unchanged when it is already as wide).
pub(crate) fn pad(s: &str, w: usize) -> String {
    let mut out = s.to_string();
    out.extend(std::iter::repeat_n(' ', w.saturating_sub(width(s))));
    out
}

/// One row of a lanes view: a label in the left margin (a time, a step number), the column
/// (thread) it belongs to, and what happened.
pub(crate) struct Row {
    pub label: String,
    pub column: usize,
    pub text: String,
}

/// Draws `rows` as lanes: a header with the column names, then one row per event with its
/// text in its thread's column. `margin` names the left column ("time", "step"); `skipped`
/// older rows are announced on a line of their own.
pub(crate) fn render(margin: &str, columns: &[String], rows: &[Row], skipped: usize) -> String {
    let cell = rows
        .iter()
        .map(|r| width(&r.text))
        .chain(columns.iter().map(|c| width(c).min(20)))
        .max()
        .unwrap_or(8)
        .clamp(10, 32)
        + 2;
    let label_width = rows
        .iter()
        .map(|r| width(&r.label))
        .chain([width(margin)])
        .max()
        .unwrap_or(4);
    let mut out = String::new();
    let mut header = format!("  {}  ", pad_left(margin, label_width));
    for name in columns {
        header.push_str(&pad(&truncate(name, cell - 2), cell));
    }
    out.push_str(header.trim_end());
    out.push('\n');
    if skipped > 0 {
        let _ = writeln!(
            out,
            "  {}  ... {skipped} earlier events",
            pad_left("", label_width)
        );
    }
    for row in rows {
        let line = format!(
            "  {}  {}{}",
            pad_left(&row.label, label_width),
            " ".repeat(row.column * cell),
            truncate(&row.text, cell - 1)
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Draws lanes with time running left to right: one row per thread, `label` in the margin,
/// then its `cells` (one glyph per time slice) between bars; above them an axis from `from`
/// to `to`, the width of the cells. (The GIL trace's view: who held the lock when.)
pub(crate) fn render_timed(from: &str, to: &str, rows: &[(String, String)]) -> String {
    let label_width = rows.iter().map(|(l, _)| width(l)).max().unwrap_or(0).max(4);
    let cells = rows.iter().map(|(_, c)| width(c)).max().unwrap_or(1);
    let gap = (cells + 2).saturating_sub(width(from) + width(to));
    let mut out = format!(
        "  {}{from}{}{to}\n",
        " ".repeat(label_width + 1),
        " ".repeat(gap)
    );
    for (label, row) in rows {
        let _ = writeln!(out, "  {} │{row}│", pad(label, label_width));
    }
    out
}

/// `s` right-aligned in `w` columns.
fn pad_left(s: &str, w: usize) -> String {
    let mut out: String = std::iter::repeat_n(' ', w.saturating_sub(width(s))).collect();
    out.push_str(s);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_count_columns_not_bytes_or_chars() {
        assert_eq!(width("abc"), 3);
        assert_eq!(width("日本語"), 6, "CJK characters are two columns wide");
        assert_eq!(width("🔒"), 2, "so is an emoji");
        assert_eq!(width("e\u{301}"), 1, "a combining accent takes no column");
    }

    #[test]
    fn truncation_cuts_between_characters_and_says_so() {
        assert_eq!(truncate("short", 10), "short");
        let cut = truncate("日本語日本語", 7);
        assert_eq!(cut, "日本語…");
        assert!(width(&cut) <= 7);
        assert_eq!(truncate("🔒🔒🔒", 4), "🔒…");
    }

    #[test]
    fn lanes_put_each_row_in_its_column_aligned_by_display_width() {
        let columns = vec!["日本語".to_string(), "b".to_string()];
        let rows = vec![
            Row {
                label: "1".into(),
                column: 0,
                text: "acquire `日本`".into(),
            },
            Row {
                label: "2".into(),
                column: 1,
                text: "wait `🔒`".into(),
            },
        ];
        let text = render("step", &columns, &rows, 0);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        // The second column starts at the same display column in the header and in row 2.
        let header_b = width(&lines[0][..lines[0].find(" b").unwrap() + 1]);
        let row_wait = width(&lines[2][..lines[2].find("wait").unwrap()]);
        assert_eq!(header_b, row_wait, "{text}");
    }

    #[test]
    fn timed_lanes_put_the_bars_in_one_column_whatever_the_labels() {
        let rows = vec![
            ("py-0".to_string(), "██··".to_string()),
            ("日本".to_string(), "··██".to_string()),
        ];
        let text = render_timed("0 ms", "4 ms", &rows);
        let bars: Vec<usize> = text
            .lines()
            .skip(1)
            .map(|l| width(&l[..l.find('│').unwrap()]))
            .collect();
        assert_eq!(bars, vec![bars[0]; 2], "{text}");
        assert!(text.lines().next().unwrap().ends_with("4 ms"));
    }

    #[test]
    fn steps_read_like_the_code_that_did_them() {
        assert_eq!(
            Step::Op {
                op: Op::Notify,
                target: Target::Thread("c".into()),
                timed: false,
                woke: Some(1)
            }
            .describe(),
            "notify `c` (woke 1)"
        );
        assert_eq!(
            Step::Preempted { yielded: false }.describe(),
            "~~ preempted ~~"
        );
        assert_eq!(
            Step::Blocked(Target::None).describe(),
            "  .. blocked (scope end)"
        );
    }
}
