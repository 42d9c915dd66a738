//! Text formatting shared by the writers: numbers for people, numbers for files, escaping,
//! CSV and file-name rules.

use crate::error::ReportError;
use crate::verdict::Cmp;

/// Formats `x` for people with `sig` significant digits: fixed notation for
/// `1e-4 <= |x| < 1e6`, scientific otherwise, trailing zeros trimmed (`0.5`, `1.25e-7`,
/// `3`). Non-finite values come out as `NaN`, `inf`, `-inf`.
pub(crate) fn fmt_sig(x: f64, sig: usize) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    if x == 0.0 {
        return "0".to_string();
    }
    let sig = sig.clamp(1, 17);
    // Decide the notation from the exponent *after* rounding to `sig` digits (9.9999996
    // rounds to 1.00000e1), which the `{:e}` formatter computes for us.
    let sci = format!("{:.*e}", sig - 1, x);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        let decimals = usize::try_from((sig as i32 - 1 - exp).max(0)).unwrap_or(0);
        trim_zeros(&format!("{x:.decimals$}"))
    } else {
        format!("{}e{exp}", trim_zeros(mantissa))
    }
}

/// Removes trailing zeros after a decimal point, and the point itself if nothing is left.
fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

/// Formats a number for people with 6 significant digits (see the `report` module docs).
///
/// Fixed notation for `1e-4 <= |x| < 1e6`, scientific otherwise, trailing zeros trimmed.
/// Non-finite values print as `NaN`, `inf`, `-inf`: use this for table cells that a
/// study fills itself; metrics and CSV data reject non-finite values instead.
///
/// # Examples
/// ```
/// use gdlab_studies::report::fmt_num;
/// assert_eq!(fmt_num(0.5), "0.5");
/// assert_eq!(fmt_num(1234567.0), "1.23457e6");
/// assert_eq!(fmt_num(1.0 / 3.0), "0.333333");
/// assert_eq!(fmt_num(-2.5e-9), "-2.5e-9");
/// ```
#[must_use]
pub fn fmt_num(x: f64) -> String {
    fmt_sig(x, 6)
}

/// Formats an observed value and its threshold so that they print differently whenever
/// they differ: starts at 6 significant digits and adds digits (up to 17, which is exact
/// for `f64`) until the two strings differ or the numbers are equal.
pub(crate) fn fmt_pair(observed: f64, threshold: f64) -> (String, String) {
    let mut sig = 6;
    loop {
        let (o, t) = (fmt_sig(observed, sig), fmt_sig(threshold, sig));
        #[allow(clippy::float_cmp)] // exact equality is the point: equal numbers may print equal
        let equal = observed == threshold;
        if o != t || equal || sig >= 17 {
            return (o, t);
        }
        sig += 1;
    }
}

/// Formats a number for a data file: the shortest decimal string that parses back to the
/// same `f64` (Rust's `Display`/`LowerExp` are shortest-round-trip). Fixed notation for
/// `1e-4 <= |x| < 1e15` (and 0), scientific otherwise, so no string is absurdly long.
///
/// The caller guarantees `x` is finite.
pub(crate) fn fmt_data(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 || (1e-4..1e15).contains(&a) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// The comparison as people read it: `≤`, `<`, `≥`, `>` (files keep [`Cmp::symbol`]).
pub(crate) fn cmp_glyph(cmp: Cmp) -> &'static str {
    match cmp {
        Cmp::Le => "≤",
        Cmp::Lt => "<",
        Cmp::Ge => "≥",
        Cmp::Gt => ">",
    }
}

/// Whether a table cell is a number: after trimming, removing Markdown emphasis or code
/// marks around it, a leading `≈`/`~`, a trailing `%`, and reading `−` as `-`, it parses
/// as an `f64` (which includes `NaN` and `inf`).
pub(crate) fn is_numeric_cell(cell: &str) -> bool {
    let s = cell
        .trim()
        .trim_matches(|c| c == '*' || c == '`' || c == '_');
    let s = s.trim_start_matches(['≈', '~']).trim();
    let s = s.strip_suffix('%').unwrap_or(s).trim_end();
    !s.is_empty() && s.replace('−', "-").parse::<f64>().is_ok()
}

