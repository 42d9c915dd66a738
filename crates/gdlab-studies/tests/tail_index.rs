//! The `tail-index` study alone: validation checks pass and the run is bitwise identical
//! with 1 and 4 threads (the registry-wide test covers it too; this one runs in ~1 min).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers

use std::path::PathBuf;

use gdlab_core::Seed;
use gdlab_studies::study::{run_study, Mode, RunOpts};
use gdlab_studies::{registry, CheckKind};

fn run(threads: usize, name: &str) -> (gdlab_studies::study::StudyOutcome, PathBuf) {
    let dir = std::env::temp_dir().join(format!("gdlab-ti-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let study = registry::find("tail-index").unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let opts = RunOpts {
        seed: Seed(0),
        mode: Mode::Quick,
    };
    let o = pool
        .install(|| run_study(study.as_ref(), &opts, &dir))
        .unwrap();
    (o, dir)
}

#[test]
fn tail_index_validates_and_is_deterministic_across_threads() {
    let (one, d1) = run(1, "t1");
    let (four, d4) = run(4, "t4");
    assert_eq!(one.verdict.checks.len(), 10);
    for c in one.verdict.of_kind(CheckKind::Validation) {
        assert!(
            c.pass,
            "{}: {} {} {}",
            c.claim,
            c.observed,
            c.cmp.symbol(),
            c.threshold
        );
    }
    let m1: serde_json::Value =
        serde_json::from_slice(&std::fs::read(one.dir.join("metrics.json")).unwrap()).unwrap();
    let m4: serde_json::Value =
        serde_json::from_slice(&std::fs::read(four.dir.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(m1["checks"], m4["checks"]);
    assert_eq!(m1["metrics"], m4["metrics"]);
    assert_eq!(m1["metrics"]["runs"].as_array().unwrap().len(), 12);
    for f in [
        "runs.csv",
        "alpha_vs_gap.csv",
        "recovery.csv",
        "alpha_vs_gap.svg",
    ] {
        assert_eq!(
            std::fs::read(one.dir.join(f)).unwrap(),
            std::fs::read(four.dir.join(f)).unwrap(),
            "{f}"
        );
    }
    std::fs::remove_dir_all(d1).unwrap();
    std::fs::remove_dir_all(d4).unwrap();
}
