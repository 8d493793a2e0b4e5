//! What the grader writes: the table, the counts and the groups (for people), one text
//! report per submission, the JSON and Gradescope's `results.json` (for tools).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::Path;

use colored::Colorize;

use super::json;
use super::verdict::{Row, Verdict};

fn paint(v: Verdict, color: bool) -> String {
    let s = format!("{:<13}", v.as_str());
    if !color {
        return s;
    }
    match v {
        Verdict::Ok => s.green().to_string(),
        Verdict::Inversion | Verdict::Stalled | Verdict::Timeout => s.yellow().to_string(),
        _ => s.red().to_string(),
    }
}

/// The table: one row per submission (name, verdict, time, reason), then the counts.
pub(crate) fn table(rows: &[Row], color: bool) -> String {
    let width = rows
        .iter()
        .map(|r| r.submission.chars().count())
        .max()
        .unwrap_or(10)
        .max("submission".len());
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<width$}  {:<13}  {:>7}  reason",
        "submission", "verdict", "time"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:<width$}  {}  {:>6.1}s  {}",
            r.submission,
            paint(r.verdict, color),
            r.seconds,
            r.summary
        );
    }
    out.push('\n');
    out.push_str(&counts(rows));
    out.push('\n');
    out
}

/// "11 submissions: 2 ok, 3 deadlock, ..." (verdicts that occur, in a fixed order).
pub(crate) fn counts(rows: &[Row]) -> String {
    let parts: Vec<String> = Verdict::ALL
        .iter()
        .map(|v| (v, rows.iter().filter(|r| r.verdict == *v).count()))
        .filter(|(_, n)| *n > 0)
        .map(|(v, n)| format!("{n} {v}"))
        .collect();
    let s = if rows.len() == 1 { "" } else { "s" };
    format!("{} submission{s}: {}", rows.len(), parts.join(", "))
}

/// The failing submissions grouped by mistake, biggest group first (ties by title).
pub(crate) fn groups(rows: &[Row]) -> Vec<(String, Vec<&str>)> {
    let mut by: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in rows {
        if let Some(g) = &r.group {
            by.entry(g).or_default().push(&r.submission);
        }
    }
    let mut groups: Vec<(String, Vec<&str>)> =
        by.into_iter().map(|(g, m)| (g.to_string(), m)).collect();
    groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(&b.0)));
    groups
}

/// The groups as text: "3 submissions: AB/BA ... in `transfer`" and who is in each.
pub(crate) fn groups_text(rows: &[Row]) -> String {
    let groups = groups(rows);
    if groups.is_empty() {
        return String::new();
    }
    let mut out = String::from("mistakes, grouped (biggest group first):\n");
    for (title, members) in groups {
        let n = members.len();
        let s = if n == 1 { "" } else { "s" };
        let _ = writeln!(out, "  {n} submission{s}: {title}");
        let _ = writeln!(out, "      {}", members.join(", "));
    }
    out
}

/// One submission's full text report.
pub(crate) fn report_text(r: &Row) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "submission  {}", r.submission);
    let _ = writeln!(out, "verdict     {}", r.verdict);
    let _ = writeln!(out, "found by    {}", r.found_by);
    if let Some(replay) = &r.replay {
        let _ = writeln!(
            out,
            "replay      {replay}   (synckit::testing::Config::replay(\"{replay}\".parse().unwrap()))"
        );
    }
    let _ = writeln!(out, "time        {:.2} s", r.seconds);
    let _ = writeln!(out, "summary     {}", r.summary);
    if let Some(g) = &r.group {
        let _ = writeln!(out, "group       {g}");
    }
    for (title, body) in [
        ("report", &r.report),
        ("stdout", &r.stdout),
        ("stderr", &r.stderr),
    ] {
        let _ = writeln!(out, "\n── {title} {}", "─".repeat(60));
        if body.is_empty() {
            out.push_str("(empty)\n");
        } else {
            out.push_str(body);
            if !body.ends_with('\n') {
                out.push('\n');
            }
        }
    }
    out
}

/// Writes `<out>/<submission>.txt` for every row.
pub(crate) fn write_reports(out: &Path, rows: &[Row]) -> io::Result<()> {
    std::fs::create_dir_all(out)?;
    for r in rows {
        std::fs::write(out.join(format!("{}.txt", r.report_file)), report_text(r))?;
    }
    Ok(())
}

/// The JSON array: one object per submission with exactly the documented fields.
pub(crate) fn json(rows: &[Row]) -> String {
    let items: Vec<String> = rows
        .iter()
        .map(|r| {
            json::Object::new()
                .str("submission", &r.submission)
                .str("verdict", r.verdict.as_str())
                .str("found_by", &r.found_by)
                .opt_str("replay", r.replay.as_deref())
                .str("summary", &r.summary)
                .str("report", &r.report)
                .str("stdout", &r.stdout)
                .str("stderr", &r.stderr)
                .num("seconds", (r.seconds * 1000.0).round() / 1000.0)
                .opt_str("group", r.group.as_deref())
                .finish()
        })
        .collect();
    json::array(&items) + "\n"
}

