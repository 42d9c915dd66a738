//! Checks and verdicts: a study's conclusion, computed from its own numbers.
//!
//! A [`Check`] compares one observed number with a threshold written in the study's code.
//! A [`Verdict`] is PASS iff every check holds. Each check has a [`CheckKind`]:
//! `validation` (the implementation agrees with a closed form, a reference value or an
//! independent implementation: a failure is a bug) or `claim` (the paper's empirical claim
//! on this run, which may honestly fail).

use serde::{Deserialize, Serialize};

/// The comparison a check applies: `observed <cmp> threshold`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cmp {
    /// `observed ≤ threshold`
    #[serde(rename = "<=")]
    Le,
    /// `observed < threshold`
    #[serde(rename = "<")]
    Lt,
    /// `observed ≥ threshold`
    #[serde(rename = ">=")]
    Ge,
    /// `observed > threshold`
    #[serde(rename = ">")]
    Gt,
}

impl Cmp {
    /// Applies the comparison; false whenever either side is NaN.
    #[must_use]
    pub fn holds(self, observed: f64, threshold: f64) -> bool {
        match self {
            Cmp::Le => observed <= threshold,
            Cmp::Lt => observed < threshold,
            Cmp::Ge => observed >= threshold,
            Cmp::Gt => observed > threshold,
        }
    }

    /// The symbol (`<=`, `<`, `>=`, `>`).
    #[must_use]
    pub fn symbol(self) -> &'static str {
        match self {
            Cmp::Le => "<=",
            Cmp::Lt => "<",
            Cmp::Ge => ">=",
            Cmp::Gt => ">",
        }
    }
}

/// Whether a failing check means a bug or an honest negative result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// Agreement with a closed form, reference value or independent implementation.
    Validation,
    /// The paper's empirical claim on this run.
    Claim,
}

impl std::fmt::Display for CheckKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CheckKind::Validation => "validation",
            CheckKind::Claim => "claim",
        })
    }
}

/// One comparison of an observed number with a threshold from the study's code.
///
/// A non-finite observed value never passes. Because `metrics.json` never carries NaN or
/// infinity, such a value is recorded as `f64::MAX` with `non_finite = true` and the
/// report says so.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// What is claimed, in words, including the quantity compared.
    pub claim: String,
    /// Validation or claim.
    pub kind: CheckKind,
    /// The number measured on this run.
    pub observed: f64,
    /// The threshold written in the study's code.
    pub threshold: f64,
    /// How they are compared.
    pub cmp: Cmp,
    /// Whether `observed cmp threshold` holds.
    pub pass: bool,
    /// True when the measured value was NaN or infinite (then `observed` is `f64::MAX`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub non_finite: bool,
}

impl Check {
    /// Evaluates `observed cmp threshold` for the claim.
    #[must_use]
    pub fn new(
        claim: impl Into<String>,
        kind: CheckKind,
        observed: f64,
        cmp: Cmp,
        threshold: f64,
    ) -> Self {
        let non_finite = !observed.is_finite();
        Check {
            claim: claim.into(),
            kind,
            observed: if non_finite { f64::MAX } else { observed },
            threshold,
            cmp,
            pass: !non_finite && cmp.holds(observed, threshold),
            non_finite,
        }
    }

    /// A validation check.
    #[must_use]
    pub fn validation(claim: impl Into<String>, observed: f64, cmp: Cmp, threshold: f64) -> Self {
        Self::new(claim, CheckKind::Validation, observed, cmp, threshold)
    }

    /// A claim check.
    #[must_use]
    pub fn claim(claim: impl Into<String>, observed: f64, cmp: Cmp, threshold: f64) -> Self {
        Self::new(claim, CheckKind::Claim, observed, cmp, threshold)
    }
}

/// The outcome of a study: PASS iff every check holds (and there is at least one).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The checks, in the order the study made them.
    pub checks: Vec<Check>,
}

impl Verdict {
    /// Adds a check and returns whether it passed.
    pub fn push(&mut self, check: Check) -> bool {
        let p = check.pass;
        self.checks.push(check);
        p
    }

    /// PASS iff there is at least one check and all hold.
    #[must_use]
    pub fn passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.pass)
    }

    /// `"PASS"` or `"FAIL"`.
    #[must_use]
    pub fn label(&self) -> &'static str {
        if self.passed() {
            "PASS"
        } else {
            "FAIL"
        }
    }

    /// The checks of one kind.
    pub fn of_kind(&self, kind: CheckKind) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(move |c| c.kind == kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_logic() {
        let mut v = Verdict::default();
        assert_eq!(v.label(), "FAIL"); // no checks: nothing was shown
        assert!(v.push(Check::validation("a", 1.0, Cmp::Le, 1.0)));
        assert_eq!(v.label(), "PASS");
        assert!(!v.push(Check::claim("b", f64::NAN, Cmp::Ge, 0.0)));
        assert_eq!(v.label(), "FAIL");
        assert!(v.checks[1].non_finite && v.checks[1].observed.is_finite());
    }

    #[test]
    fn json_shape() {
        let c = Check::claim("x", 2.0, Cmp::Gt, 1.0);
        let j = serde_json::to_value(&c).unwrap();
        assert_eq!(j["cmp"], ">");
        assert_eq!(j["kind"], "claim");
        assert_eq!(j["pass"], true);
        assert!(j.get("non_finite").is_none());
    }
}
