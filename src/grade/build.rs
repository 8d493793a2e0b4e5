//! Building: synckit once per batch (cargo, usually a no-op: the grader itself was built
//! from it), each submission on its own as a library crate (rustc, so a compile error stays
//! that submission's), then one program that links every submission that compiled and
//! runs the one named on its command line. Linking once instead of once per submission is
//! what keeps a batch of a hundred quick (see the README's figures).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::json;
use super::run::{self, Ending, Limits};

/// synckit's compiled library and the folder of its dependencies.
#[derive(Clone, Debug)]
pub(crate) struct Lib {
    pub rlib: PathBuf,
    pub deps: PathBuf,
    pub rustc: OsString,
}

/// rustc's verdict on one submission: its first error, where, and the whole output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CompileError {
    /// The first error's headline (`error[E0308]: mismatched types`).
    pub first: String,
    /// Where it points (`bank.rs:12:5`), relative to the graded folder.
    pub site: Option<String>,
    /// Everything rustc said (capped).
    pub text: String,
}

/// The cargo that built the grader (cargo sets `CARGO` for what it runs), else `cargo`.
fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// The rustc of the same toolchain: `RUSTC` if set, else the one beside that cargo.
fn rustc() -> OsString {
    if let Some(r) = std::env::var_os("RUSTC") {
        return r;
    }
    if let Some(c) = std::env::var_os("CARGO") {
        let beside = Path::new(&c).with_file_name("rustc");
        if beside.exists() {
            return beside.into();
        }
    }
    "rustc".into()
}

/// The cargo command that builds synckit as this grader was built: the same profile and
/// features, so it is already up to date and costs a second, not a build.
pub(crate) fn synckit_build_command(manifest_dir: &Path) -> Command {
    let mut cmd = Command::new(cargo());
    cmd.arg("build")
        .arg("--lib")
        .arg("--message-format=json-render-diagnostics")
        .arg("--manifest-path")
        .arg(manifest_dir.join("Cargo.toml"));
    if !cfg!(debug_assertions) {
        cmd.arg("--release");
    }
    // `default` too: cargo hashes the feature names, so `--features testing` alone would
    // be another build of the same code.
    let features: Vec<&str> = [
        ("default", cfg!(feature = "default")),
        ("testing", cfg!(feature = "testing")),
        ("solutions", cfg!(feature = "solutions")),
    ]
    .iter()
    .filter(|f| f.1)
    .map(|f| f.0)
    .collect();
    cmd.arg("--no-default-features");
    if !features.is_empty() {
        cmd.arg("--features").arg(features.join(","));
    }
    cmd
}

/// Builds synckit (once per batch) and finds its rlib in cargo's JSON messages.
///
/// # Errors
///
/// cargo failed or did not name the library: the message has cargo's own words.
pub(crate) fn synckit(manifest_dir: &Path) -> Result<Lib, String> {
    let cmd = synckit_build_command(manifest_dir);
    let shown = format!("{cmd:?}");
    // cargo's JSON names every artifact, synckit's last: keep all of it.
    let limits = Limits {
        cap: 16 << 20,
        ..Limits::wall(Duration::from_secs(1800))
    };
    let ended = run::run(cmd, limits).map_err(|e| format!("could not run {shown}: {e}"))?;
    let stdout = String::from_utf8_lossy(&ended.stdout.kept).into_owned();
    if ended.ending != Ending::Exited(0) {
        return Err(format!(
            "building synckit failed ({shown}):\n{}",
            ended.stderr.text()
        ));
    }
    let files = stdout.lines().filter_map(json::parse).find_map(|v| {
        let target = v.get("target")?;
        let is_lib = target
            .get("kind")?
            .as_array()
            .iter()
            .any(|k| k.as_str() == Some("lib"));
        if v.get("reason")?.as_str()? != "compiler-artifact"
            || target.get("name")?.as_str()? != "synckit"
            || !is_lib
        {
            return None;
        }
        let files: Vec<PathBuf> = v
            .get("filenames")?
            .as_array()
            .iter()
            .filter_map(json::Value::as_str)
            .map(PathBuf::from)
            .collect();
        Some(files)
    });
    let (rlib, deps) = files.as_deref().and_then(rlib_and_deps).ok_or_else(|| {
        format!("cargo built synckit but did not say where its rlib is ({shown})")
    })?;
    Ok(Lib {
        rlib,
        deps,
        rustc: rustc(),
    })
}