/// Whether a table cell is empty or a placeholder for a missing value (`—`, `–`, `-`,
/// `n/a`, `none`), which does not decide a column's alignment.
pub(crate) fn is_blank_cell(cell: &str) -> bool {
    let s = cell.trim().trim_matches(|c| c == '*' || c == '_');
    matches!(
        s.to_ascii_lowercase().as_str(),
        "" | "—" | "–" | "-" | "n/a" | "na" | "none" | "…"
    )
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Makes text safe inside one Markdown table cell: `|` is escaped and line breaks become
/// spaces (a cell cannot span lines).
pub(crate) fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// Quotes one CSV field when needed (RFC 4180: comma, quote, CR or LF inside).
pub(crate) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Renders a CSV document from a header row and rows of already-formatted fields,
/// with `\n` line endings and a final newline.
pub(crate) fn csv_document(headers: &[&str], rows: impl Iterator<Item = Vec<String>>) -> String {
    let mut out = String::new();
    let header: Vec<String> = headers.iter().map(|h| csv_field(h)).collect();
    out.push_str(&header.join(","));
    out.push('\n');
    for row in rows {
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// Checks a name that becomes a file name (`NAME.csv`, `NAME.svg`): ASCII letters,
/// digits, `_`, `-` and `.`, starting with a letter or digit, at most 100 characters.
pub(crate) fn check_file_name(name: &str) -> Result<(), ReportError> {
    let invalid = |reason| {
        Err(ReportError::InvalidName {
            name: name.to_string(),
            reason,
        })
    };
    if name.is_empty() || name.len() > 100 {
        return invalid("a file name must have 1 to 100 characters");
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return invalid("a file name must start with an ASCII letter or digit");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return invalid("a file name may only contain ASCII letters, digits, `_`, `-` and `.`");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_numbers() {
        assert_eq!(fmt_num(0.0), "0");
        assert_eq!(fmt_num(3.0), "3");
        assert_eq!(fmt_num(-0.25), "-0.25");
        assert_eq!(fmt_num(123456.0), "123456");
        assert_eq!(fmt_num(999999.9), "1e6");
        assert_eq!(fmt_num(9.9999996), "10");
        assert_eq!(fmt_num(1e-4), "0.0001");
        assert_eq!(fmt_num(1.5e-5), "1.5e-5");
        assert_eq!(fmt_num(f64::NAN), "NaN");
        assert_eq!(fmt_num(f64::MAX), "1.79769e308");
    }

    #[test]
    fn pairs_differ_when_numbers_differ() {
        let (o, t) = fmt_pair(0.999_999_95, 1.0);
        assert_ne!(o, t);
        assert_eq!(t, "1");
        let (o, t) = fmt_pair(1.0, 1.0);
        assert_eq!((o.as_str(), t.as_str()), ("1", "1"));
        let next = f64::from_bits(1.0f64.to_bits() + 1);
        let (o, t) = fmt_pair(next, 1.0);
        assert_ne!(o, t);
    }

    #[test]
    fn data_numbers_round_trip() {
        for x in [
            0.0,
            -0.0,
            0.1,
            1.0 / 3.0,
            1e-300,
            5e-324,
            f64::MAX,
            -123.456e20,
            1e15,
            999_999_999_999_999.9,
        ] {
            let s = fmt_data(x);
            let back: f64 = s.parse().unwrap();
            assert_eq!(back.to_bits(), x.to_bits(), "{x} -> {s}");
            assert!(s.len() <= 24, "{s}");
        }
    }

    #[test]
    fn escaping() {
        assert_eq!(html_escape("<a & 'b'>"), "&lt;a &amp; &#39;b&#39;&gt;");
        assert_eq!(md_cell("a|b\nc"), "a\\|b c");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("plain"), "plain");
    }

    #[test]
    fn numeric_cells() {
        for yes in [
            "0",
            "-2.5e-9",
            "1.23457e6",
            " 3 ",
            "−19",
            "**0.5**",
            "`1e-12`",
            "12%",
            "≈ 0.3",
            "NaN",
            "inf",
            "+4",
        ] {
            assert!(is_numeric_cell(yes), "{yes}");
        }
        for no in [
            "",
            "gd",
            "19/16 = 1.1875",
            "1, 2",
            "n = 5",
            "0.5 s",
            "—",
            "none",
        ] {
            assert!(!is_numeric_cell(no), "{no}");
        }
        for blank in ["", " ", "—", "-", "n/a", "None", "*none*"] {
            assert!(is_blank_cell(blank), "{blank}");
        }
        assert!(!is_blank_cell("0"));
    }

    #[test]
    fn comparison_glyphs() {
        assert_eq!(cmp_glyph(Cmp::Le), "≤");
        assert_eq!(cmp_glyph(Cmp::Lt), "<");
        assert_eq!(cmp_glyph(Cmp::Ge), "≥");
        assert_eq!(cmp_glyph(Cmp::Gt), ">");
    }

    #[test]
    fn file_names() {
        assert!(check_file_name("loss_curve-1.v2").is_ok());
        for bad in ["", ".hidden", "a/b", "../x", "a b", "é"] {
            assert!(
                matches!(check_file_name(bad), Err(ReportError::InvalidName { .. })),
                "{bad}"
            );
        }
    }
}
