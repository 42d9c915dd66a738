//! The relative camera pose of Zero-1-to-3 (spec §1.2).

use crate::error::{DiffusionError, Result};

/// A relative camera change, in the units of the Zero-1-to-3 demo: polar and azimuth
/// deltas in degrees, radius delta in the dataset's distance units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RelativePose {
    /// Δpolar (degrees; positive moves the camera down from the +z axis, as in
    /// `theta = atan2(√(x²+y²), z)`).
    pub polar_deg: f64,
    /// Δazimuth (degrees).
    pub azimuth_deg: f64,
    /// Δradius.
    pub radius: f64,
}

/// Allowed Δpolar (the demo's slider range), degrees.
pub const POLAR_RANGE: (f64, f64) = (-90.0, 90.0);
/// Allowed Δazimuth (the demo's slider range), degrees.
pub const AZIMUTH_RANGE: (f64, f64) = (-180.0, 180.0);
/// Allowed Δradius (the demo's slider range).
pub const RADIUS_RANGE: (f64, f64) = (-0.5, 0.5);

impl RelativePose {
    /// The identity pose (no camera change): `T = [0, 0, 1, 0]`; the source branch of
    /// mutual self-attention uses it (spec §2.5).
    pub const IDENTITY: RelativePose = RelativePose {
        polar_deg: 0.0,
        azimuth_deg: 0.0,
        radius: 0.0,
    };

    /// A validated pose.
    ///
    /// # Errors
    /// [`DiffusionError::OutOfRange`] naming `polar`, `azimuth` or `radius` when a value
    /// is outside [`POLAR_RANGE`], [`AZIMUTH_RANGE`] or [`RADIUS_RANGE`] or not finite.
    pub fn new(polar_deg: f64, azimuth_deg: f64, radius: f64) -> Result<Self> {
        let check = |field, v: f64, (lo, hi): (f64, f64), allowed| {
            if v.is_finite() && (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(DiffusionError::OutOfRange {
                    field,
                    value: v,
                    allowed,
                })
            }
        };
        check("polar", polar_deg, POLAR_RANGE, "[-90, 90] degrees")?;
        check("azimuth", azimuth_deg, AZIMUTH_RANGE, "[-180, 180] degrees")?;
        check("radius", radius, RADIUS_RANGE, "[-0.5, 0.5]")?;
        Ok(RelativePose {
            polar_deg,
            azimuth_deg,
            radius,
        })
    }

    /// The 4-vector `T = [Δpolar (rad), sin Δaz, cos Δaz, Δradius]` (Zero-1-to-3's
    /// `get_T`; the azimuth enters only through sin/cos, so it is taken mod 2π).
    ///
    /// # Examples
    /// ```
    /// use gdlab_diffusion::zero123::pose::RelativePose;
    /// assert_eq!(RelativePose::IDENTITY.vector(), [0.0, 0.0, 1.0, 0.0]);
    /// let t = RelativePose::new(90.0, 90.0, 0.25).unwrap().vector();
    /// assert!((t[0] - std::f32::consts::FRAC_PI_2).abs() < 1e-7 && (t[1] - 1.0).abs() < 1e-7);
    /// assert!(t[2].abs() < 1e-7 && t[3] == 0.25);
    /// ```
    #[must_use]
    pub fn vector(&self) -> [f32; 4] {
        let az = self.azimuth_deg.to_radians();
        [
            self.polar_deg.to_radians() as f32,
            az.sin() as f32,
            az.cos() as f32,
            self.radius as f32,
        ]
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact hand values
mod tests {
    use super::*;

    #[test]
    fn pose_vector_hand_values() {
        let t = RelativePose::new(-30.0, 180.0, -0.5).unwrap().vector();
        assert_eq!(t[0], (-30f64).to_radians() as f32);
        assert!(t[1].abs() < 1e-7);
        assert_eq!(t[2], -1.0);
        assert_eq!(t[3], -0.5);
        // −90° and +270° would agree (mod 2π); the range keeps inputs in [−180, 180].
        let a = RelativePose::new(0.0, -90.0, 0.0).unwrap().vector();
        assert_eq!((a[1], a[0]), (-1.0, 0.0));
    }

    #[test]
    fn out_of_range_names_the_field() {
        for (p, a, r, f) in [
            (91.0, 0.0, 0.0, "polar"),
            (0.0, -181.0, 0.0, "azimuth"),
            (0.0, 0.0, 0.6, "radius"),
            (f64::NAN, 0.0, 0.0, "polar"),
        ] {
            let e = RelativePose::new(p, a, r).unwrap_err().to_string();
            assert!(e.contains(f), "{e}");
        }
    }
}
