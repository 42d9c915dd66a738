//! Which rows and block sizes the estimator uses for a trajectory of `T` iterates (spec
//! §2.3).
//!
//! The reference code hard-codes, per number of saved iterates `T`, a truncation size `sz`
//! (the **last** `sz` rows are used) and a list of block sizes `K1`; [`K1Rule::Reference`]
//! reproduces that table and falls back to the generic rule for any other `T`.
//! [`K1Rule::Generic`] is the code's helper `get_5_good_fiv` (used there by the `mean` and
//! `scalar` estimators): walk `x` down from `T` until `x` has more than 5 divisors in
//! `[2, ⌊√x⌋ − 1]`, then take every `⌈len/4⌉`-th divisor plus the largest one.

use serde::{Deserialize, Serialize};

use crate::error::{DiagError, Result};
use crate::mmo::lcm_list;

/// How `sz` and the K1 list are chosen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum K1Rule {
    /// The reference code's table (VGG script) for its `T`, else [`K1Rule::Generic`].
    #[default]
    Reference,
    /// As `Reference`, with the LeNet script's entry for `T = 1563` (`sz = 1296`).
    ReferenceLenet,
    /// The `get_5_good_fiv` rule for every `T`.
    Generic,
    /// A given list; `sz` = the largest multiple of its least common multiple `≤ T`.
    Fixed(Vec<usize>),
}

/// Where a plan came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum K1Source {
    /// The reference code's table.
    Table,
    /// The `get_5_good_fiv` rule.
    Generic,
    /// A user-given list.
    User,
}

/// The rows and block sizes for one trajectory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct K1Plan {
    /// Rows used (the last `sz` of `T`); a multiple of every K1.
    pub sz: usize,
    /// Block sizes.
    pub k1s: Vec<usize>,
    /// Where the plan came from.
    pub source: K1Source,
}

/// The reference code's table (spec §2.3): `T → (sz, K1 list)`.
fn table(t: usize, lenet: bool) -> Option<(usize, &'static [usize])> {
    const A: &[usize] = &[2, 3, 6, 18, 36];
    const B: &[usize] = &[2, 3, 6, 7, 9, 18, 36];
    const C: &[usize] = &[2, 3, 6, 9, 18, 36];
    const D: &[usize] = &[2, 4, 7, 14, 28];
    Some(match t {
        1563 if lenet => (1296, &[2, 3, 6, 12, 36, 72]),
        1563 | 3136 | 1574 => (756, A),
        782 | 793 => (756, B),
        391 | 402 => (324, C),
        196 | 207 => (196, D),
        _ => return None,
    })
}

/// Smallest `T` the generic rule accepts (120 has the six divisors 2, 3, 4, 5, 6, 8 below
/// ⌊√120⌋ − 1 = 9; no smaller number has more than five).
pub const GENERIC_MIN_T: usize = 120;

/// The `get_5_good_fiv` rule: `(sz, K1 list)` for `T` (see the module docs), or `None` when
/// `T < GENERIC_MIN_T`. Duplicate entries (the largest divisor can already be in the
/// strided list) are removed.
#[must_use]
pub fn get_5_good_fiv(t: usize) -> Option<(usize, Vec<usize>)> {
    let mut x = t;
    while x >= GENERIC_MIN_T {
        let r = isqrt(x);
        let divs: Vec<usize> = (2..r).filter(|d| x % d == 0).collect();
        if divs.len() > 5 {
            let step = divs.len().div_ceil(4);
            let mut k1s: Vec<usize> = divs.iter().copied().step_by(step).collect();
            let last = divs[divs.len() - 1];
            if k1s.last() != Some(&last) {
                k1s.push(last);
            }
            return Some((x, k1s));
        }
        x -= 1;
    }
    None
}

fn isqrt(x: usize) -> usize {
    let mut r = (x as f64).sqrt() as usize;
    while r * r > x {
        r -= 1;
    }
    while (r + 1) * (r + 1) <= x {
        r += 1;
    }
    r
}

