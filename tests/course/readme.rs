//! The README's quoted outputs are made by the code they quote: each sits between
//! `<!-- output: KEY -->` and `<!-- /output -->`, and `harness::readme_is_current` compares
//! it with what the code prints now (the tour's reports, exercise 3's failing check, the
//! line for a filter that names no exercise, the table of wrong fixes). Timings differ from
//! run to run and are compared as `#`; a timeline's events and blank lines are not compared
//! (see `mask`). `SYNCKIT_BLESS=1` rewrites the stale blocks.

use libtest_mimic::Failed;

use crate::support::clean_paths;

const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
const OPEN: &str = "<!-- output: ";
const CLOSE: &str = "<!-- /output -->";

/// Whether every generated block of the README is current; with `SYNCKIT_BLESS=1`, makes it so.
pub fn readme_is_current() -> Result<(), Failed> {
    let readme = std::fs::read_to_string(README).map_err(|e| format!("{README}: {e}"))?;
    let tour = tour()?;
    let mut out = String::new();
    let mut rest = readme.as_str();
    let mut stale = Vec::new();
    while let Some(start) = rest.find(OPEN) {
        let (before, from) = rest.split_at(start);
        out.push_str(before);
        let header_end = from
            .find("-->")
            .ok_or("an unclosed `<!-- output:` comment")?
            + 3;
        let key = from[OPEN.len()..header_end - 3].trim();
        let body_end = from
            .find(CLOSE)
            .ok_or_else(|| format!("no `{CLOSE}` after `{OPEN}{key} -->`"))?;
        let body = from[header_end..body_end].trim_matches('\n');
        let want = produce(key, &tour)?;
        if mask(body) != mask(&want) {
            stale.push(key.to_string());
        }
        out.push_str(&format!("{OPEN}{key} -->\n{want}\n{CLOSE}"));
        rest = &from[body_end + CLOSE.len()..];
    }
    out.push_str(rest);
    if stale.is_empty() {
        return Ok(());
    }
    crate::selftest::bless_or_fail(
        &format!("the README's quoted outputs ({})", stale.join(", ")),
        vec![(README.to_string(), Some(out))],
    )
}

/// What the block `key` must hold.
fn produce(key: &str, tour: &[String]) -> Result<String, String> {
    let fenced = |text: &str| format!("```text\n{}\n```", text.trim_end());
    if let Some(n) = key.strip_prefix("tour ") {
        let n: usize = n
            .parse()
            .map_err(|_| format!("`{key}`: no such demonstration"))?;
        let report = tour
            .get(n.wrapping_sub(1))
            .ok_or_else(|| format!("the tour has no demonstration {n}"))?;
        return Ok(fenced(report));
    }
    match key {
        "course exercise_3" => Ok(fenced(&exercise_3_failure()?)),
        "unknown filter" => {
            let numbers: Vec<u32> = crate::catalog::EXERCISES.iter().map(|e| e.number).collect();
            Ok(fenced(&format!(
                "$ cargo test exercise_99\n...\n{}\nerror: test failed, to rerun pass `--test exercises`",
                crate::select::unknown_line("exercise_99", &numbers)
            )))
        }
        "mutants" => Ok(crate::mutants::readme_table().trim_end().to_string()),
        other => Err(format!(
            "the README asks for `{other}`, which nothing makes"
        )),
    }
}

/// The reports `cargo run -- tour` prints, one per demonstration, paths relative.
fn tour() -> Result<Vec<String>, String> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_synckit"))
        .arg("tour")
        .env("NO_COLOR", "1")
        .output()
        .map_err(|e| format!("running `synckit tour`: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`synckit tour` failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = clean_paths(&String::from_utf8_lossy(&out.stdout));
    // Each demonstration: `== N. title`, a description, a blank line, the report.
    Ok(text
        .split("\n== ")
        .skip(1)
        .map(|section| {
            let report = section.split_once("\n\n").map_or("", |(_, r)| r);
            report.trim_end().to_string()
        })
        .collect())
}

/// The failure `cargo test exercise_3` prints for the untouched stub's first check.
fn exercise_3_failure() -> Result<String, String> {
    let checks = crate::exercise_3::stub::checks();
    let check = checks
        .iter()
        .find(|c| c.name == "deposit_then_audit")
        .ok_or("exercise 3 has no check `deposit_then_audit`")?;
    let failure = (check.run)()
        .err()
        .ok_or("the stub of exercise 3 passes `deposit_then_audit`")?;
    Ok(format!(
        "$ cargo test exercise_3\n...\n---- exercise_3::deposit_then_audit ----\n{}",
        failure.render(3, check.name, false).trim_end()
    ))
}

/// `text` without what may differ between two runs: timings (as `#`), the events of a
/// timeline (a line that starts with a timing: which events a real run logs depends on who
/// got there first), runs of spaces (column widths follow the timings) and blank lines.
fn mask(text: &str) -> String {
    text.lines()
        .filter(|line| {
            line.split_whitespace()
                .next()
                .is_some_and(|first| !is_timing(first))
        })
        .map(|line| {
            line.split_whitespace()
                .map(|word| if is_timing(word) { "#" } else { word })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `0.157ms`, `26µs`, `1.5s`.
fn is_timing(word: &str) -> bool {
    let digits = word.trim_end_matches(['m', 's', 'µ']);
    digits.len() < word.len()
        && !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
}
