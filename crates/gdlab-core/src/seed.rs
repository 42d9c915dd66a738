//! Seeds and random-number streams.
//!
//! gdlab has exactly one seed type, [`Seed`], and one generator, [`GdRng`]. Every random
//! choice in the library flows from an explicit seed through a documented derivation, so
//! the same seed gives the same numbers on every platform, every thread count and every
//! run.
//!
//! # Derivation (stable; changing it is a breaking change)
//!
//! With `sm(x)` the SplitMix64 finaliser (Steele, Lea & Flood 2014; constants below) and
//! `fnv(s)` the 64-bit FNV-1a hash of the UTF-8 bytes of `s`:
//!
//! * `Seed(s).derive(label) = Seed(sm(s ^ sm(fnv(label))))`
//! * `Seed(s).index(i)      = Seed(sm(sm(s ^ INDEX_TAG) ^ sm(i)))`, `INDEX_TAG = 0x6a09e667f3bcc909`
//! * `Seed(s).rng()         = GdRng::seed_from_u64(s)` (rand_core's documented PCG32 expansion
//!   of the 64-bit seed into the 256-bit ChaCha key).
//!
//! `std`'s `DefaultHasher` is deliberately not used: its algorithm is unspecified.

use rand::SeedableRng;
use serde::{Deserialize, Serialize};

/// The one random-number generator of gdlab: ChaCha with 8 rounds from `rand_chacha`.
///
/// Its output is portable and pinned by `Cargo.lock`; `value_stability` tests pin its first
/// outputs for a fixed seed. Never use `StdRng` (not portable across rand versions) or
/// thread/OS generators.
pub type GdRng = rand_chacha::ChaCha8Rng;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
const INDEX_TAG: u64 = 0x6a09_e667_f3bc_c909;

/// SplitMix64 finaliser: a bijective 64-bit mixing function.
#[must_use]
pub const fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// 64-bit FNV-1a hash of a byte string.
#[must_use]
pub const fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h = FNV_OFFSET;
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u64;
        h = h.wrapping_mul(FNV_PRIME);
        i += 1;
    }
    h
}

/// A 64-bit seed with a stable derivation tree.
///
/// # Examples
/// ```
/// use gdlab_core::seed::Seed;
/// use rand::Rng;
/// let root = Seed(42);
/// let noise = root.derive("dp-noise");
/// assert_ne!(noise, root.derive("sampler"));
/// // The same seed always gives the same stream.
/// let a: u64 = noise.index(3).rng().random();
/// let b: u64 = noise.index(3).rng().random();
/// assert_eq!(a, b);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Seed(pub u64);

impl Seed {
    /// A child seed for a named purpose (`"sampler"`, `"init"`, `"worker"`...).
    #[must_use]
    pub const fn derive(self, label: &str) -> Seed {
        Seed(splitmix64(self.0 ^ splitmix64(fnv1a64(label.as_bytes()))))
    }

    /// A child seed for the `i`-th member of a family (epoch, node, chunk, repetition).
    #[must_use]
    pub const fn index(self, i: u64) -> Seed {
        Seed(splitmix64(splitmix64(self.0 ^ INDEX_TAG) ^ splitmix64(i)))
    }

    /// A fresh generator whose stream is a pure function of this seed.
    #[must_use]
    pub fn rng(self) -> GdRng {
        GdRng::seed_from_u64(self.0)
    }
}

impl Default for Seed {
    /// The project's default seed, 0.
    fn default() -> Self {
        Seed(0)
    }
}

impl std::fmt::Display for Seed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn splitmix_reference_values() {
        // SplitMix64 sequence from state 0 (reference C implementation by Vigna):
        // the first output is sm(0x9e3779b97f4a7c15 - 0x9e37..) = sm applied to 0.
        assert_eq!(splitmix64(0), 0xe220_a839_7b1d_cdaf);
        assert_eq!(splitmix64(0x9e37_79b9_7f4a_7c15), 0x6e78_9e6a_a1b9_65f4);
    }

    #[test]
    fn fnv_reference_values() {
        // FNV-1a 64 test vectors from the reference (isthe.com/chongo/tech/comp/fnv).
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn value_stability_derivation() {
        // Pinned: changing these values changes every study's numbers.
        assert_eq!(Seed(0).derive("sampler").0, Seed(0).derive("sampler").0);
        let pinned = [
            Seed(0).derive("sampler").0,
            Seed(1).index(0).0,
            Seed(1).index(1).0,
        ];
        assert_eq!(pinned, PINNED_DERIVATION);
    }

    // Cross-checked with an independent Python transcription of the formulas in the module docs.
    const PINNED_DERIVATION: [u64; 3] = [
        11089848635080535282,
        12558955564639086262,
        6936342755868459146,
    ];

    #[test]
    fn value_stability_rng() {
        let mut r = Seed(42).rng();
        let first: Vec<u64> = (0..6).map(|_| r.random::<u64>()).collect();
        assert_eq!(first, PINNED_RNG.to_vec());
    }

    const PINNED_RNG: [u64; 6] = [
        12578764544318200737,
        17529487244874322312,
        7886285670807131020,
        11572758976476374866,
        5323617429756461744,
        2766252901828231838,
    ];

    #[test]
    fn children_are_distinct() {
        let s = Seed(7);
        let mut seen = std::collections::HashSet::new();
        for i in 0..1000 {
            assert!(seen.insert(s.index(i).0));
        }
        assert!(seen.insert(s.derive("a").0));
        assert!(seen.insert(s.derive("b").0));
        assert!(seen.insert(s.0));
    }
}
