//! The report writer: what a study shows, written as Markdown, HTML, SVG, CSV and JSON.
//!
//! A study fills a [`Report`] while it runs (headings, paragraphs, notes, tables, named
//! numbers, CSV tables and line plots) and returns a [`Verdict`]. The caller then calls
//! [`Report::finish`], which writes into the study's output directory:
//!
//! | file | content |
//! |---|---|
//! | `report.md` | title, paper, run (mode, seed), the verdict line `**Verdict: PASS**` with counts, the introduction ([`Report::intro`]), the checks table (every threshold next to its observed number), then the blocks in order |
//! | `report.html` | the same as one self-contained page: inline CSS, SVGs inlined, a green PASS / red FAIL badge with the counts, validation and claim checks marked apart, tables scrolling sideways on narrow screens |
//! | `NAME.svg`, `NAME.csv` | each line plot and the data behind it (`series,x,y`) |
//! | `NAME.csv` | each CSV table added with [`Report::csv`] |
//! | `metrics.json` | the machine-readable result, schema below |
//!
//! [`write_index`] writes the run's `index.html` and `summary.json` over all studies.
//!
//! # `metrics.json` schema (read by other tools; do not change casually)
//!
//! ```text
//! { "study": id, "title": str, "paper": str, "mode": "quick"|"full", "seed": u64,
//!   "verdict": "PASS"|"FAIL",
//!   "checks": [ { "claim": str, "kind": "validation"|"claim", "observed": f64,
//!                 "threshold": f64, "cmp": "<="|"<"|">="|">", "pass": bool,
//!                 "non_finite": true   /* only when the observed value was NaN/±∞ */ } ],
//!   "metrics": { name: any JSON, keys sorted },
//!   "elapsed_s": f64, "version": str }
//! ```
//!
//! # Guarantees
//! - **Nothing non-finite is written.** [`Report::number`], [`Report::metric`],
//!   [`Report::csv`] and [`Report::line_plot`] reject NaN and ±∞ with
//!   [`ReportError::NonFinite`] naming the value, at the call (not at `finish`).
//!   `finish` also checks thresholds and `elapsed_s`. A check whose observed value was not
//!   finite is recorded as [`Verdict`] prescribes: `observed = f64::MAX`,
//!   `non_finite = true`, printed as "non-finite" in the reports.
//! - **Atomic files.** Every file goes through [`gdlab_core::io::atomic_write`]; files
//!   from an earlier run in the same directory that this run does not produce are left
//!   alone.
//! - **Deterministic bytes.** Output depends only on the report's content, the
//!   [`RunMeta`] and the [`Verdict`]: no timestamps, no hash-map order (metric keys are
//!   sorted). Two runs with equal inputs write byte-identical files; note that
//!   `elapsed_s` is part of the inputs.
//!
//! Number formatting for people: [`fmt_num`] (6 significant digits); in the checks table
//! an observed value and its threshold get more digits until they print differently
//! (when they differ), and the comparison prints as `≤`, `<`, `≥`, `>` (`metrics.json`
//! keeps `<=`, `<`, `>=`, `>`). Table columns whose cells are numbers are right-aligned
//! ([`Report::table`]). CSV numbers are shortest round-trip decimals: parsing them gives
//! back the exact `f64`.

mod format;
mod heatmap;
mod html;
mod index;
mod plot;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

pub use self::format::fmt_num;
use self::format::{
    check_file_name, cmp_glyph, csv_document, fmt_data, fmt_pair, fmt_sig, is_blank_cell,
    is_numeric_cell, md_cell,
};
pub use self::heatmap::HeatMap;
pub use self::index::{write_index, IndexEntry};
pub use self::plot::{LegendPosition, LinePlot, Series, SeriesStyle};
use crate::error::ReportError;
use crate::verdict::{CheckKind, Verdict};

/// What a run was: written into every report, `metrics.json` and the index.
#[derive(Clone, Debug, PartialEq)]
pub struct RunMeta {
    /// `"quick"` or `"full"`.
    pub mode: String,
    /// The run's root seed.
    pub seed: u64,
    /// Wall-clock seconds: the study's own time in [`Report::finish`], the whole run's in
    /// [`write_index`] (shown in `index.html` only). Must be finite.
    pub elapsed_s: f64,
    /// The gdlab version, e.g. `env!("CARGO_PKG_VERSION")`.
    pub version: String,
}

/// The files [`Report::finish`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    /// The output directory.
    pub dir: PathBuf,
    /// Every file written, in writing order: data files (CSV, SVG) in the order they were
    /// added, then `metrics.json`, `report.md`, `report.html`.
    pub files: Vec<PathBuf>,
}

/// How a table column is aligned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Align {
    /// Flush left (text).
    #[default]
    Left,
    /// Centred.
    Center,
    /// Flush right (numbers).
    Right,
}

impl Align {
    /// The Markdown delimiter cell: `---`, `:---:`, `---:`.
    fn md_delimiter(self) -> &'static str {
        match self {
            Align::Left => "---",
            Align::Center => ":---:",
            Align::Right => "---:",
        }
    }
}

/// One piece of the report body, in the order the study added it.
#[derive(Clone, Debug)]
enum Block {
    Heading(String),
    Paragraph(String),
    Note(String),
    Table {
        caption: String,
        headers: Vec<String>,
        align: Vec<Align>,
        rows: Vec<Vec<String>>,
    },
    Plot {
        name: String,
        title: String,
        caption: String,
        svg: String,
    },
    Image {
        name: String,
        caption: String,
        png: Vec<u8>,
    },
}