/// The rlib to link and the folder of its dependencies, from the files cargo listed: the
/// copy in `deps/` (beside its `.rmeta`), not the one cargo uplifts to the profile folder,
/// whose dependencies are not beside it.
fn rlib_and_deps(files: &[PathBuf]) -> Option<(PathBuf, PathBuf)> {
    let ext = |f: &PathBuf, e: &str| f.extension().is_some_and(|x| x == e);
    if let Some(rmeta) = files.iter().find(|f| ext(f, "rmeta")) {
        let rlib = rmeta.with_extension("rlib");
        if rlib.exists() {
            return Some((rlib, rmeta.parent()?.to_path_buf()));
        }
    }
    let rlib = files.iter().find(|f| ext(f, "rlib"))?;
    let parent = rlib.parent()?;
    let deps = if parent.ends_with("deps") {
        parent.to_path_buf()
    } else {
        parent.join("deps")
    };
    Some((rlib.clone(), deps))
}

impl Lib {
    fn rustc(&self, cwd: &Path) -> Command {
        let mut cmd = Command::new(&self.rustc);
        cmd.current_dir(cwd)
            .args([
                "--edition",
                "2024",
                "--color",
                "never",
                "--cap-lints",
                "allow",
            ])
            .args(["-C", "debuginfo=0"])
            .arg("--extern")
            .arg(format!("synckit={}", self.rlib.display()))
            .arg("-L")
            .arg(format!("dependency={}", self.deps.display()));
        cmd
    }

    /// Compiles one submission (`root`, relative to `dir`) into `out/lib<crate_name>.rlib`.
    pub(crate) fn compile(
        &self,
        dir: &Path,
        root: &Path,
        crate_name: &str,
        out: &Path,
        limits: Limits,
    ) -> Result<PathBuf, CompileError> {
        let mut cmd = self.rustc(dir);
        cmd.args(["--crate-type", "rlib", "--crate-name", crate_name])
            .arg("--out-dir")
            .arg(out)
            .arg(root);
        let ended = run::run(cmd, limits).map_err(|e| CompileError {
            first: format!("could not run rustc: {e}"),
            site: None,
            text: String::new(),
        })?;
        let text = ended.stderr.text();
        match ended.ending {
            Ending::Exited(0) => Ok(out.join(format!("lib{crate_name}.rlib"))),
            Ending::TimedOut => Err(CompileError {
                first: format!(
                    "rustc did not finish within {:.0?}: the compiler was stopped",
                    limits.wall
                ),
                site: None,
                text,
            }),
            _ => {
                let (first, site) = first_error(&text)
                    .unwrap_or_else(|| ("rustc failed without an error message".to_string(), None));
                Err(CompileError { first, site, text })
            }
        }
    }

    /// Links the grading program: `entries` are (submission name, crate name, rlib). On
    /// failure, the errors rustc attributed to an entry's line, by entry index, and the
    /// whole output.
    pub(crate) fn link(
        &self,
        work: &Path,
        entries: &[(String, String, PathBuf)],
        exe: &Path,
        limits: Limits,
    ) -> Result<(), (BTreeMap<usize, CompileError>, String)> {
        let main = work.join(format!(
            "{}.rs",
            exe.file_name().unwrap_or_default().to_string_lossy()
        ));
        let (source, first_line) = main_source(entries);
        if let Err(e) = std::fs::write(&main, source) {
            return Err((
                BTreeMap::new(),
                format!("cannot write {}: {e}", main.display()),
            ));
        }
        let main_name = main
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let mut cmd = self.rustc(work);
        // Relative to `work`, so rustc's `-->` lines name it as we match them below.
        cmd.args(["--crate-type", "bin", "--crate-name", "synckit_grade_run"])
            .arg("-o")
            .arg(exe)
            .arg(&main_name);
        for (_, krate, rlib) in entries {
            cmd.arg("--extern")
                .arg(format!("{krate}={}", rlib.display()));
        }
        let ended = match run::run(cmd, limits) {
            Ok(e) => e,
            Err(e) => return Err((BTreeMap::new(), format!("could not run rustc: {e}"))),
        };
        if ended.ending == Ending::Exited(0) {
            return Ok(());
        }
        let text = ended.stderr.text();
        let mut blamed = BTreeMap::new();
        for (first, site, block) in errors(&text) {
            let Some(site) = site else { continue };
            let Some(line) = site
                .strip_prefix(main_name.as_str())
                .and_then(|s| s.strip_prefix(':'))
                .and_then(|s| s.split(':').next())
                .and_then(|l| l.parse::<usize>().ok())
            else {
                continue;
            };
            if line < first_line || line >= first_line + entries.len() {
                continue;
            }
            blamed
                .entry(line - first_line)
                .or_insert_with(|| CompileError {
                    first: first.clone(),
                    site: None,
                    text: block,
                });
        }
        Err((blamed, text))
    }
}