/// Gradescope's autograder `results.json`: one test per submission, full marks for `ok`.
pub(crate) fn gradescope(rows: &[Row]) -> String {
    let tests: Vec<String> = rows
        .iter()
        .map(|r| {
            let ok = r.verdict == Verdict::Ok;
            let mut output = format!("{}: {}\n", r.verdict, r.summary);
            if !ok {
                output.push('\n');
                output.push_str(&r.report);
            }
            json::Object::new()
                .str("name", &r.submission)
                .num("score", if ok { 1.0 } else { 0.0 })
                .num("max_score", 1.0)
                .str("output", &output)
                .finish()
        })
        .collect();
    json::Object::new()
        .raw("tests", &json::array(&tests))
        .finish()
        + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grade::json::{Value, parse};

    fn row(name: &str, verdict: Verdict, group: Option<&str>) -> Row {
        Row {
            submission: name.into(),
            verdict,
            found_by: "check, run 1 of 5".into(),
            replay: None,
            summary: format!("{verdict} summary"),
            report: "line 1\n\"quoted\"\n".into(),
            stdout: String::new(),
            stderr: "\u{1b}[31m".into(),
            seconds: 1.23456,
            group: group.map(String::from),
            report_file: name.into(),
        }
    }

    fn rows() -> Vec<Row> {
        vec![
            row("a", Verdict::Deadlock, Some("AB/BA in `t`")),
            row("b", Verdict::Ok, None),
            row("c", Verdict::Panicked, Some("panic: x")),
            row("d", Verdict::Deadlock, Some("AB/BA in `t`")),
        ]
    }

    #[test]
    fn groups_come_biggest_first() {
        let rows = rows();
        let g = groups(&rows);
        assert_eq!(g.len(), 2);
        assert_eq!(g[0], ("AB/BA in `t`".to_string(), vec!["a", "d"]));
        assert_eq!(g[1].1, vec!["c"]);
        let text = groups_text(&rows);
        assert!(
            text.contains("  2 submissions: AB/BA in `t`\n      a, d\n"),
            "{text}"
        );
        assert!(groups_text(&rows[1..2]).is_empty());
    }

    #[test]
    fn the_table_has_a_row_each_and_the_counts() {
        let t = table(&rows(), false);
        assert_eq!(t.lines().count(), 1 + 4 + 2);
        assert!(
            t.contains("a           deadlock          1.2s  deadlock summary"),
            "{t}"
        );
        assert!(
            t.ends_with("4 submissions: 1 ok, 2 deadlock, 1 panicked\n"),
            "{t}"
        );
    }

    #[test]
    fn json_has_exactly_the_documented_fields() {
        let v = parse(&json(&rows())).unwrap();
        let items = v.as_array();
        assert_eq!(items.len(), 4);
        let Value::Object(fields) = &items[0] else {
            panic!("not an object")
        };
        // The exact list is the integration test's (tests/grade.rs): here, the nine fields
        // of the issue and the group key after them.
        assert_eq!(fields.len(), 10);
        assert_eq!(fields.first().map(|f| f.0.as_str()), Some("submission"));
        assert_eq!(fields.last().map(|f| f.0.as_str()), Some("group"));
        assert_eq!(
            items[0].get("report").and_then(Value::as_str),
            Some("line 1\n\"quoted\"\n")
        );
        assert_eq!(
            items[0].get("stderr").and_then(Value::as_str),
            Some("\u{1b}[31m")
        );
        assert_eq!(
            items[0].get("seconds"),
            Some(&Value::Number("1.235".into()))
        );
        assert_eq!(items[1].get("group"), Some(&Value::Null));
    }

    #[test]
    fn gradescope_gets_tests_with_scores() {
        let v = parse(&gradescope(&rows())).unwrap();
        let tests = v.get("tests").unwrap().as_array();
        assert_eq!(tests.len(), 4);
        for t in tests {
            let Value::Object(fields) = t else { panic!() };
            let keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(keys, ["name", "score", "max_score", "output"]);
        }
        assert_eq!(tests[1].get("score"), Some(&Value::Number("1".into())));
        assert_eq!(tests[0].get("score"), Some(&Value::Number("0".into())));
        let out = tests[0].get("output").and_then(Value::as_str).unwrap();
        assert!(out.starts_with("deadlock: deadlock summary\n") && out.contains("quoted"));
    }

    #[test]
    fn a_report_has_every_part() {
        let mut r = row("x", Verdict::Deadlock, Some("g"));
        r.replay = Some("0.1>2".into());
        let t = report_text(&r);
        for part in [
            "verdict     deadlock",
            "replay      0.1>2",
            "group       g",
            "── report",
            "── stdout",
            "(empty)",
            "── stderr",
        ] {
            assert!(t.contains(part), "{part}: {t}");
        }
    }
}