/// A study's report under construction; [`Report::finish`] writes it out.
///
/// See the [module docs](self) for the files, the `metrics.json` schema and the
/// guarantees (no non-finite numbers, atomic and deterministic files).
///
/// # Examples
/// ```
/// use gdlab_studies::report::{LinePlot, Report, RunMeta, Series};
/// use gdlab_studies::verdict::{Check, Cmp, Verdict};
///
/// let mut report = Report::new("demo", "A demo study", "Doe & Roe (2024), *A paper*, Fig. 2");
/// report.paragraph("We run gradient descent on $f(x) = x^2/2$.");
/// report.number("final_loss", 1.5e-9)?;
/// // NaN is refused, naming the metric:
/// assert!(report.number("bad", f64::NAN).is_err());
/// report.line_plot(
///     LinePlot::new("loss", "Loss per step", "step", "loss")
///         .log_y()
///         .with_series(Series::indexed("gd", vec![1.0, 0.25, 0.0625])),
/// )?;
///
/// let mut verdict = Verdict::default();
/// verdict.push(Check::validation("final loss ≤ 1e-6", 1.5e-9, Cmp::Le, 1e-6));
///
/// let dir = std::env::temp_dir().join(format!("gdlab-doc-report-{}", std::process::id()));
/// let meta = RunMeta { mode: "quick".into(), seed: 7, elapsed_s: 0.01, version: "0.1.0".into() };
/// let written = report.finish(&dir, &meta, &verdict)?;
/// assert_eq!(written.files.len(), 5); // loss.svg, loss.csv, metrics.json, report.md, report.html
///
/// let json: serde_json::Value =
///     serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json"))?)?;
/// assert_eq!(json["verdict"], "PASS");
/// assert_eq!(json["metrics"]["final_loss"], 1.5e-9);
/// assert!(std::fs::read_to_string(dir.join("report.md"))?.contains("**Verdict: PASS**"));
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Report {
    study_id: String,
    title: String,
    paper: String,
    /// Markdown paragraphs shown before the checks table.
    intro: Vec<String>,
    blocks: Vec<Block>,
    /// Metrics in insertion order (written sorted by key).
    metrics: Vec<(String, Value)>,
    /// Data files `(file name, content)` in insertion order.
    files: Vec<(String, String)>,
    /// Binary files (PNG images) `(file name, bytes)` in insertion order.
    binaries: Vec<(String, Vec<u8>)>,
}

impl Report {
    /// An empty report for study `study_id` with its title and paper citation (Markdown).
    #[must_use]
    pub fn new(study_id: &str, title: &str, paper: &str) -> Self {
        Report {
            study_id: study_id.to_string(),
            title: title.to_string(),
            paper: paper.to_string(),
            intro: Vec::new(),
            blocks: Vec::new(),
            metrics: Vec::new(),
            files: Vec::new(),
            binaries: Vec::new(),
        }
    }

    /// The study id given to [`Report::new`].
    #[must_use]
    pub fn study_id(&self) -> &str {
        &self.study_id
    }

    /// The title given to [`Report::new`].
    #[must_use]
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The paper citation given to [`Report::new`].
    #[must_use]
    pub fn paper(&self) -> &str {
        &self.paper
    }

    /// Adds Markdown to the introduction, shown right after the header and verdict line
    /// and before the checks table: the study's opening paragraph (what is claimed, what
    /// is computed). Each call adds a paragraph.
    pub fn intro(&mut self, markdown: &str) {
        self.intro.push(markdown.to_string());
    }

    /// Adds a section heading (`## text` in Markdown).
    pub fn heading(&mut self, text: &str) {
        self.blocks.push(Block::Heading(text.to_string()));
    }

    /// Adds a paragraph of Markdown.
    pub fn paragraph(&mut self, markdown: &str) {
        self.blocks.push(Block::Paragraph(markdown.to_string()));
    }

    /// Adds an emphasised caveat, e.g. "derived benchmark, not from the paper"
    /// (a `> **Note:**` quote in Markdown, a highlighted box in HTML).
    pub fn note(&mut self, markdown: &str) {
        self.blocks.push(Block::Note(markdown.to_string()));
    }

    /// Adds a table; cells are Markdown (format numbers with [`fmt_num`]).
    ///
    /// A column is right-aligned when its cells are numbers (`1.5e-9`, `−2`, `**0.3**`,
    /// `12%`, `NaN`), ignoring blank cells and placeholders (`—`, `-`, `n/a`, `none`) as
    /// long as one cell is a number; other columns are left-aligned. Use
    /// [`Report::table_aligned`] to choose.
    ///
    /// # Errors
    /// [`ReportError::Shape`] if a row's length differs from the number of headers, or
    /// there are no headers.
    pub fn table(
        &mut self,
        caption: &str,
        headers: &[&str],
        rows: Vec<Vec<String>>,
    ) -> Result<(), ReportError> {
        check_table_shape(caption, headers, &rows)?;
        let align = (0..headers.len())
            .map(|j| {
                let cells = rows.iter().map(|r| r[j].as_str());
                let numeric = cells.clone().any(is_numeric_cell)
                    && cells
                        .clone()
                        .all(|c| is_numeric_cell(c) || is_blank_cell(c));
                if numeric {
                    Align::Right
                } else {
                    Align::Left
                }
            })
            .collect();
        self.push_table(caption, headers, align, rows);
        Ok(())
    }

    /// Adds a table with the given column alignment (see [`Report::table`]).
    ///
    /// # Errors
    /// [`ReportError::Shape`] if a row's length, or the length of `align`, differs from
    /// the number of headers, or there are no headers.
    pub fn table_aligned(
        &mut self,
        caption: &str,
        headers: &[&str],
        align: &[Align],
        rows: Vec<Vec<String>>,
    ) -> Result<(), ReportError> {
        check_table_shape(caption, headers, &rows)?;
        if align.len() != headers.len() {
            return Err(ReportError::Shape {
                name: format!("table `{caption}`"),
                what: "number of column alignments".into(),
                expected: headers.len(),
                got: align.len(),
            });
        }
        self.push_table(caption, headers, align.to_vec(), rows);
        Ok(())
    }

    fn push_table(
        &mut self,
        caption: &str,
        headers: &[&str],
        align: Vec<Align>,
        rows: Vec<Vec<String>>,
    ) {
        self.blocks.push(Block::Table {
            caption: caption.to_string(),
            headers: headers.iter().map(|h| (*h).to_string()).collect(),
            align,
            rows,
        });
    }

