//! The run index: `index.html` and `summary.json` over all studies of one run.

use std::path::Path;

use serde::Serialize;

use super::format::{fmt_sig, html_escape};
use super::html::{badge, markdown_to_html, page_end, page_start, TABLE_WRAP_OPEN};
use super::{prepare_dir, run_line, RunMeta};
use crate::error::ReportError;
use crate::verdict::Verdict;

/// One study's line in the run index.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexEntry {
    /// The study id (kebab-case), also its output sub-directory.
    pub id: String,
    /// The study's title.
    pub title: String,
    /// The paper citation (Markdown).
    pub paper: String,
    /// `"PASS"`, `"FAIL"` or `"ERROR"` (the study did not finish).
    pub verdict: String,
    /// Number of checks made (0 for an error).
    pub n_checks: usize,
    /// Number of checks that held.
    pub n_passed: usize,
    /// The study's wall-clock seconds (finite).
    pub elapsed_s: f64,
    /// The error chain, for a study that errored.
    pub error: Option<String>,
    /// Link to the study's page, relative to the index (e.g. `ssvr/report.html`); empty
    /// when there is none.
    pub report_href: String,
}

impl IndexEntry {
    /// The entry for a study that finished, linking to `ID/report.html`.
    #[must_use]
    pub fn from_verdict(
        id: &str,
        title: &str,
        paper: &str,
        verdict: &Verdict,
        elapsed_s: f64,
    ) -> Self {
        IndexEntry {
            id: id.to_string(),
            title: title.to_string(),
            paper: paper.to_string(),
            verdict: verdict.label().to_string(),
            n_checks: verdict.checks.len(),
            n_passed: verdict.checks.iter().filter(|c| c.pass).count(),
            elapsed_s,
            error: None,
            report_href: format!("{id}/report.html"),
        }
    }

    /// The entry for a study that returned an error (`ERROR`, no checks, no link).
    #[must_use]
    pub fn errored(id: &str, title: &str, paper: &str, error: &str, elapsed_s: f64) -> Self {
        IndexEntry {
            id: id.to_string(),
            title: title.to_string(),
            paper: paper.to_string(),
            verdict: "ERROR".to_string(),
            n_checks: 0,
            n_passed: 0,
            elapsed_s,
            error: Some(error.to_string()),
            report_href: String::new(),
        }
    }
}

/// Writes `out_dir/index.html` (a table of all studies with verdict badges and links to
/// their reports) and `out_dir/summary.json`, creating `out_dir` if needed.
///
/// `summary.json` has the schema
/// `{"version", "mode", "seed", "studies": [{"id", "title", "paper", "verdict", "n_checks",
/// "n_passed", "elapsed_s", "report", "error"}]}`, studies in the given order; `report` is
/// the link (or `null` when empty) and `error` the message or `null`. `meta.elapsed_s`
/// (the whole run's time) appears only in `index.html`.
///
/// # Errors
/// [`ReportError::InvalidVerdict`] for a verdict other than `PASS`/`FAIL`/`ERROR`;
/// [`ReportError::NonFinite`] for a non-finite elapsed time;
/// [`ReportError::OutDirIsFile`], [`ReportError::Io`], [`ReportError::Json`].
pub fn write_index(
    out_dir: &Path,
    entries: &[IndexEntry],
    meta: &RunMeta,
) -> Result<(), ReportError> {
    for e in entries {
        if !matches!(e.verdict.as_str(), "PASS" | "FAIL" | "ERROR") {
            return Err(ReportError::InvalidVerdict {
                id: e.id.clone(),
                verdict: e.verdict.clone(),
            });
        }
        if !e.elapsed_s.is_finite() {
            return Err(ReportError::NonFinite {
                name: format!("elapsed_s of index entry `{}`", e.id),
            });
        }
    }
    if !meta.elapsed_s.is_finite() {
        return Err(ReportError::NonFinite {
            name: "elapsed_s of the run".into(),
        });
    }
    let summary = summary_json(entries, meta)?;
    let page = index_html(entries, meta);
    prepare_dir(out_dir)?;
    gdlab_core::io::atomic_write(&out_dir.join("summary.json"), summary.as_bytes())?;
    gdlab_core::io::atomic_write(&out_dir.join("index.html"), page.as_bytes())?;
    Ok(())
}

