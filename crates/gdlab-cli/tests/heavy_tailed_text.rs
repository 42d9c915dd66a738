//! End-to-end tests of `gdlab heavy-tailed text`: a Zipf corpus generated in code, and
//! every bad input (missing file, empty corpus, vocab 0, non-integer token file) giving one
//! clear error line and exit code 2.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers

mod common;
use common::*;

use gdlab_core::Seed;
use gdlab_imbalance::text::zipf_corpus;

#[test]
fn zipf_text_corpus_writes_the_group_report() {
    let d = scratch("zipf");
    std::fs::write(
        d.join("zipf.txt"),
        zipf_corpus(30_000, 500, 1.0, Seed(3)).unwrap(),
    )
    .unwrap();
    let o = gdlab(
        &[
            "heavy-tailed",
            "text",
            "--tokens",
            "zipf.txt",
            "--format",
            "text",
            "--vocab",
            "200",
            "--steps",
            "40",
            "--out",
            "rep",
        ],
        &d,
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(text.contains("vocabulary 201"), "{text}");
    assert!(text.contains("29999 bigrams"), "{text}");
    for m in ["GD", "Adam", "Sign"] {
        assert!(text.contains(m), "{text}");
    }
    let md = std::fs::read_to_string(d.join("rep/report.md")).unwrap();
    assert!(md.contains("Per-group training loss at the last step"));
    for f in [
        "metrics.json",
        "report.html",
        "groups_gd.csv",
        "groups_adam.csv",
        "groups_sign.csv",
        "overall_loss.csv",
    ] {
        assert!(d.join("rep").join(f).exists(), "{f}");
    }
    // Group curves: 10 groups.
    let csv = std::fs::read_to_string(d.join("rep/groups_adam.csv")).unwrap();
    assert!(
        csv.contains("group 1,") && csv.contains("group 10,"),
        "{csv}"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn integer_token_ids_work_too() {
    let d = scratch("ids");
    let ids: String = (0..5000_u64)
        .map(|i| ((i * i + 7 * i) % 37 % (1 + i % 11)).to_string() + " ")
        .collect();
    std::fs::write(d.join("ids.txt"), ids).unwrap();
    let o = gdlab(
        &[
            "heavy-tailed",
            "text",
            "--tokens",
            "ids.txt",
            "--steps",
            "10",
            "--out",
            "o",
        ],
        &d,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(d.join("o/report.md").exists());
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn bad_inputs_exit_2_with_one_clear_line() {
    let d = scratch("bad");
    // Missing file.
    let o = gdlab(&["heavy-tailed", "text", "--tokens", "nope.txt"], &d);
    assert_clean_error_all(&o, &["nope.txt", "No such file"]);
    // Empty corpus.
    std::fs::write(d.join("empty.txt"), " \n ").unwrap();
    let o = gdlab(
        &[
            "heavy-tailed",
            "text",
            "--tokens",
            "empty.txt",
            "--format",
            "text",
        ],
        &d,
    );
    assert_clean_error_all(&o, &["empty.txt", "0 token(s)"]);
    // Vocab 0.
    std::fs::write(d.join("ok.txt"), "1 2 3 1 2").unwrap();
    let o = gdlab(
        &["heavy-tailed", "text", "--tokens", "ok.txt", "--vocab", "0"],
        &d,
    );
    assert_clean_error_all(&o, &["--vocab", "1..=10000"]);
    // Non-integer token in an id file.
    std::fs::write(d.join("words.txt"), "1 2 three 4").unwrap();
    let o = gdlab(&["heavy-tailed", "text", "--tokens", "words.txt"], &d);
    assert_clean_error_all(&o, &["words.txt", "`three`", "not a non-negative integer"]);
    // Steps out of range.
    let o = gdlab(
        &["heavy-tailed", "text", "--tokens", "ok.txt", "--steps", "0"],
        &d,
    );
    assert_clean_error_all(&o, &["--steps"]);
    // A single distinct token cannot train a classifier.
    std::fs::write(d.join("same.txt"), "7 7 7 7").unwrap();
    let o = gdlab(&["heavy-tailed", "text", "--tokens", "same.txt"], &d);
    assert_clean_error_all(&o, &["distinct tokens"]);
    std::fs::remove_dir_all(&d).unwrap();
}