    /// Records a named number in `metrics.json` and in the report's "Recorded numbers".
    ///
    /// # Errors
    /// [`ReportError::NonFinite`] naming the metric if `value` is NaN or ±∞;
    /// [`ReportError::Duplicate`] if the name was used before;
    /// [`ReportError::InvalidName`] if it is empty.
    pub fn number(&mut self, name: &str, value: f64) -> Result<(), ReportError> {
        if !value.is_finite() {
            return Err(ReportError::NonFinite {
                name: name.to_string(),
            });
        }
        self.metric(name, Value::from(value))
    }

    /// Records any JSON value (numbers, arrays, objects) under `name` in `metrics.json`.
    ///
    /// # Errors
    /// [`ReportError::Null`] if `null` occurs anywhere inside (`serde_json` turns NaN and
    /// ±∞ into `null`, so `json!({"loss": f64::NAN})` is caught here);
    /// [`ReportError::NonFinite`] for a non-finite number (possible only with exotic
    /// `serde_json` features); [`ReportError::Duplicate`]; [`ReportError::InvalidName`].
    /// Errors name the path inside the value, e.g. `runs[2].loss`.
    pub fn metric(&mut self, name: &str, value: Value) -> Result<(), ReportError> {
        if name.is_empty() {
            return Err(ReportError::InvalidName {
                name: String::new(),
                reason: "a metric name must not be empty",
            });
        }
        if self.metrics.iter().any(|(n, _)| n == name) {
            return Err(ReportError::Duplicate {
                name: name.to_string(),
                what: "metric",
            });
        }
        check_json(&value, name)?;
        self.metrics.push((name.to_string(), value));
        Ok(())
    }

    /// Adds a CSV table, written as `NAME.csv` and listed under "Files" in the report.
    /// `columns[j]` is the column under `headers[j]`; numbers are written as shortest
    /// round-trip decimals.
    ///
    /// # Errors
    /// [`ReportError::InvalidName`] unless `name` is a plain file stem (ASCII letters,
    /// digits, `_`, `-`, `.`); [`ReportError::Empty`] without columns;
    /// [`ReportError::Shape`] if `headers` and `columns` differ in number or the columns in
    /// length; [`ReportError::NonFinite`] naming the cell (`name/header[row]`);
    /// [`ReportError::Duplicate`] if `NAME.csv` was already added.
    pub fn csv(
        &mut self,
        name: &str,
        headers: &[&str],
        columns: &[Vec<f64>],
    ) -> Result<(), ReportError> {
        check_file_name(name)?;
        if columns.is_empty() {
            return Err(ReportError::Empty {
                name: name.to_string(),
                what: "a CSV table needs at least one column",
            });
        }
        if headers.len() != columns.len() {
            return Err(ReportError::Shape {
                name: name.to_string(),
                what: "number of headers (must equal the number of columns)".into(),
                expected: columns.len(),
                got: headers.len(),
            });
        }
        let n_rows = columns[0].len();
        for (j, col) in columns.iter().enumerate() {
            if col.len() != n_rows {
                return Err(ReportError::Shape {
                    name: name.to_string(),
                    what: format!("length of column `{}`", headers[j]),
                    expected: n_rows,
                    got: col.len(),
                });
            }
            if let Some(i) = col.iter().position(|v| !v.is_finite()) {
                return Err(ReportError::NonFinite {
                    name: format!("{name}/{}[{i}]", headers[j]),
                });
            }
        }
        let rows = (0..n_rows).map(|i| columns.iter().map(|c| fmt_data(c[i])).collect());
        let content = csv_document(headers, rows);
        self.add_file(format!("{name}.csv"), content)
    }

    /// Renders a line plot to `NAME.svg`, writes its data to `NAME.csv`, and shows it in
    /// the report at this point (an image in Markdown, inlined SVG in HTML).
    ///
    /// The SVG (and the HTML page that inlines it) grows linearly with the number of
    /// points: record long traces at log-spaced steps, or thin them, to keep a plot to a
    /// few thousand points per series. The CSV holds exactly the points given.
    ///
    /// # Errors
    /// Everything listed in [`LinePlot`]'s rules ([`ReportError::Empty`],
    /// [`ReportError::Shape`], [`ReportError::NonFinite`],
    /// [`ReportError::NonPositiveOnLogAxis`], [`ReportError::InvalidName`]);
    /// [`ReportError::Duplicate`] if `NAME.svg` or `NAME.csv` exists in this report;
    /// [`ReportError::Plot`] if drawing fails.
    pub fn line_plot(&mut self, plot: LinePlot) -> Result<(), ReportError> {
        let svg = plot.render_svg()?;
        let (svg_name, csv_name) = (format!("{}.svg", plot.name), format!("{}.csv", plot.name));
        for f in [&svg_name, &csv_name] {
            self.check_new_file(f)?;
        }
        self.add_file(svg_name, svg.clone())?;
        self.add_file(csv_name, plot.data_csv())?;
        self.blocks.push(Block::Plot {
            name: plot.name,
            title: plot.title,
            caption: plot.caption,
            svg,
        });
        Ok(())
    }

    /// Adds a PNG image `NAME.png` (written next to the report, embedded in the HTML page,
    /// linked from the Markdown) with a caption (Markdown).
    ///
    /// # Errors
    /// [`ReportError::Duplicate`] if `NAME.png` exists in this report;
    /// [`ReportError::InvalidName`] if the name is empty.
    pub fn image_png(
        &mut self,
        name: &str,
        caption: &str,
        png: Vec<u8>,
    ) -> Result<(), ReportError> {
        if name.is_empty() {
            return Err(ReportError::InvalidName {
                name: name.to_string(),
                reason: "a non-empty file stem",
            });
        }
        let file = format!("{name}.png");
        self.check_new_file(&file)?;
        self.binaries.push((file, png.clone()));
        self.blocks.push(Block::Image {
            name: name.to_string(),
            caption: caption.to_string(),
            png,
        });
        Ok(())
    }

    fn check_new_file(&self, file: &str) -> Result<(), ReportError> {
        if self.files.iter().any(|(f, _)| f == file) || self.binaries.iter().any(|(f, _)| f == file)
        {
            return Err(ReportError::Duplicate {
                name: file.to_string(),
                what: "file",
            });
        }
        Ok(())
    }

    fn add_file(&mut self, file: String, content: String) -> Result<(), ReportError> {
        self.check_new_file(&file)?;
        self.files.push((file, content));
        Ok(())
    }

