//! Finding the submissions in a folder, and reading their sources (for the notes and the
//! "in `function`" of a verdict): each `*.rs` file directly in the folder is one, named by
//! its stem; each sub-folder with a `lib.rs` is one, named by the folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::args::UsageError;

/// One submission, before it is compiled.
#[derive(Clone, Debug)]
pub(crate) struct Submission {
    /// Its name in the table and the JSON (the stem; `stem.rs` / `stem/` when a file and a
    /// folder share a stem).
    pub name: String,
    /// The crate root, relative to the graded folder (`bank.rs`, `bank/lib.rs`).
    pub root: PathBuf,
    /// Where its report goes inside `--out` (no slashes).
    pub report_file: String,
    /// Its source files (relative to the graded folder) and their text.
    pub sources: BTreeMap<PathBuf, String>,
    /// Why it cannot be compiled at all (an unreadable file), if so.
    pub unreadable: Option<String>,
}

impl Submission {
    /// Whether the submission starts threads with `std::thread` (outside any world).
    pub(crate) fn uses_std_threads(&self) -> bool {
        self.sources.values().any(|s| uses_std_threads(s))
    }
}

/// Whether `source` starts threads through `std::thread` (not synckit's): either by path,
/// or through a `use std::thread` import.
pub(crate) fn uses_std_threads(source: &str) -> bool {
    let code: String = source
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let by_path = [
        "std::thread::spawn",
        "std::thread::scope",
        "std::thread::Builder",
    ]
    .iter()
    .any(|p| code.contains(p));
    let imported = code.contains("use std::thread;")
        || code.contains("use std::thread::{")
        || code.contains("use std::{thread")
        || code.contains("std::thread::{spawn")
        || code.contains("use std::thread::spawn");
    let called = ["thread::spawn(", "thread::scope(", "thread::Builder::new("]
        .iter()
        .any(|p| code.contains(p));
    by_path || (imported && called)
}

/// The submissions in `dir`, sorted by name, and notes about what was skipped or renamed.
///
/// # Errors
///
/// `dir` is missing, is not a folder, cannot be listed, or holds no submission: the
/// message says what a submission looks like.
pub(crate) fn discover(dir: &Path) -> Result<(Vec<Submission>, Vec<String>), UsageError> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        UsageError(if !dir.exists() {
            format!(
                "no folder `{}`: give the folder that holds the submissions",
                dir.display()
            )
        } else if !dir.is_dir() {
            format!(
                "`{}` is a file, not a folder: put the submissions in a folder and give that",
                dir.display()
            )
        } else {
            format!("cannot list `{}`: {e}", dir.display())
        })
    })?;
    let mut files: Vec<String> = Vec::new();
    let mut folders: Vec<String> = Vec::new();
    let mut notes = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        // `metadata` follows symlinks; a dangling one still counts if it is named *.rs.
        let is_dir = std::fs::metadata(&path).is_ok_and(|m| m.is_dir());
        if is_dir {
            if path.join("lib.rs").exists() {
                folders.push(name);
            } else {
                notes.push(format!(
                    "skipped the folder `{name}/`: a folder submission needs a lib.rs"
                ));
            }
        } else if name.ends_with(".rs") && name.len() > 3 {
            files.push(name);
        }
    }
    let mut subs = Vec::new();
    for file in &files {
        let stem = &file[..file.len() - 3];
        let clash = folders.iter().any(|f| f == stem);
        let name = if clash {
            file.clone()
        } else {
            stem.to_string()
        };
        subs.push(load(dir, name, PathBuf::from(file), stem.to_string()));
    }
    for folder in &folders {
        let clash = files.iter().any(|f| f[..f.len() - 3] == **folder);
        let (name, report) = if clash {
            notes.push(format!(
                "`{folder}.rs` and the folder `{folder}/` share a name: graded as \
                 `{folder}.rs` and `{folder}/`"
            ));
            (format!("{folder}/"), format!("{folder}-folder"))
        } else {
            (folder.clone(), folder.clone())
        };
        subs.push(load(dir, name, Path::new(folder).join("lib.rs"), report));
    }
    if subs.is_empty() {
        return Err(UsageError(format!(
            "no submissions in `{}`: a submission is a *.rs file directly in the folder, or a \
             folder with a lib.rs, that defines `pub fn program()`",
            dir.display()
        )));
    }
    subs.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((subs, notes))
}