fn summary_json(entries: &[IndexEntry], meta: &RunMeta) -> Result<String, ReportError> {
    #[derive(Serialize)]
    struct Study<'a> {
        id: &'a str,
        title: &'a str,
        paper: &'a str,
        verdict: &'a str,
        n_checks: usize,
        n_passed: usize,
        elapsed_s: f64,
        report: Option<&'a str>,
        error: Option<&'a str>,
    }
    #[derive(Serialize)]
    struct Summary<'a> {
        version: &'a str,
        mode: &'a str,
        seed: u64,
        studies: Vec<Study<'a>>,
    }
    let doc = Summary {
        version: &meta.version,
        mode: &meta.mode,
        seed: meta.seed,
        studies: entries
            .iter()
            .map(|e| Study {
                id: &e.id,
                title: &e.title,
                paper: &e.paper,
                verdict: &e.verdict,
                n_checks: e.n_checks,
                n_passed: e.n_passed,
                elapsed_s: e.elapsed_s,
                report: Some(e.report_href.as_str()).filter(|h| !h.is_empty()),
                error: e.error.as_deref(),
            })
            .collect(),
    };
    let mut s = serde_json::to_string_pretty(&doc).map_err(|source| ReportError::Json {
        what: "summary.json",
        source,
    })?;
    s.push('\n');
    Ok(s)
}