    /// Writes the report into `dir` (created if missing): the data files, `metrics.json`,
    /// `report.md` and `report.html` (see the [module docs](self)).
    ///
    /// Everything is validated and rendered in memory before the first file is written.
    ///
    /// # Errors
    /// - [`ReportError::NoChecks`] if the verdict has no checks;
    /// - [`ReportError::NonFinite`] if a check's threshold (or an observed value not
    ///   flagged `non_finite`) or `meta.elapsed_s` is not finite;
    /// - [`ReportError::OutDirIsFile`] if `dir` exists and is not a directory;
    /// - [`ReportError::Io`] naming the path when creating the directory or writing fails;
    /// - [`ReportError::Json`] if serialization fails.
    pub fn finish(
        self,
        dir: &Path,
        meta: &RunMeta,
        verdict: &Verdict,
    ) -> Result<Written, ReportError> {
        self.validate(meta, verdict)?;
        let metrics_json = self.metrics_json(meta, verdict)?;
        let markdown = self.render_markdown(meta, verdict);
        let page = html::render_page(&self, meta, verdict);

        prepare_dir(dir)?;
        let mut written = Vec::new();
        let mut write = |file: &str, bytes: &[u8]| -> Result<(), ReportError> {
            let path = dir.join(file);
            gdlab_core::io::atomic_write(&path, bytes)?;
            written.push(path);
            Ok(())
        };
        for (file, content) in &self.files {
            write(file, content.as_bytes())?;
        }
        for (file, bytes) in &self.binaries {
            write(file, bytes)?;
        }
        write("metrics.json", metrics_json.as_bytes())?;
        write("report.md", markdown.as_bytes())?;
        write("report.html", page.as_bytes())?;
        Ok(Written {
            dir: dir.to_path_buf(),
            files: written,
        })
    }

    fn validate(&self, meta: &RunMeta, verdict: &Verdict) -> Result<(), ReportError> {
        if verdict.checks.is_empty() {
            return Err(ReportError::NoChecks {
                study: self.study_id.clone(),
            });
        }
        for (i, c) in verdict.checks.iter().enumerate() {
            for (what, v) in [("threshold", c.threshold), ("observed", c.observed)] {
                if !v.is_finite() {
                    return Err(ReportError::NonFinite {
                        name: format!("{what} of check {i} ({:?})", c.claim),
                    });
                }
            }
        }
        if !meta.elapsed_s.is_finite() {
            return Err(ReportError::NonFinite {
                name: "elapsed_s".into(),
            });
        }
        Ok(())
    }

    /// `metrics.json`, pretty-printed, with a final newline.
    fn metrics_json(&self, meta: &RunMeta, verdict: &Verdict) -> Result<String, ReportError> {
        #[derive(Serialize)]
        struct Doc<'a> {
            study: &'a str,
            title: &'a str,
            paper: &'a str,
            mode: &'a str,
            seed: u64,
            verdict: &'static str,
            checks: &'a [crate::verdict::Check],
            metrics: BTreeMap<&'a str, &'a Value>,
            elapsed_s: f64,
            version: &'a str,
        }
        let doc = Doc {
            study: &self.study_id,
            title: &self.title,
            paper: &self.paper,
            mode: &meta.mode,
            seed: meta.seed,
            verdict: verdict.label(),
            checks: &verdict.checks,
            metrics: self.metrics.iter().map(|(k, v)| (k.as_str(), v)).collect(),
            elapsed_s: meta.elapsed_s,
            version: &meta.version,
        };
        let mut s = serde_json::to_string_pretty(&doc).map_err(|source| ReportError::Json {
            what: "metrics.json",
            source,
        })?;
        s.push('\n');
        Ok(s)
    }

    /// `report.md`.
    fn render_markdown(&self, meta: &RunMeta, verdict: &Verdict) -> String {
        let mut md = String::new();
        let one_line = |s: &str| s.replace(['\r', '\n'], " ");
        md.push_str(&format!("# {}\n\n", one_line(&self.title)));
        md.push_str(&format!("- **Study:** `{}`\n", one_line(&self.study_id)));
        md.push_str(&format!("- **Paper:** {}\n", one_line(&self.paper)));
        md.push_str(&format!("- **Run:** {}\n\n", run_line(meta)));
        md.push_str(&format!(
            "**Verdict: {}** — {}\n\n",
            verdict.label(),
            verdict_counts(verdict)
        ));
        for text in &self.intro {
            md.push_str(&format!("{}\n\n", text.trim_end()));
        }
        md.push_str("## Checks\n\n");
        md.push_str(CHECK_KINDS_MD);
        md.push_str("\n\n| claim | kind | observed | cmp | threshold | pass |\n");
        md.push_str("|---|---|---:|:---:|---:|:---:|\n");
        for c in &verdict.checks {
            let (observed, threshold) = check_numbers(c);
            md.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                md_cell(&c.claim),
                c.kind,
                observed,
                cmp_glyph(c.cmp),
                threshold,
                if c.pass { "✅ pass" } else { "❌ **FAIL**" },
            ));
        }
        md.push('\n');
        for block in &self.blocks {
            md.push_str(&block_markdown(block));
        }
        md.push_str(&self.numbers_markdown());
        md.push_str(&self.files_markdown());
        md
    }

    /// The "Recorded numbers" section (empty when there are no metrics).
    fn numbers_markdown(&self) -> String {
        if self.metrics.is_empty() {
            return String::new();
        }
        let mut md = String::from(
            "## Recorded numbers\n\n6 significant digits; full precision in \
             [metrics.json](metrics.json).\n\n| name | value |\n|---|---:|\n",
        );
        for (name, value) in &self.metrics {
            let shown = match value.as_f64() {
                Some(v) if value.is_number() => fmt_num(v),
                _ => "*(structured; see metrics.json)*".to_string(),
            };
            md.push_str(&format!("| `{}` | {} |\n", md_cell(name), shown));
        }
        md.push('\n');
        md
    }

    /// The "Files" section: links to the data files and `metrics.json`.
    fn files_markdown(&self) -> String {
        let mut md = String::from("## Files\n\n- [metrics.json](metrics.json)\n");
        for (file, _) in &self.files {
            md.push_str(&format!("- [{file}]({file})\n"));
        }
        md
    }
}