impl K1Rule {
    /// The plan for `t` rows.
    ///
    /// # Errors
    /// [`DiagError::TooShort`] if `t` is below the rule's minimum (the smallest block of
    /// the list's lcm, or [`GENERIC_MIN_T`]); [`DiagError::Config`] for an invalid list.
    ///
    /// # Examples
    /// ```
    /// use gdlab_diagnostics::k1::K1Rule;
    /// let p = K1Rule::Reference.plan(391).unwrap(); // B = 128 on CIFAR-10
    /// assert_eq!((p.sz, p.k1s), (324, vec![2, 3, 6, 9, 18, 36]));
    /// let g = K1Rule::Reference.plan(600).unwrap(); // not in the table: generic rule
    /// assert_eq!((g.sz, g.k1s), (600, vec![2, 5, 10, 20]));
    /// assert!(K1Rule::Fixed(vec![2, 50]).plan(40).is_err());
    /// ```
    pub fn plan(&self, t: usize) -> Result<K1Plan> {
        match self {
            K1Rule::Reference | K1Rule::ReferenceLenet => {
                if let Some((sz, k1s)) = table(t, *self == K1Rule::ReferenceLenet) {
                    return Ok(K1Plan {
                        sz,
                        k1s: k1s.to_vec(),
                        source: K1Source::Table,
                    });
                }
                K1Rule::Generic.plan(t)
            }
            K1Rule::Generic => match get_5_good_fiv(t) {
                Some((sz, k1s)) => Ok(K1Plan {
                    sz,
                    k1s,
                    source: K1Source::Generic,
                }),
                None => Err(DiagError::TooShort {
                    what: "the default K1 rule (pass an explicit K1 list for shorter trajectories)"
                        .into(),
                    got: t,
                    needed: GENERIC_MIN_T,
                }),
            },
            K1Rule::Fixed(k1s) => {
                let l = lcm_list(k1s)?;
                if t < l {
                    return Err(DiagError::TooShort {
                        what: format!(
                            "K1 list {k1s:?} (needs one block of lcm = {l} rows; the smallest block alone is {})",
                            k1s.iter().min().copied().unwrap_or(0)
                        ),
                        got: t,
                        needed: l,
                    });
                }
                Ok(K1Plan {
                    sz: t / l * l,
                    k1s: k1s.clone(),
                    source: K1Source::User,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_entries_divide_their_sizes() {
        for t in [1563, 3136, 1574, 782, 793, 391, 402, 196, 207] {
            for rule in [K1Rule::Reference, K1Rule::ReferenceLenet] {
                let p = rule.plan(t).unwrap();
                assert_eq!(p.source, K1Source::Table);
                assert!(p.sz <= t);
                assert!(p.k1s.iter().all(|k| p.sz % k == 0), "{t}: {p:?}");
            }
        }
        assert_eq!(K1Rule::ReferenceLenet.plan(1563).unwrap().sz, 1296);
        assert_eq!(K1Rule::Reference.plan(1563).unwrap().sz, 756);
    }

    /// Brute force: for every T in [120, 3000] the generic plan has sz ≤ T, > 5 divisors
    /// below ⌊√sz⌋ − 1, no larger x ≤ T qualifies, and every K1 divides sz.
    #[test]
    fn generic_rule_against_brute_force() {
        let qualifies = |x: usize| (2..isqrt(x)).filter(|d| x % d == 0).count() > 5;
        assert!(get_5_good_fiv(119).is_none());
        assert!(qualifies(120));
        assert!(!(1..120).any(qualifies));
        for t in 120..3000 {
            let (sz, k1s) = get_5_good_fiv(t).unwrap();
            assert!(sz <= t && qualifies(sz));
            assert!(!(sz + 1..=t).any(qualifies));
            assert!(k1s.iter().all(|k| sz % k == 0 && *k >= 2 && *k * *k < sz));
            assert!(k1s.len() >= 4 && k1s.windows(2).all(|w| w[0] < w[1]));
        }
        // 10 000: divisors below 99 are 2,4,5,8,10,16,20,25,40,50,80 (11), stride 3.
        assert_eq!(
            get_5_good_fiv(10_000),
            Some((10_000, vec![2, 8, 20, 50, 80]))
        );
    }

    #[test]
    fn too_short_is_an_error() {
        assert!(matches!(
            K1Rule::Reference.plan(50),
            Err(DiagError::TooShort { needed: 120, .. })
        ));
        let p = K1Rule::Fixed(vec![2, 3]).plan(50).unwrap();
        assert_eq!((p.sz, p.source), (48, K1Source::User));
    }
}