fn load(dir: &Path, name: String, root: PathBuf, report: String) -> Submission {
    let mut s = Submission {
        name,
        report_file: sanitize(&report),
        sources: BTreeMap::new(),
        unreadable: None,
        root: root.clone(),
    };
    let mut files = vec![root.clone()];
    if let Some(folder) = root.parent().filter(|p| !p.as_os_str().is_empty()) {
        files = Vec::new();
        collect_rs(dir, folder, 0, &mut files);
        files.sort();
    }
    for rel in files {
        match std::fs::read(dir.join(&rel)) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => {
                    s.sources.insert(rel, text);
                }
                Err(e) => {
                    let why = format!(
                        "`{}` is not UTF-8 text (invalid byte at offset {}): save it as UTF-8",
                        rel.display(),
                        e.utf8_error().valid_up_to()
                    );
                    s.unreadable.get_or_insert(why);
                }
            },
            Err(e) => {
                let why = format!("cannot read `{}`: {e}", rel.display());
                s.unreadable.get_or_insert(why);
            }
        }
    }
    s
}

fn collect_rs(dir: &Path, rel: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir.join(rel)) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let child = rel.join(&name);
        let is_dir = std::fs::metadata(entry.path()).is_ok_and(|m| m.is_dir());
        if is_dir && depth < 8 && !name.to_string_lossy().starts_with('.') {
            collect_rs(dir, &child, depth + 1, out);
        } else if name.to_string_lossy().ends_with(".rs") {
            out.push(child);
        }
    }
}

/// A file name from a submission name: letters, digits, `-`, `_`, `.` kept.
fn sanitize(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with('.') {
        format!("_{s}")
    } else {
        s
    }
}