/// Explains the two kinds of check (Markdown, shared by `report.md` and `report.html`).
const CHECK_KINDS_MD: &str = "*Validation* checks compare the implementation with a closed \
    form, a reference value or an independent implementation: a failure is a bug. *Claim* \
    checks test the paper's empirical claim on this run: a failure is an honest negative \
    result. Each observed number is printed next to the threshold it was compared with.";

/// `mode quick · seed 42 · 1.23 s · gdlab 0.1.0`.
fn run_line(meta: &RunMeta) -> String {
    format!(
        "mode `{}` · seed `{}` · {} s · gdlab {}",
        meta.mode,
        meta.seed,
        fmt_sig(meta.elapsed_s, 3),
        meta.version
    )
}

/// `3 of 3 checks passed (validation 2/2, claim 1/1).`
fn verdict_counts(verdict: &Verdict) -> String {
    let count = |kind: Option<CheckKind>| {
        let sel: Vec<_> = verdict
            .checks
            .iter()
            .filter(|c| kind.is_none_or(|k| c.kind == k))
            .collect();
        (sel.iter().filter(|c| c.pass).count(), sel.len())
    };
    let (p, n) = count(None);
    let (pv, nv) = count(Some(CheckKind::Validation));
    let (pc, nc) = count(Some(CheckKind::Claim));
    format!("{p} of {n} checks passed (validation {pv}/{nv}, claim {pc}/{nc}).")
}

/// Observed and threshold as printed in the checks tables.
fn check_numbers(c: &crate::verdict::Check) -> (String, String) {
    let (o, t) = fmt_pair(c.observed, c.threshold);
    if c.non_finite {
        ("non-finite (NaN/±∞)".to_string(), t)
    } else {
        (o, t)
    }
}

/// The Markdown of one body block.
fn block_markdown(block: &Block) -> String {
    match block {
        Block::Heading(text) => format!("## {}\n\n", text.replace(['\r', '\n'], " ")),
        Block::Paragraph(text) => format!("{}\n\n", text.trim_end()),
        Block::Note(text) => {
            let mut md = String::new();
            for (i, line) in text.trim_end().lines().enumerate() {
                if i == 0 {
                    md.push_str(&format!("> **Note:** {line}\n"));
                } else {
                    md.push_str(&format!("> {line}\n"));
                }
            }
            md.push('\n');
            md
        }
        Block::Table {
            caption,
            headers,
            align,
            rows,
        } => {
            let mut md = String::new();
            if !caption.is_empty() {
                md.push_str(&format!("**Table:** {}\n\n", caption.trim_end()));
            }
            let cells = |r: &[String]| r.iter().map(|c| md_cell(c)).collect::<Vec<_>>().join(" | ");
            md.push_str(&format!("| {} |\n", cells(headers)));
            let delimiters: Vec<&str> = align.iter().map(|a| a.md_delimiter()).collect();
            md.push_str(&format!("|{}|\n", delimiters.join("|")));
            for row in rows {
                md.push_str(&format!("| {} |\n", cells(row)));
            }
            md.push('\n');
            md
        }
        Block::Plot {
            name,
            title,
            caption,
            ..
        } => {
            let mut md = format!("![{}]({name}.svg)\n\n", title.replace(['[', ']'], ""));
            md.push_str("**Figure:** ");
            if !caption.is_empty() {
                md.push_str(&format!("{} ", caption.trim_end()));
            }
            md.push_str(&format!("Data: [{name}.csv]({name}.csv).\n\n"));
            md
        }
        Block::Image { name, caption, .. } => {
            format!(
                "![{name}]({name}.png)\n\n**Figure:** {}\n\n",
                caption.trim_end()
            )
        }
    }
}

/// A table needs headers, and every row as many cells as there are headers.
fn check_table_shape(
    caption: &str,
    headers: &[&str],
    rows: &[Vec<String>],
) -> Result<(), ReportError> {
    if headers.is_empty() {
        return Err(ReportError::Shape {
            name: format!("table `{caption}`"),
            what: "number of headers (at least)".into(),
            expected: 1,
            got: 0,
        });
    }
    for (i, row) in rows.iter().enumerate() {
        if row.len() != headers.len() {
            return Err(ReportError::Shape {
                name: format!("table `{caption}`"),
                what: format!("row {i} length"),
                expected: headers.len(),
                got: row.len(),
            });
        }
    }
    Ok(())
}

/// Creates `dir` if needed; refuses an existing path that is not a directory.
fn prepare_dir(dir: &Path) -> Result<(), ReportError> {
    if dir.exists() && !dir.is_dir() {
        return Err(ReportError::OutDirIsFile {
            path: dir.to_path_buf(),
        });
    }
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Io {
        op: "creating directory",
        path: dir.to_path_buf(),
        source,
    })
}

