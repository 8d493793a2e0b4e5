//! The house rule (README, "Design"): synckit's library is built in floors, and a module
//! imports only from its own floor or below. This test reads every file under `src/` and
//! fails on an import that reaches up, naming the file, the line and both floors.
//!
//! Ground floor first:
//! 0. `detector`, `error`  (the detector knows no lock type, no world, no scheduler)
//! 1. `sched`              (the scheduler seam)
//! 2. `primitives`, `world`, `thread`
//! 3. `testing`, `gil`, `process`
//! 4. `grade`
//!
//! `lib.rs` re-exports from every floor, and the binary (`main.rs`, `course/`, `tour.rs`) sits
//! on top of the library and reaches it as `synckit::`, so neither is checked.

use std::path::{Path, PathBuf};

const FLOORS: &[(&str, u32)] = &[
    ("detector", 0),
    ("error", 0),
    ("sched", 1),
    ("primitives", 2),
    ("world", 2),
    ("thread", 2),
    ("testing", 3),
    ("gil", 3),
    ("process", 3),
    ("grade", 4),
];

fn floor_of(module: &str) -> Option<u32> {
    FLOORS.iter().find(|(m, _)| *m == module).map(|&(_, f)| f)
}

/// The top-level module a file of `src/` belongs to (`src/detector/report/mod.rs` ->
/// `detector`), or `None` for the crate root and the binary.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let module = first.trim_end_matches(".rs");
    floor_of(module).map(|_| module.to_string())
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `crate::<module>` a line names (in a `use`, a path, or a doc link).
/// (`$crate::` in a macro is the same crate, and is found the same way.)
fn crate_paths(line: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        found.push(&after[..end]);
        rest = &after[end..];
    }
    found
}

#[test]
fn every_module_imports_only_from_its_own_floor_or_below() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations = Vec::new();
    for file in &files {
        let Some(module) = module_of(&src, file) else {
            continue;
        };
        let own = floor_of(&module).expect("a known module");
        let text = std::fs::read_to_string(file).expect("a readable source file");
        for (n, line) in text.lines().enumerate() {
            // Doc links count too: a lower floor's docs that link up make a reader climb.
            for target in crate_paths(line) {
                if let Some(floor) = floor_of(target)
                    && floor > own
                {
                    violations.push(format!(
                        "{}:{}: `{module}` (floor {own}) imports `crate::{target}` (floor {floor})",
                        file.strip_prefix(&src).unwrap().display(),
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "imports that reach up a floor (see the README's Design section):\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_checker_sees_an_upward_import() {
    assert_eq!(crate_paths("use crate::world::World;"), vec!["world"]);
    assert_eq!(
        crate_paths("let w = crate::thread::spawn(crate::detector::x);"),
        vec!["thread", "detector"]
    );
    assert!(floor_of("world").unwrap() > floor_of("detector").unwrap());
}
