//! Parameter layouts: named ranges of a flat parameter buffer.
//!
//! Optimizers work on one flat `&mut [F]`; a [`Layout`] remembers which range belongs to
//! which parameter group (a layer's weight, its bias, a per-agent copy), so that group-wise
//! rules (no weight decay on biases, per-layer norms) can address them by name.

use std::ops::Range;

use crate::error::ConfigError;

/// Named, contiguous, non-overlapping ranges covering `0..len()` in insertion order.
///
/// # Examples
/// ```
/// use gdlab_core::layout::Layout;
/// let mut l = Layout::default();
/// l.push("weight", 6).unwrap();
/// l.push("bias", 2).unwrap();
/// let params = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 0.5, -0.5];
/// assert_eq!(l.slice("bias", &params), Some(&[0.5, -0.5][..]));
/// assert_eq!(l.len(), 8);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    groups: Vec<(String, Range<usize>)>,
}

impl Layout {
    /// Appends a group of `len` parameters and returns its range.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] if the name is empty or already used.
    pub fn push(&mut self, name: &str, len: usize) -> Result<Range<usize>, ConfigError> {
        if name.is_empty() || self.get(name).is_some() {
            return Err(ConfigError::Invalid {
                field: "layout group name".into(),
                reason: format!("must be non-empty and unique, got `{name}`"),
            });
        }
        let start = self.len();
        let r = start..start + len;
        self.groups.push((name.to_string(), r.clone()));
        Ok(r)
    }

    /// Total number of parameters.
    #[must_use]
    pub fn len(&self) -> usize {
        self.groups.last().map_or(0, |g| g.1.end)
    }

    /// True when there are no parameters.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The range of group `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<Range<usize>> {
        self.groups
            .iter()
            .find(|g| g.0 == name)
            .map(|g| g.1.clone())
    }

    /// The groups in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Range<usize>)> {
        self.groups.iter().map(|(n, r)| (n.as_str(), r.clone()))
    }

    /// Group `name` of `buf` (`None` if unknown or `buf` is too short).
    #[must_use]
    pub fn slice<'a, T>(&self, name: &str, buf: &'a [T]) -> Option<&'a [T]> {
        self.get(name).and_then(|r| buf.get(r))
    }

    /// Group `name` of `buf`, mutably.
    #[must_use]
    pub fn slice_mut<'a, T>(&self, name: &str, buf: &'a mut [T]) -> Option<&'a mut [T]> {
        self.get(name).and_then(move |r| buf.get_mut(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_tile_the_buffer() {
        let mut l = Layout::default();
        assert_eq!(l.push("a", 3).unwrap(), 0..3);
        assert_eq!(l.push("b", 0).unwrap(), 3..3);
        assert_eq!(l.push("c", 4).unwrap(), 3..7);
        assert!(l.push("a", 1).is_err());
        assert!(l.push("", 1).is_err());
        let mut buf = vec![0; 7];
        l.slice_mut("c", &mut buf).unwrap().fill(1);
        assert_eq!(buf, vec![0, 0, 0, 1, 1, 1, 1]);
        assert!(l.slice("c", &buf[..5]).is_none());
    }
}