/// Rejects `null` and non-finite numbers anywhere in `value`; `path` names the position.
fn check_json(value: &Value, path: &str) -> Result<(), ReportError> {
    match value {
        Value::Null => Err(ReportError::Null {
            name: path.to_string(),
        }),
        Value::Number(n) => match n.as_f64() {
            Some(v) if v.is_finite() => Ok(()),
            _ => Err(ReportError::NonFinite {
                name: path.to_string(),
            }),
        },
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| check_json(v, &format!("{path}[{i}]"))),
        Value::Object(map) => map
            .iter()
            .try_for_each(|(k, v)| check_json(v, &format!("{path}.{k}"))),
        Value::Bool(_) | Value::String(_) => Ok(()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::verdict::{Check, Cmp};

    /// A fresh, empty directory under the system temp dir, unique per process and tag.
    pub(crate) fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("gdlab-report-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    pub(crate) fn meta() -> RunMeta {
        RunMeta {
            mode: "quick".into(),
            seed: 42,
            elapsed_s: 1.25,
            version: "0.1.0".into(),
        }
    }

    fn verdict() -> Verdict {
        let mut v = Verdict::default();
        v.push(Check::validation(
            "gradient matches finite differences",
            3.2e-11,
            Cmp::Le,
            1e-8,
        ));
        v.push(Check::claim(
            "final loss | below 0.01",
            0.009_999_999_9,
            Cmp::Lt,
            0.01,
        ));
        v
    }

    fn full_report() -> Report {
        let mut r = Report::new(
            "demo-study",
            "A demo <study>",
            "Doe (2024), [arXiv](https://arxiv.org)",
        );
        r.heading("Setup");
        r.paragraph("Gradient descent on a **quadratic**.");
        r.note("derived benchmark, not from the paper");
        r.table(
            "final losses",
            &["method", "loss"],
            vec![
                vec!["gd".into(), fmt_num(0.001)],
                vec!["a|b".into(), fmt_num(2.0)],
            ],
        )
        .unwrap();
        r.number("final_loss", 0.001).unwrap();
        r.metric(
            "per_run",
            serde_json::json!({"runs": [1.5, 2.5], "name": "gd"}),
        )
        .unwrap();
        r.csv(
            "trace",
            &["step", "loss"],
            &[vec![0.0, 1.0, 2.0], vec![1.0, 0.1, 1.0 / 3.0]],
        )
        .unwrap();
        r.line_plot(
            LinePlot::new("loss", "Loss per step", "step", "loss")
                .log_y()
                .with_series(Series::indexed("gd", vec![1.0, 0.1, 0.01]))
                .with_series(Series::new("single", vec![1.0], vec![0.5]))
                .with_caption("Loss of *gd*."),
        )
        .unwrap();
        r
    }

    fn read(dir: &Path, file: &str) -> String {
        std::fs::read_to_string(dir.join(file)).unwrap()
    }

    #[test]
    fn finished_report_has_all_files() {
        let dir = temp_dir("all-files");
        let w = full_report().finish(&dir, &meta(), &verdict()).unwrap();
        let names: Vec<String> = w
            .files
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "trace.csv",
                "loss.svg",
                "loss.csv",
                "metrics.json",
                "report.md",
                "report.html"
            ]
        );
        for p in &w.files {
            assert!(p.is_file(), "{}", p.display());
            assert_eq!(p.parent(), Some(dir.as_path()));
        }
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");

        let md = read(&dir, "report.md");
        assert!(md.starts_with("# A demo <study>\n"));
        assert!(
            md.contains("**Verdict: PASS** — 2 of 2 checks passed (validation 1/1, claim 1/1).")
        );
        assert!(md.contains("| claim | kind | observed | cmp | threshold | pass |"));
        // every threshold next to its observed value, with enough digits to tell them apart
        assert!(md.contains(
            "| gradient matches finite differences | validation | 3.2e-11 | ≤ | 1e-8 | ✅ pass |"
        ));
        assert!(
            md.contains(
                "| final loss \\| below 0.01 | claim | 0.0099999999 | < | 0.01 | ✅ pass |"
            ),
            "{md}"
        );
        assert!(md.contains("![Loss per step](loss.svg)"));
        assert!(md.contains("> **Note:** derived benchmark"));
        assert!(md.contains("| a\\|b | 2 |"));
        // blocks in order
        let pos = |s: &str| md.find(s).unwrap();
        assert!(pos("## Checks") < pos("## Setup"));
        assert!(pos("## Setup") < pos("**Table:** final losses"));
        assert!(pos("**Table:** final losses") < pos("![Loss per step]"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn metrics_json_has_exactly_the_schema() {
        let dir = temp_dir("schema");
        let mut v = verdict();
        v.push(Check::claim("diverges never", f64::NAN, Cmp::Le, 1.0));
        full_report().finish(&dir, &meta(), &v).unwrap();
        let j: Value = serde_json::from_str(&read(&dir, "metrics.json")).unwrap();
        let keys: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
        let mut expected = [
            "study",
            "title",
            "paper",
            "mode",
            "seed",
            "verdict",
            "checks",
            "metrics",
            "elapsed_s",
            "version",
        ];
        expected.sort_unstable();
        assert_eq!(keys, expected); // serde_json's Map is sorted
        assert_eq!(j["study"], "demo-study");
        assert_eq!(j["mode"], "quick");
        assert_eq!(j["seed"], 42);
        assert_eq!(j["verdict"], "FAIL");
        assert_eq!(j["elapsed_s"], 1.25);
        assert_eq!(j["version"], "0.1.0");
        let checks = j["checks"].as_array().unwrap();
        assert_eq!(checks.len(), 3);
        for c in checks {
            let mut ks: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
            ks.retain(|k| *k != "non_finite");
            assert_eq!(
                ks,
                ["claim", "cmp", "kind", "observed", "pass", "threshold"]
            );
        }
        assert_eq!(checks[0]["kind"], "validation");
        assert_eq!(checks[0]["cmp"], "<=");
        assert_eq!(checks[0]["observed"], 3.2e-11);
        assert_eq!(checks[2]["non_finite"], true);
        assert_eq!(checks[2]["observed"], f64::MAX);
        assert_eq!(checks[2]["pass"], false);
        assert!(checks[0].get("non_finite").is_none());
        assert_eq!(j["metrics"]["final_loss"], 0.001);
        assert_eq!(j["metrics"]["per_run"]["runs"][1], 2.5);
        // parses back into the crate's own types
        let back: Vec<Check> = serde_json::from_value(j["checks"].clone()).unwrap();
        assert_eq!(back, v.checks);
        // and the reports say "non-finite" rather than printing f64::MAX
        let md = read(&dir, "report.md");
        assert!(
            md.contains("| diverges never | claim | non-finite (NaN/±∞) | ≤ | 1 | ❌ **FAIL** |")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn non_finite_values_are_rejected_by_name() {
        let mut r = Report::new("s", "t", "p");
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            match r.number("final_loss", bad) {
                Err(ReportError::NonFinite { name }) => assert_eq!(name, "final_loss"),
                other => panic!("{other:?}"),
            }
        }
        // serde_json turns NaN into null; null is refused with its path
        let v = serde_json::json!({"runs": [{"loss": 1.0}, {"loss": f64::NAN}]});
        match r.metric("sweep", v) {
            Err(ReportError::Null { name }) => assert_eq!(name, "sweep.runs[1].loss"),
            other => panic!("{other:?}"),
        }
        match r.csv(
            "trace",
            &["a", "b"],
            &[vec![1.0, 2.0], vec![3.0, f64::INFINITY]],
        ) {
            Err(ReportError::NonFinite { name }) => assert_eq!(name, "trace/b[1]"),
            other => panic!("{other:?}"),
        }
        // nothing was recorded by the failed calls
        assert!(r.metrics.is_empty() && r.files.is_empty());
        r.number("final_loss", 1.0).unwrap();

        let dir = temp_dir("nonfinite");
        let mut v = Verdict::default();
        v.push(Check::claim("c", 1.0, Cmp::Le, f64::NAN));
        match r.clone().finish(&dir, &meta(), &v) {
            Err(ReportError::NonFinite { name }) => {
                assert!(name.starts_with("threshold of check 0"))
            }
            other => panic!("{other:?}"),
        }
        let mut m = meta();
        m.elapsed_s = f64::NAN;
        match r.finish(&dir, &m, &verdict()) {
            Err(ReportError::NonFinite { name }) => assert_eq!(name, "elapsed_s"),
            other => panic!("{other:?}"),
        }
        assert!(!dir.exists(), "nothing is written when validation fails");
    }

    #[test]
    fn csv_round_trips() {
        let cols = vec![
            vec![0.0, 1.0, 2.0, 3.0],
            vec![0.1, 1.0 / 3.0, -2.5e-300, f64::MAX],
        ];
        let mut r = Report::new("s", "t", "p");
        r.csv("data", &["step", "loss, total"], &cols).unwrap();
        let dir = temp_dir("csv");
        r.finish(&dir, &meta(), &verdict()).unwrap();
        let text = read(&dir, "data.csv");
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("step,\"loss, total\""));
        let mut back = [Vec::new(), Vec::new()];
        for line in lines {
            for (j, cell) in line.split(',').enumerate() {
                back[j].push(cell.parse::<f64>().unwrap());
            }
        }
        for (a, b) in cols.iter().flatten().zip(back.iter().flatten()) {
            assert_eq!(a.to_bits(), b.to_bits());
        }
        assert_eq!(back[1].len(), 4);
        let plot_csv = LinePlot::new("p", "t", "x", "y")
            .with_series(Series::new("s", vec![1.0, 2.0], vec![0.1, 0.2]))
            .data_csv();
        assert_eq!(plot_csv, "series,x,y\ns,1,0.1\ns,2,0.2\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn html_is_self_contained_with_inlined_svg_and_verdict() {
        let dir = temp_dir("html");
        full_report().finish(&dir, &meta(), &verdict()).unwrap();
        let html = read(&dir, "report.html");
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<svg"));
        assert!(!html.contains("<?xml"));
        assert!(!html.contains("<img"), "plots are inlined, not referenced");
        assert!(!html.contains("<script"));
        // the verdict: a badge and the counts, PASS printed once
        assert!(html.contains(
            "<p class=\"verdict\"><span class=\"badge pass\">PASS</span> 2 of 2 checks passed"
        ));
        assert_eq!(html.matches(">PASS<").count(), 1);
        assert!(!html.contains("Verdict: PASS"));
        // comparisons as glyphs, the pass column unbroken
        assert!(html.contains("<td class=\"cmp\">≤</td>"));
        assert!(html.contains("<td class=\"cmp\">&lt;</td>"));
        assert!(html.contains("<td class=\"pass\"><span class=\"ok\">✔ pass</span></td>"));
        assert!(html.contains("td.pass { white-space: nowrap; }"));
        // every table scrolls sideways inside its wrapper
        assert_eq!(
            html.matches("<table").count(),
            3,
            "checks, final losses, numbers"
        );
        assert_eq!(
            html.matches("<div class=\"table-wrap\" style=\"overflow-x:auto\"><table")
                .count(),
            3
        );
        assert_eq!(html.matches("</table></div>").count(), 3);
        // numeric columns of Markdown tables are right-aligned
        assert!(
            html.contains("<td style=\"text-align: right\">0.001</td>"),
            "{html}"
        );
        assert!(html.contains("<span class=\"kind validation\">validation</span>"));
        assert!(html.contains("<span class=\"kind claim\">claim</span>"));
        assert!(html.contains("<h1>A demo &lt;study&gt;</h1>"));
        assert!(html.contains("<table>"), "Markdown tables are rendered");
        assert!(html.contains("<aside class=\"note\">"));
        assert!(html.contains("<a href=\"https://arxiv.org\">arXiv</a>"));
        assert_eq!(html.matches("<svg").count(), 1);

        let mut v = verdict();
        v.push(Check::claim("fails", 2.0, Cmp::Le, 1.0));
        let dir2 = temp_dir("html-fail");
        full_report().finish(&dir2, &meta(), &v).unwrap();
        let html = read(&dir2, "report.html");
        assert!(html.contains("<span class=\"badge fail\">FAIL</span>"));
        assert!(html.contains("<tr class=\"claim failed\">"));
        assert!(read(&dir2, "report.md").contains("**Verdict: FAIL** — 2 of 3 checks passed"));
        for d in [dir, dir2] {
            std::fs::remove_dir_all(d).unwrap();
        }
    }

    #[test]
    fn intro_comes_before_the_checks() {
        let mut r = full_report();
        r.intro("Recht and Ré *conjectured* that RR is never worse.");
        r.intro("We recompute the counterexample.");
        let dir = temp_dir("intro");
        r.finish(&dir, &meta(), &verdict()).unwrap();
        let md = read(&dir, "report.md");
        let pos = |s: &str| md.find(s).unwrap();
        assert!(pos("**Verdict: PASS**") < pos("Recht and Ré *conjectured*"));
        assert!(pos("Recht and Ré") < pos("We recompute"));
        assert!(pos("We recompute") < pos("## Checks"));
        let html = read(&dir, "report.html");
        let pos = |s: &str| html.find(s).unwrap();
        assert!(pos("class=\"verdict\"") < pos("<p>Recht and Ré <em>conjectured</em>"));
        assert!(pos("</dl>") < pos("<p>Recht and Ré"));
        assert!(pos("We recompute") < pos("<h2>Checks</h2>"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn numeric_columns_are_right_aligned() {
        let mut r = Report::new("s", "t", "p");
        r.table(
            "mixed",
            &["method", "loss", "first crossing", "exact"],
            vec![
                vec![
                    "gd".into(),
                    fmt_num(1e-9),
                    "none".into(),
                    "19/16 = 1.1875".into(),
                ],
                vec!["sgd".into(), "−2".into(), fmt_num(0.98), "1".into()],
            ],
        )
        .unwrap();
        r.table_aligned(
            "explicit",
            &["a", "b", "c"],
            &[Align::Center, Align::Left, Align::Right],
            vec![vec!["x".into(), "1".into(), "y".into()]],
        )
        .unwrap();
        assert!(matches!(
            r.table_aligned("bad", &["a", "b"], &[Align::Left], vec![]),
            Err(ReportError::Shape {
                expected: 2,
                got: 1,
                ..
            })
        ));
        assert!(matches!(
            r.table_aligned("bad", &["a"], &[Align::Left], vec![vec![]]),
            Err(ReportError::Shape { .. })
        ));
        let md: String = r.blocks.iter().map(block_markdown).collect();
        assert!(md.contains("| method | loss | first crossing | exact |\n|---|---:|---:|---|\n"));
        assert!(md.contains("| a | b | c |\n|:---:|---|---:|\n"));
        let html = html::markdown_to_html(&md);
        assert!(html.contains("<th style=\"text-align: right\">loss</th>"));
        assert!(html.contains("<td style=\"text-align: right\">1e-9</td>"));
        assert!(html.contains("<td>gd</td>"));
    }

    #[test]
    fn out_dir_that_is_a_file_is_refused() {
        let dir = temp_dir("is-file");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("not-a-dir");
        std::fs::write(&file, b"x").unwrap();
        match full_report().finish(&file, &meta(), &verdict()) {
            Err(ReportError::OutDirIsFile { path }) => assert_eq!(path, file),
            other => panic!("{other:?}"),
        }
        // a directory below a file cannot be created either: an I/O error naming the path
        let below = file.join("sub");
        match full_report().finish(&below, &meta(), &verdict()) {
            Err(ReportError::Io { path, .. }) => assert_eq!(path, below),
            other => panic!("{other:?}"),
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn identical_reports_are_byte_identical() {
        let (a, b) = (temp_dir("det-a"), temp_dir("det-b"));
        let wa = full_report().finish(&a, &meta(), &verdict()).unwrap();
        let wb = full_report().finish(&b, &meta(), &verdict()).unwrap();
        assert_eq!(wa.files.len(), wb.files.len());
        for (fa, fb) in wa.files.iter().zip(&wb.files) {
            assert_eq!(fa.file_name(), fb.file_name());
            assert!(
                std::fs::read(fa).unwrap() == std::fs::read(fb).unwrap(),
                "{} differs",
                fa.display()
            );
        }
        for d in [a, b] {
            std::fs::remove_dir_all(d).unwrap();
        }
    }

    #[test]
    fn metrics_are_written_sorted_whatever_the_insertion_order() {
        let (a, b) = (temp_dir("order-a"), temp_dir("order-b"));
        let mut r1 = Report::new("s", "t", "p");
        r1.number("zeta", 1.0).unwrap();
        r1.number("alpha", 2.0).unwrap();
        let mut r2 = Report::new("s", "t", "p");
        r2.number("alpha", 2.0).unwrap();
        r2.number("zeta", 1.0).unwrap();
        r1.finish(&a, &meta(), &verdict()).unwrap();
        r2.finish(&b, &meta(), &verdict()).unwrap();
        let (ja, jb) = (read(&a, "metrics.json"), read(&b, "metrics.json"));
        assert_eq!(ja, jb);
        assert!(ja.find("\"alpha\"").unwrap() < ja.find("\"zeta\"").unwrap());
        for d in [a, b] {
            std::fs::remove_dir_all(d).unwrap();
        }
    }

    #[test]
    fn misuse_is_reported() {
        let mut r = Report::new("s", "t", "p");
        r.number("x", 1.0).unwrap();
        assert!(matches!(
            r.number("x", 2.0),
            Err(ReportError::Duplicate { what: "metric", .. })
        ));
        assert!(matches!(
            r.number("", 2.0),
            Err(ReportError::InvalidName { .. })
        ));
        r.csv("loss", &["a"], &[vec![1.0]]).unwrap();
        let plot =
            LinePlot::new("loss", "t", "x", "y").with_series(Series::indexed("s", vec![1.0]));
        assert!(matches!(
            r.line_plot(plot),
            Err(ReportError::Duplicate { what: "file", .. })
        ));
        assert_eq!(r.blocks.len(), 0, "a refused plot leaves no trace");
        assert!(matches!(
            r.csv("c", &["a", "b"], &[vec![1.0], vec![1.0, 2.0]]),
            Err(ReportError::Shape {
                expected: 1,
                got: 2,
                ..
            })
        ));
        assert!(matches!(
            r.csv("c", &["a"], &[vec![1.0], vec![1.0]]),
            Err(ReportError::Shape { .. })
        ));
        assert!(matches!(
            r.csv("c", &[], &[]),
            Err(ReportError::Empty { .. })
        ));
        assert!(matches!(
            r.csv("a/b", &["a"], &[vec![1.0]]),
            Err(ReportError::InvalidName { .. })
        ));
        assert!(matches!(
            r.table("t", &["a", "b"], vec![vec!["1".into()]]),
            Err(ReportError::Shape {
                expected: 2,
                got: 1,
                ..
            })
        ));
        let dir = temp_dir("no-checks");
        assert!(matches!(
            r.finish(&dir, &meta(), &Verdict::default()),
            Err(ReportError::NoChecks { .. })
        ));
        assert!(!dir.exists());
    }

    #[test]
    fn public_types_are_send_sync_debug() {
        fn check<T: Send + Sync + std::fmt::Debug>() {}
        check::<Report>();
        check::<LinePlot>();
        check::<Series>();
        check::<RunMeta>();
        check::<Written>();
        check::<IndexEntry>();
        check::<ReportError>();
    }
}