fn index_html(entries: &[IndexEntry], meta: &RunMeta) -> String {
    let count = |v: &str| entries.iter().filter(|e| e.verdict == v).count();
    let mut h = page_start("gdlab studies", &meta.version);
    h.push_str("<h1>gdlab studies</h1>\n");
    h.push_str(&format!(
        "<p class=\"verdict\">{} studies: {} {} · {} {} · {} {}</p>\n",
        entries.len(),
        badge("PASS"),
        count("PASS"),
        badge("FAIL"),
        count("FAIL"),
        badge("ERROR"),
        count("ERROR"),
    ));
    h.push_str(&format!(
        "<p>{}</p>\n",
        markdown_to_html(&run_line(meta))
            .trim_end()
            .trim_start_matches("<p>")
            .trim_end_matches("</p>")
    ));
    h.push_str(TABLE_WRAP_OPEN);
    h.push_str(
        "<table>\n<thead><tr><th>study</th><th>title</th><th>paper</th><th>verdict</th>\
         <th class=\"num\">checks passed</th><th class=\"num\">elapsed (s)</th><th>error</th></tr></thead>\n<tbody>\n",
    );
    for e in entries {
        let id = if e.report_href.is_empty() {
            format!("<code>{}</code>", html_escape(&e.id))
        } else {
            format!(
                "<a href=\"{}\"><code>{}</code></a>",
                html_escape(&e.report_href),
                html_escape(&e.id)
            )
        };
        let paper = markdown_to_html(&e.paper);
        let paper = paper
            .trim_end()
            .trim_start_matches("<p>")
            .trim_end_matches("</p>");
        h.push_str(&format!(
            "<tr><td>{id}</td><td>{}</td><td>{paper}</td><td>{}</td>\
             <td class=\"num\">{}/{}</td><td class=\"num\">{}</td><td class=\"error\">{}</td></tr>\n",
            html_escape(&e.title),
            badge(&e.verdict),
            e.n_passed,
            e.n_checks,
            fmt_sig(e.elapsed_s, 3),
            html_escape(e.error.as_deref().unwrap_or("")),
        ));
    }
    h.push_str("</tbody>\n</table></div>\n");
    h.push_str(&format!(
        "<footer>Machine-readable: <a href=\"summary.json\">summary.json</a>. Written by gdlab {}.</footer>\n",
        html_escape(&meta.version)
    ));
    h.push_str(page_end());
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::{meta, temp_dir};
    use crate::verdict::{Check, Cmp};

    fn entries() -> Vec<IndexEntry> {
        let mut v = Verdict::default();
        v.push(Check::validation("a", 1.0, Cmp::Le, 2.0));
        v.push(Check::claim("b", 3.0, Cmp::Le, 2.0));
        vec![
            IndexEntry::from_verdict("ssvr", "Sign SVR", "Paper *A*", &v, 0.5),
            IndexEntry::errored(
                "bad-study",
                "Broken <one>",
                "Paper B",
                "config: `x` < 0",
                0.01,
            ),
        ]
    }

    #[test]
    fn index_and_summary_parse() {
        let dir = temp_dir("index");
        write_index(&dir, &entries(), &meta()).unwrap();
        let s: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap())
                .unwrap();
        let mut keys: Vec<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["mode", "seed", "studies", "version"]);
        assert_eq!(
            (s["mode"].as_str(), s["seed"].as_u64()),
            (Some("quick"), Some(42))
        );
        let studies = s["studies"].as_array().unwrap();
        assert_eq!(studies.len(), 2);
        let mut keys: Vec<&str> = studies[0]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "elapsed_s",
                "error",
                "id",
                "n_checks",
                "n_passed",
                "paper",
                "report",
                "title",
                "verdict"
            ]
        );
        assert_eq!(studies[0]["id"], "ssvr");
        assert_eq!(studies[0]["verdict"], "FAIL");
        assert_eq!(
            (
                studies[0]["n_checks"].as_u64(),
                studies[0]["n_passed"].as_u64()
            ),
            (Some(2), Some(1))
        );
        assert_eq!(studies[0]["report"], "ssvr/report.html");
        assert!(studies[0]["error"].is_null());
        assert_eq!(studies[1]["verdict"], "ERROR");
        assert_eq!(studies[1]["error"], "config: `x` < 0");
        assert!(studies[1]["report"].is_null());

        let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<a href=\"ssvr/report.html\"><code>ssvr</code></a>"));
        assert!(html.contains("<span class=\"badge fail\">FAIL</span>"));
        assert!(html.contains("<span class=\"badge error\">ERROR</span>"));
        assert!(html.contains("config: `x` &lt; 0"));
        assert!(html.contains("Broken &lt;one&gt;"));
        assert!(html.contains("<td class=\"num\">1/2</td>"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn index_rejects_bad_entries() {
        let dir = temp_dir("index-bad");
        let mut e = entries();
        e[0].verdict = "MAYBE".into();
        assert!(matches!(
            write_index(&dir, &e, &meta()),
            Err(ReportError::InvalidVerdict { .. })
        ));
        let mut e = entries();
        e[1].elapsed_s = f64::INFINITY;
        match write_index(&dir, &e, &meta()) {
            Err(ReportError::NonFinite { name }) => assert!(name.contains("bad-study")),
            other => panic!("{other:?}"),
        }
        assert!(!dir.exists());
        std::fs::create_dir_all(dir.parent().unwrap()).unwrap();
        std::fs::write(&dir, b"file").unwrap();
        assert!(matches!(
            write_index(&dir, &entries(), &meta()),
            Err(ReportError::OutDirIsFile { .. })
        ));
        std::fs::remove_file(&dir).unwrap();
    }

    #[test]
    fn index_is_deterministic() {
        let (a, b) = (temp_dir("index-det-a"), temp_dir("index-det-b"));
        write_index(&a, &entries(), &meta()).unwrap();
        write_index(&b, &entries(), &meta()).unwrap();
        for f in ["index.html", "summary.json"] {
            assert!(std::fs::read(a.join(f)).unwrap() == std::fs::read(b.join(f)).unwrap());
        }
        for d in [a, b] {
            std::fs::remove_dir_all(d).unwrap();
        }
    }
}