/// The name of the innermost `fn` whose body contains line `line` (1-based) of `source`.
/// Skips strings, chars and comments well enough for the code students write; `None`
/// outside any function.
pub(crate) fn enclosing_fn(source: &str, line: usize) -> Option<String> {
    let b = source.as_bytes();
    let mut i = 0;
    let mut cur = 1;
    let mut stack: Vec<Option<String>> = Vec::new();
    let mut pending: Option<String> = None;
    let ident = |i: usize| -> usize {
        let mut j = i;
        while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
            j += 1;
        }
        j
    };
    while i < b.len() {
        if cur >= line {
            break;
        }
        let c = b[i];
        match c {
            b'\n' => {
                cur += 1;
                i += 1;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0;
                while i < b.len() {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        if b[i] == b'\n' {
                            cur += 1;
                        }
                        i += 1;
                    }
                }
            }
            b'r' if matches!(b.get(i + 1), Some(b'"' | b'#'))
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) =>
            {
                let mut j = i + 1;
                let mut hashes = 0;
                while b.get(j) == Some(&b'#') {
                    hashes += 1;
                    j += 1;
                }
                if b.get(j) != Some(&b'"') {
                    i = ident(i);
                    continue;
                }
                j += 1;
                let close: Vec<u8> = std::iter::once(b'"')
                    .chain(std::iter::repeat_n(b'#', hashes))
                    .collect();
                while j < b.len() && !b[j..].starts_with(&close) {
                    if b[j] == b'\n' {
                        cur += 1;
                    }
                    j += 1;
                }
                i = j + close.len();
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    if i < b.len() && b[i] == b'\n' {
                        cur += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'\'' => {
                // A char literal ('x', '\n', '\u{..}', '{') or a lifetime ('a).
                if b.get(i + 1) == Some(&b'\\') {
                    i += 2;
                    while i < b.len() && b[i] != b'\'' {
                        i += 1;
                    }
                    i += 1;
                } else if let Some(ch) = source[i + 1..].chars().next()
                    && source[i + 1 + ch.len_utf8()..].starts_with('\'')
                {
                    i += 2 + ch.len_utf8();
                } else {
                    i += 1;
                }
            }
            b'{' => {
                stack.push(pending.take());
                i += 1;
            }
            b'}' => {
                stack.pop();
                i += 1;
            }
            b';' => {
                pending = None;
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let end = ident(i);
                if &b[i..end] == b"fn" {
                    let mut j = end;
                    while j < b.len() && b[j].is_ascii_whitespace() {
                        j += 1;
                    }
                    let name_end = ident(j);
                    if name_end > j {
                        pending = Some(source[j..name_end].to_string());
                    }
                }
                i = end;
            }
            _ => i += 1,
        }
    }
    stack.into_iter().rev().flatten().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_innermost_function_around_a_line() {
        let src = r##"use std::sync::Arc;
struct Bank { a: i32 }
impl Bank {
    fn transfer(&self, from: usize) -> Result<(), String> {
        let s = "a } brace in a string { ";
        let c = '{';
        let r = r#"raw "} with quotes"#;
        // a comment with fn fake() {
        let f = |x: &'static str| {
            x.len() // line 10: inside a closure, inside transfer
        };
        Ok(())
    }
    fn audit(&self);
}
pub fn program() {
    fn helper() {
        let x = 1; // line 18
    }
    helper(); // line 20
}
"##;
        assert_eq!(enclosing_fn(src, 10).as_deref(), Some("transfer"));
        assert_eq!(enclosing_fn(src, 5).as_deref(), Some("transfer"));
        assert_eq!(enclosing_fn(src, 18).as_deref(), Some("helper"));
        assert_eq!(enclosing_fn(src, 20).as_deref(), Some("program"));
        assert_eq!(enclosing_fn(src, 2), None);
        assert_eq!(enclosing_fn(src, 15), None);
    }

    #[test]
    fn std_thread_use_is_noticed_and_synckit_threads_are_not() {
        assert!(uses_std_threads("fn f() { std::thread::spawn(|| {}); }"));
        assert!(uses_std_threads(
            "use std::thread;\nfn f() { thread::spawn(|| {}); }"
        ));
        assert!(!uses_std_threads(
            "use synckit::thread;\nfn f() { thread::spawn_named(\"a\", || {}); }"
        ));
        // Sleeping is not starting a thread, and comments do not count.
        assert!(!uses_std_threads(
            "fn f() { std::thread::sleep(d); } // std::thread::spawn"
        ));
    }

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("synckit-discover-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn files_folders_clashes_and_skips() {
        let d = scratch("mix");
        std::fs::write(d.join("b.rs"), "pub fn program() {}").unwrap();
        std::fs::write(d.join("a.rs"), "pub fn program() {}").unwrap();
        std::fs::write(d.join("notes.txt"), "").unwrap();
        std::fs::write(d.join(".hidden.rs"), "").unwrap();
        std::fs::create_dir_all(d.join("b/inner")).unwrap();
        std::fs::write(d.join("b/lib.rs"), "mod inner;").unwrap();
        std::fs::write(d.join("b/inner/mod.rs"), "").unwrap();
        std::fs::create_dir_all(d.join("empty")).unwrap();
        std::fs::write(d.join("bad.rs"), [0xff, 0xfe, b'x']).unwrap();
        let (subs, notes) = discover(&d).unwrap();
        let names: Vec<&str> = subs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b.rs", "b/", "bad"]);
        let folder = &subs[2];
        assert_eq!(folder.root, Path::new("b/lib.rs"));
        assert_eq!(folder.report_file, "b-folder");
        assert_eq!(folder.sources.len(), 2);
        assert_eq!(subs[1].report_file, "b");
        assert!(subs[3].unreadable.as_deref().unwrap().contains("not UTF-8"));
        assert!(
            notes.iter().any(|n| n.contains("share a name")),
            "{notes:?}"
        );
        assert!(notes.iter().any(|n| n.contains("`empty/`")), "{notes:?}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn empty_and_missing_folders_are_usage_errors() {
        let d = scratch("empty");
        let e = discover(&d).unwrap_err().to_string();
        assert!(
            e.contains("no submissions") && e.contains("pub fn program()"),
            "{e}"
        );
        let e = discover(&d.join("nope")).unwrap_err().to_string();
        assert!(e.contains("no folder"), "{e}");
        std::fs::write(d.join("f.rs"), "").unwrap();
        let e = discover(&d.join("f.rs")).unwrap_err().to_string();
        assert!(e.contains("is a file"), "{e}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_dangling_symlink_is_an_unreadable_submission() {
        let d = scratch("dangling");
        std::os::unix::fs::symlink(d.join("nowhere.rs"), d.join("ghost.rs")).unwrap();
        let (subs, _) = discover(&d).unwrap();
        assert_eq!(subs[0].name, "ghost");
        assert!(
            subs[0]
                .unreadable
                .as_deref()
                .unwrap()
                .contains("cannot read")
        );
        std::fs::remove_dir_all(&d).unwrap();
    }
}
