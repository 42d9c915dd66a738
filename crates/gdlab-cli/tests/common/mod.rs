//! Helpers shared by the `gdlab` end-to-end tests: run the binary, make a scratch folder,
//! and assert the one-clear-line error contract (exit code 2, no panic, no partial output).

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the `gdlab` binary with `args` in `cwd`.
pub(crate) fn gdlab(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gdlab"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("running gdlab")
}

/// A fresh, empty folder under the system temp dir, unique to this test process.
pub(crate) fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("gdlab-cli-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The path of `tests/fixtures/<name>`.
pub(crate) fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// The command's stdout as text.
pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The command's stderr as text.
pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit code 2, exactly one non-empty line on stderr naming `needle`, no panic, no stdout.
pub(crate) fn assert_clean_error(o: &Output, needle: &str) {
    assert_clean_error_all(o, &[needle]);
}

/// Exit code 2, exactly one non-empty line on stderr containing every needle, no panic,
/// no stdout.
pub(crate) fn assert_clean_error_all(o: &Output, needles: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {err}");
    for n in needles {
        assert!(lines[0].contains(n), "`{n}` not in: {}", lines[0]);
    }
    assert!(o.stdout.is_empty(), "partial output: {}", stdout(o));
}