/// The grading program's source: one line per entry (so an error points at one
/// submission), and the line number of the first entry.
fn main_source(entries: &[(String, String, PathBuf)]) -> (String, usize) {
    let mut s = String::from(
        "// Generated by `synckit grade`: every submission that compiled, run by name.\n\
         fn main() {\n    \
         synckit::process::hook(synckit::process::Registry::new);\n    \
         let programs: &[(&str, fn())] = &[\n",
    );
    let first_line = s.lines().count() + 1;
    for (name, krate, _) in entries {
        s.push_str(&format!("        ({name:?}, {krate}::program),\n"));
    }
    s.push_str("    ];\n    synckit::grade::child_main(programs)\n}\n");
    (s, first_line)
}

/// Every error in rustc's human output: its headline, the `-->` site, and its block.
fn errors(text: &str) -> Vec<(String, Option<String>, String)> {
    let mut out: Vec<(String, Option<String>, String)> = Vec::new();
    for line in text.lines() {
        let is_error = line.starts_with("error")
            && !line.starts_with("error: aborting")
            && !line.starts_with("error: could not compile");
        if is_error {
            out.push((line.trim().to_string(), None, String::new()));
        } else if line.starts_with("warning") || line.starts_with("error: aborting") {
            // A warning's block is not an error's.
            out.push((String::new(), None, String::new()));
        }
        if let Some(last) = out.last_mut() {
            if last.1.is_none()
                && let Some(site) = line.trim_start().strip_prefix("--> ")
            {
                last.1 = Some(site.trim().to_string());
            }
            last.2.push_str(line);
            last.2.push('\n');
        }
    }
    out.retain(|e| !e.0.is_empty());
    out
}

/// The first error rustc reported, and the `file:line:col` it points at.
pub(crate) fn first_error(text: &str) -> Option<(String, Option<String>)> {
    errors(text).into_iter().next().map(|(f, s, _)| (f, s))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUSTC_SAYS: &str = "\
warning: unused variable: `x`
 --> bank.rs:3:9
  |
3 |     let x = 1;
  |         ^

error[E0308]: mismatched types
  --> bank.rs:12:18
   |
12 |     let n: u32 = \"ten\";
   |            ---   ^^^^^ expected `u32`, found `&str`

error[E0425]: cannot find value `y` in this scope
 --> bank/account.rs:4:5
  |
4 |     y
  |     ^ not found in this scope

error: aborting due to 2 previous errors
";

    #[test]
    fn the_first_error_and_its_line_skip_warnings() {
        let (first, site) = first_error(RUSTC_SAYS).unwrap();
        assert_eq!(first, "error[E0308]: mismatched types");
        assert_eq!(site.as_deref(), Some("bank.rs:12:18"));
        let all = errors(RUSTC_SAYS);
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].1.as_deref(), Some("bank/account.rs:4:5"));
        assert!(all[1].2.contains("not found in this scope"));
        assert_eq!(first_error("warning: x\n"), None);
    }

    #[test]
    fn a_syntax_error_without_a_code_is_found_too() {
        let text = "error: expected one of `!` or `::`, found `program`\n --> s.rs:1:5\n";
        let (first, site) = first_error(text).unwrap();
        assert!(first.starts_with("error: expected one of"));
        assert_eq!(site.as_deref(), Some("s.rs:1:5"));
    }

    #[test]
    fn the_generated_main_has_one_line_per_entry() {
        let entries = vec![
            ("bank".to_string(), "sub_0".to_string(), PathBuf::new()),
            ("we\"ird".to_string(), "sub_1".to_string(), PathBuf::new()),
        ];
        let (src, first) = main_source(&entries);
        let lines: Vec<&str> = src.lines().collect();
        assert_eq!(lines[first - 1].trim(), "(\"bank\", sub_0::program),");
        assert_eq!(lines[first].trim(), "(\"we\\\"ird\", sub_1::program),");
    }

    #[test]
    fn the_synckit_build_matches_this_build() {
        let cmd = synckit_build_command(Path::new("/x"));
        let args: Vec<String> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert!(args.contains(&"--lib".to_string()), "{args:?}");
        assert_eq!(
            args.contains(&"--release".to_string()),
            !cfg!(debug_assertions)
        );
        let features = args
            .iter()
            .position(|a| a == "--features")
            .map(|i| args[i + 1].clone());
        assert_eq!(
            features.is_some_and(|f| f.contains("testing")),
            cfg!(feature = "testing")
        );
    }
}
