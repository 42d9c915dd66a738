//! Bit-packed sign vectors: the messages of a majority vote.

/// A vector with entries in `{−1, 0, +1}` packed for the wire: one bit per coordinate
/// (set = negative) plus the indices of the zero coordinates as `u32`s.
///
/// Sign methods send ±1 almost everywhere; a zero (an exactly-zero gradient coordinate
/// under `sign`, or a majority tie) needs a third symbol. Rather than 2 bits for every
/// coordinate, the rare zeros travel as an index list, so a vector without zeros costs
/// exactly `⌈d/8⌉` bytes plus a 12-byte header (length `u64`, zero count `u32`).
///
/// Packing maps `x > 0` to `+1`, `x < 0` to `−1`, and `0`, `−0` and NaN to `0`.
///
/// # Examples
/// ```
/// use gdlab_comm::PackedSigns;
/// let p = PackedSigns::from_signs(&[1.0, -1.0, 0.0, -1.0, 1.0, 1.0, 1.0, 1.0, -1.0]);
/// assert_eq!(p.encode().len(), 12 + 2 + 4); // header, 9 bits in 2 bytes, one zero index
/// let mut back = [9.0; 9];
/// PackedSigns::decode(&p.encode()).unwrap().to_signs(&mut back);
/// assert_eq!(back, [1.0, -1.0, 0.0, -1.0, 1.0, 1.0, 1.0, 1.0, -1.0]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackedSigns {
    len: usize,
    negative: Vec<u8>,
    zeros: Vec<u32>,
}

impl PackedSigns {
    /// Packs the signs of `x`.
    ///
    /// # Panics
    /// If `x` has more than `u32::MAX` entries (a programmer error).
    #[must_use]
    pub fn from_signs(x: &[f64]) -> Self {
        assert!(u32::try_from(x.len()).is_ok(), "PackedSigns: too long");
        let mut negative = vec![0u8; x.len().div_ceil(8)];
        let mut zeros = Vec::new();
        for (k, &v) in x.iter().enumerate() {
            if v < 0.0 {
                negative[k / 8] |= 1 << (k % 8);
            } else if v.is_nan() || v == 0.0 {
                zeros.push(k as u32);
            }
        }
        PackedSigns {
            len: x.len(),
            negative,
            zeros,
        }
    }

    /// Number of coordinates.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no coordinates.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of zero coordinates.
    #[must_use]
    pub fn n_zeros(&self) -> usize {
        self.zeros.len()
    }

    /// Writes the entries (`+1.0`, `−1.0` or `0.0`) into `out`.
    ///
    /// # Panics
    /// If `out.len() != self.len()` (a programmer error).
    pub fn to_signs(&self, out: &mut [f64]) {
        assert_eq!(out.len(), self.len, "PackedSigns::to_signs: length");
        for (k, o) in out.iter_mut().enumerate() {
            *o = if self.negative[k / 8] >> (k % 8) & 1 == 1 {
                -1.0
            } else {
                1.0
            };
        }
        for &z in &self.zeros {
            out[z as usize] = 0.0;
        }
    }

    /// The wire form: `len` (u64 LE), zero count (u32 LE), the sign bits, the zero indices
    /// (u32 LE each).
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(12 + self.negative.len() + 4 * self.zeros.len());
        out.extend_from_slice(&(self.len as u64).to_le_bytes());
        out.extend_from_slice(&(self.zeros.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.negative);
        for z in &self.zeros {
            out.extend_from_slice(&z.to_le_bytes());
        }
        out
    }

    /// Parses [`encode`](Self::encode)'s output.
    ///
    /// # Errors
    /// A message whose size or indices are inconsistent (the reason as text).
    pub fn decode(b: &[u8]) -> Result<Self, String> {
        let u64_at = |i: usize| b.get(i..i + 8).and_then(|s| <[u8; 8]>::try_from(s).ok());
        let u32_at = |i: usize| b.get(i..i + 4).and_then(|s| <[u8; 4]>::try_from(s).ok());
        let len = u64_at(0)
            .map(u64::from_le_bytes)
            .ok_or("sign message shorter than its header")?;
        let n_zeros = u32_at(8)
            .map(u32::from_le_bytes)
            .ok_or("sign message shorter than its header")? as usize;
        let len = usize::try_from(len).map_err(|_| "sign message length overflows")?;
        let n_bytes = len.div_ceil(8);
        let expected = 12 + n_bytes + 4 * n_zeros;
        if b.len() != expected || len > u32::MAX as usize {
            return Err(format!(
                "sign message of {} bytes, expected {expected} for {len} signs and {n_zeros} zeros",
                b.len()
            ));
        }
        let negative = b[12..12 + n_bytes].to_vec();
        let mut zeros = Vec::with_capacity(n_zeros);
        for i in 0..n_zeros {
            let z = u32_at(12 + n_bytes + 4 * i)
                .map(u32::from_le_bytes)
                .ok_or("truncated zero list")?;
            if z as usize >= len {
                return Err(format!("zero index {z} out of range for {len} signs"));
            }
            zeros.push(z);
        }
        Ok(PackedSigns {
            len,
            negative,
            zeros,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::float_cmp)]
    use super::*;

    #[test]
    fn one_bit_per_coordinate_without_zeros() {
        let x: Vec<f64> = (0..1000)
            .map(|k| if k % 3 == 0 { -1.0 } else { 1.0 })
            .collect();
        let p = PackedSigns::from_signs(&x);
        assert_eq!(p.encode().len(), 12 + 125);
        assert_eq!(p.n_zeros(), 0);
        let mut y = vec![0.0; 1000];
        PackedSigns::decode(&p.encode()).unwrap().to_signs(&mut y);
        assert_eq!(x, y);
    }

    #[test]
    fn zeros_nan_and_bad_messages() {
        let p = PackedSigns::from_signs(&[0.0, -0.0, f64::NAN, 2.5, -3.0]);
        let mut y = [7.0; 5];
        p.to_signs(&mut y);
        assert_eq!(y, [0.0, 0.0, 0.0, 1.0, -1.0]);
        let e = p.encode();
        assert!(PackedSigns::decode(&e[..e.len() - 1]).is_err());
        assert!(PackedSigns::decode(&e[..5]).is_err());
        let mut bad = e.clone();
        let n = bad.len();
        bad[n - 4..].copy_from_slice(&99u32.to_le_bytes());
        assert!(PackedSigns::decode(&bad)
            .unwrap_err()
            .contains("out of range"));
        assert!(PackedSigns::from_signs(&[]).is_empty());
    }
}
