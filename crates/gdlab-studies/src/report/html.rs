//! `report.html`: one self-contained page (inline CSS, SVGs inlined, no scripts, no
//! external resources), so it opens from disk anywhere.

use pulldown_cmark::{html::push_html, Options, Parser};

use super::format::{cmp_glyph, html_escape};
use super::{
    block_markdown, check_numbers, fmt_num, run_line, verdict_counts, Block, Report, RunMeta,
    CHECK_KINDS_MD,
};
use crate::verdict::{CheckKind, Verdict};

/// The page's style sheet (also used by `index.html`).
pub(crate) const CSS: &str = r#"
:root { --pass: #1a7f37; --fail: #cf222e; --err: #9a6700; --val: #0550ae; --claim: #8250df;
        --line: #d0d7de; --muted: #57606a; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f8fa; color: #1f2328;
       font: 16px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
main { max-width: 60rem; margin: 0 auto; padding: 1.5rem 2rem 3rem; background: #fff;
       min-height: 100vh; }
h1 { margin: 0 0 .5rem; font-size: 1.8rem; line-height: 1.25; }
h2 { margin-top: 2rem; padding-bottom: .3rem; border-bottom: 1px solid var(--line); }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em;
       background: #eff1f3; padding: .1em .3em; border-radius: 4px; }
a { color: var(--val); }
table { border-collapse: collapse; margin: 1rem 0; width: 100%; font-size: .95rem; }
th, td { border: 1px solid var(--line); padding: .35rem .6rem; vertical-align: top; }
th { background: #f6f8fa; text-align: left; }
th.num { text-align: right; }
th.cmp { text-align: center; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td[style*="right"] { font-variant-numeric: tabular-nums; }
td.cmp { text-align: center; white-space: nowrap; }
td.pass { white-space: nowrap; }
.table-wrap { overflow-x: auto; margin: 1rem 0; }
.table-wrap > table { margin: 0; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .5rem 0; }
dl.meta dt { font-weight: 600; color: var(--muted); }
dl.meta dd { margin: 0; }
dl.meta dd p { margin: 0; }
.badge { display: inline-block; padding: .15rem .7rem; border-radius: 2rem; color: #fff;
         font-weight: 700; letter-spacing: .05em; }
.badge.pass { background: var(--pass); }
.badge.fail { background: var(--fail); }
.badge.error { background: var(--err); }
p.verdict { font-size: 1.15rem; margin: 1rem 0; }
.kind { display: inline-block; padding: 0 .5rem; border-radius: 4px; font-size: .85rem;
        font-weight: 600; border: 1px solid currentColor; }
.kind.validation { color: var(--val); }
.kind.claim { color: var(--claim); }
tr.validation td:first-child { border-left: 4px solid var(--val); }
tr.claim td:first-child { border-left: 4px solid var(--claim); }
tr.failed { background: #ffebe9; }
.ok { color: var(--pass); font-weight: 600; }
.bad { color: var(--fail); font-weight: 700; }
aside.note { border-left: 4px solid var(--err); background: #fff8c5; padding: .5rem 1rem;
             margin: 1rem 0; }
aside.note p { margin: .3rem 0; }
figure { margin: 1.5rem 0; }
figure svg { display: block; width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: .95rem; margin-top: .4rem; }
figcaption p { display: inline; margin: 0; }
p.legend { color: var(--muted); font-size: .95rem; }
td.error { color: var(--fail); white-space: pre-wrap; font-family: ui-monospace, monospace;
           font-size: .85rem; }
footer { margin-top: 2rem; color: var(--muted); font-size: .9rem; }
"#;

/// Markdown → HTML (tables enabled).
pub(crate) fn markdown_to_html(md: &str) -> String {
    let mut out = String::new();
    push_html(&mut out, Parser::new_ext(md, Options::ENABLE_TABLES));
    out
}

/// Opens a table wrapper that scrolls sideways when the table is wider than the page.
pub(crate) const TABLE_WRAP_OPEN: &str = "<div class=\"table-wrap\" style=\"overflow-x:auto\">";

/// Wraps every `<table>…</table>` of rendered HTML in a [`TABLE_WRAP_OPEN`] `<div>`.
pub(crate) fn wrap_tables(html: &str) -> String {
    html.replace("<table>", &format!("{TABLE_WRAP_OPEN}<table>"))
        .replace("</table>", "</table></div>")
}

/// `<!DOCTYPE html>…<body><main>` with the page title; close with [`page_end`].
pub(crate) fn page_start(title: &str, version: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"gdlab {}\">\n<title>{}</title>\n\
         <style>{CSS}</style>\n</head>\n<body>\n<main>\n",
        html_escape(version),
        html_escape(title)
    )
}

/// Closes what [`page_start`] opened.
pub(crate) fn page_end() -> &'static str {
    "</main>\n</body>\n</html>\n"
}

/// The verdict badge: `PASS` green, `FAIL` red, anything else (`ERROR`) amber.
pub(crate) fn badge(label: &str) -> String {
    let class = match label {
        "PASS" => "pass",
        "FAIL" => "fail",
        _ => "error",
    };
    format!(
        "<span class=\"badge {class}\">{}</span>",
        html_escape(label)
    )
}

/// Renders `report.html`.
pub(super) fn render_page(report: &Report, meta: &RunMeta, verdict: &Verdict) -> String {
    let mut h = page_start(
        &format!("{}: {}", report.study_id, report.title),
        &meta.version,
    );

    // Header: title, verdict, run facts.
    h.push_str(&format!("<h1>{}</h1>\n", html_escape(&report.title)));
    h.push_str(&format!(
        "<p class=\"verdict\">{} {}</p>\n",
        badge(verdict.label()),
        html_escape(&verdict_counts(verdict))
    ));
    h.push_str("<dl class=\"meta\">\n");
    h.push_str(&format!(
        "<dt>Study</dt><dd><code>{}</code></dd>\n",
        html_escape(&report.study_id)
    ));
    h.push_str(&format!(
        "<dt>Paper</dt><dd>{}</dd>\n",
        markdown_to_html(&report.paper).trim_end()
    ));
    h.push_str(&format!(
        "<dt>Run</dt><dd>{}</dd>\n",
        markdown_to_html(&run_line(meta)).trim_end()
    ));
    h.push_str("</dl>\n");

    // The study's introduction, before the checks.
    for text in &report.intro {
        h.push_str(&wrap_tables(&markdown_to_html(text)));
    }

    // Checks, validation and claim marked apart.
    h.push_str("<h2>Checks</h2>\n");
    h.push_str(&markdown_to_html(CHECK_KINDS_MD).replacen("<p>", "<p class=\"legend\">", 1));
    h.push_str(TABLE_WRAP_OPEN);
    h.push_str("<table class=\"checks\">\n<thead><tr><th>claim</th><th>kind</th>\
                <th class=\"num\">observed</th><th class=\"cmp\">cmp</th><th class=\"num\">threshold</th><th>pass</th></tr></thead>\n<tbody>\n");
    for c in &verdict.checks {
        let kind = match c.kind {
            CheckKind::Validation => "validation",
            CheckKind::Claim => "claim",
        };
        let (observed, threshold) = check_numbers(c);
        let failed = if c.pass { "" } else { " failed" };
        let pass = if c.pass {
            "<span class=\"ok\">✔ pass</span>"
        } else {
            "<span class=\"bad\">✘ FAIL</span>"
        };
        h.push_str(&format!(
            "<tr class=\"{kind}{failed}\"><td>{}</td><td><span class=\"kind {kind}\">{kind}</span></td>\
             <td class=\"num\">{}</td><td class=\"cmp\">{}</td><td class=\"num\">{}</td>\
             <td class=\"pass\">{pass}</td></tr>\n",
            html_escape(&c.claim),
            html_escape(&observed),
            html_escape(cmp_glyph(c.cmp)),
            html_escape(&threshold),
        ));
    }
    h.push_str("</tbody>\n</table></div>\n");

    // Body blocks in order.
    for block in &report.blocks {
        match block {
            Block::Note(text) => {
                h.push_str("<aside class=\"note\">\n");
                h.push_str(&wrap_tables(&markdown_to_html(&format!(
                    "**Note:** {text}"
                ))));
                h.push_str("</aside>\n");
            }
            Block::Plot {
                name, caption, svg, ..
            } => {
                h.push_str(&format!("<figure id=\"plot-{}\">\n", html_escape(name)));
                h.push_str(svg.trim_end());
                h.push_str("\n<figcaption>");
                if !caption.is_empty() {
                    h.push_str(markdown_to_html(caption).trim_end());
                    h.push(' ');
                }
                h.push_str(&format!(
                    "Data: <a href=\"{0}.csv\">{0}.csv</a>.</figcaption>\n</figure>\n",
                    html_escape(name)
                ));
            }
            Block::Image { name, caption, png } => {
                h.push_str(&format!(
                    "<figure id=\"image-{0}\">\n<img src=\"data:image/png;base64,{1}\" \
                     alt=\"{0}\" style=\"image-rendering: pixelated; max-width: 100%\">\n\
                     <figcaption>{2}</figcaption>\n</figure>\n",
                    html_escape(name),
                    base64(png),
                    markdown_to_html(caption).trim_end()
                ));
            }
            other => h.push_str(&wrap_tables(&markdown_to_html(&block_markdown(other)))),
        }
    }

    // Recorded numbers and files.
    if !report.metrics.is_empty() {
        h.push_str(
            "<h2>Recorded numbers</h2>\n<p class=\"legend\">6 significant digits; full \
                    precision in <a href=\"metrics.json\">metrics.json</a>.</p>\n",
        );
        h.push_str(TABLE_WRAP_OPEN);
        h.push_str(
            "<table>\n<thead><tr><th>name</th><th class=\"num\">value</th></tr></thead>\n<tbody>\n",
        );
        for (name, value) in &report.metrics {
            let shown = match value.as_f64() {
                Some(v) if value.is_number() => html_escape(&fmt_num(v)),
                _ => "<em>structured; see metrics.json</em>".to_string(),
            };
            h.push_str(&format!(
                "<tr><td><code>{}</code></td><td class=\"num\">{shown}</td></tr>\n",
                html_escape(name)
            ));
        }
        h.push_str("</tbody>\n</table></div>\n");
    }
    h.push_str("<footer>Files: <a href=\"metrics.json\">metrics.json</a>");
    for (file, _) in &report.files {
        h.push_str(&format!(", <a href=\"{0}\">{0}</a>", html_escape(file)));
    }
    h.push_str(&format!(
        ". Written by gdlab {}.</footer>\n",
        html_escape(&meta.version)
    ));
    h.push_str(page_end());
    h
}

/// Standard base64 (RFC 4648, with padding), for embedding PNG images.
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= c.len() {
                out.push(char::from(A[((n >> (18 - 6 * k)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod base64_tests {
    #[test]
    fn rfc4648_vectors() {
        // RFC 4648 §10 test vectors.
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(super::base64(i.as_bytes()), o);
        }
    }
}
