//! Procedural "Turntable-Blobs" scenes and their renderer (spec §4.3 "Data").

use gdlab_core::normal::uniform;
use gdlab_core::GdRng;

/// The six saturated colours scenes draw from (without replacement), RGB in [0, 1].
pub const PALETTE: [[f64; 3]; 6] = [
    [0.90, 0.15, 0.15],
    [0.15, 0.75, 0.20],
    [0.15, 0.30, 0.90],
    [0.95, 0.80, 0.10],
    [0.80, 0.20, 0.80],
    [0.10, 0.75, 0.80],
];

/// Camera distance from the origin (spec: 2.0).
pub const CAMERA_RADIUS: f64 = 2.0;
/// Camera elevation in degrees (spec: 20°).
pub const ELEVATION_DEG: f64 = 20.0;
/// Focal length in normalised image units (half-width 1): the unit ball at distance 2
/// subtends `asin(1/2)` = 30°, so its silhouette radius is `f·tan 30°`; `f = 0.7/tan 30°`
/// makes it 70% of the frame (spec: "the unit ball fills about 70% of the frame").
pub const FOCAL: f64 = 1.212_435_565_298_214_2;
/// Ambient and diffuse weights of the Lambert shading `c·(0.35 + 0.65·max(0, n·l))`.
pub const AMBIENT: f64 = 0.35;
/// Diffuse weight.
pub const DIFFUSE: f64 = 0.65;

/// One sphere.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sphere {
    /// Centre (world, z up).
    pub center: [f64; 3],
    /// Radius.
    pub radius: f64,
    /// Colour, RGB in [0, 1].
    pub color: [f64; 3],
}

/// A scene: spheres on a white background.
#[derive(Clone, Debug, PartialEq)]
pub struct Scene {
    /// The spheres.
    pub spheres: Vec<Sphere>,
}

impl Scene {
    /// Three spheres: centres uniform in the ball of radius 0.55, radii in [0.18, 0.32],
    /// colours drawn without replacement from [`PALETTE`] (spec §4.3).
    #[must_use]
    pub fn random(rng: &mut GdRng) -> Scene {
        let mut colors: Vec<usize> = (0..PALETTE.len()).collect();
        let mut spheres = Vec::with_capacity(3);
        for _ in 0..3 {
            let center = loop {
                let p = [
                    2.0 * uniform(rng) - 1.0,
                    2.0 * uniform(rng) - 1.0,
                    2.0 * uniform(rng) - 1.0,
                ];
                if p.iter().map(|x| x * x).sum::<f64>() <= 1.0 {
                    break [0.55 * p[0], 0.55 * p[1], 0.55 * p[2]];
                }
            };
            let radius = 0.18 + 0.14 * uniform(rng);
            let pick = ((uniform(rng) * colors.len() as f64) as usize).min(colors.len() - 1);
            let color = PALETTE[colors.remove(pick)];
            spheres.push(Sphere {
                center,
                radius,
                color,
            });
        }
        Scene { spheres }
    }
}

/// A perspective camera on the turntable circle looking at the origin.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Camera {
    /// Position.
    pub eye: [f64; 3],
    /// Unit viewing direction.
    pub forward: [f64; 3],
    /// Unit image-right direction.
    pub right: [f64; 3],
    /// Unit image-up direction.
    pub up: [f64; 3],
    /// Focal length (normalised units: the image spans [−1, 1]²).
    pub focal: f64,
}

fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}
fn normalize(a: [f64; 3]) -> [f64; 3] {
    let n = dot(a, a).sqrt();
    [a[0] / n, a[1] / n, a[2] / n]
}

impl Camera {
    /// The camera at azimuth `phi` (radians) on the circle of radius [`CAMERA_RADIUS`] at
    /// elevation [`ELEVATION_DEG`], looking at the origin, world z up.
    #[must_use]
    pub fn turntable(phi: f64) -> Camera {
        let e = ELEVATION_DEG.to_radians();
        let eye = [
            CAMERA_RADIUS * e.cos() * phi.cos(),
            CAMERA_RADIUS * e.cos() * phi.sin(),
            CAMERA_RADIUS * e.sin(),
        ];
        let forward = normalize(sub([0.0; 3], eye));
        let right = normalize(cross(forward, [0.0, 0.0, 1.0]));
        let up = cross(right, forward);
        Camera {
            eye,
            forward,
            right,
            up,
            focal: FOCAL,
        }
    }

    /// The unit ray direction through the centre of pixel `(row, col)` of a `size²` image:
    /// `u = (col + ½)/size·2 − 1`, `v = 1 − (row + ½)/size·2`, `d ∝ f·forward + u·right + v·up`.
    #[must_use]
    pub fn ray(&self, row: usize, col: usize, size: usize) -> [f64; 3] {
        let u = (col as f64 + 0.5) / size as f64 * 2.0 - 1.0;
        let v = 1.0 - (row as f64 + 0.5) / size as f64 * 2.0;
        normalize([
            self.focal * self.forward[0] + u * self.right[0] + v * self.up[0],
            self.focal * self.forward[1] + u * self.right[1] + v * self.up[1],
            self.focal * self.forward[2] + u * self.right[2] + v * self.up[2],
        ])
    }
}

/// Renders `scene` from `cam` as a `size × size` RGB image, row-major `[row][col][rgb]`,
/// values in [−1, 1] (white background = 1): nearest analytic ray–sphere hit, Lambert
/// shading `c·(0.35 + 0.65·max(0, n·l))` with the light at the camera.
#[must_use]
pub fn render(scene: &Scene, cam: &Camera, size: usize) -> Vec<f32> {
    let mut img = vec![1.0f32; size * size * 3];
    for row in 0..size {
        for col in 0..size {
            let d = cam.ray(row, col, size);
            let mut best: Option<(f64, &Sphere)> = None;
            for s in &scene.spheres {
                // |o + t d − c|² = r², |d| = 1: t² + 2 b t + c0 = 0.
                let oc = sub(cam.eye, s.center);
                let b = dot(oc, d);
                let c0 = dot(oc, oc) - s.radius * s.radius;
                let disc = b * b - c0;
                if disc < 0.0 {
                    continue;
                }
                let t = -b - disc.sqrt();
                if t > 1e-9 && best.is_none_or(|(bt, _)| t < bt) {
                    best = Some((t, s));
                }
            }
            if let Some((t, s)) = best {
                let p = [
                    cam.eye[0] + t * d[0],
                    cam.eye[1] + t * d[1],
                    cam.eye[2] + t * d[2],
                ];
                let n = normalize(sub(p, s.center));
                let l = normalize(sub(cam.eye, p));
                let shade = AMBIENT + DIFFUSE * dot(n, l).max(0.0);
                let o = (row * size + col) * 3;
                for ch in 0..3 {
                    img[o + ch] = (2.0 * s.color[ch] * shade - 1.0) as f32;
                }
            }
        }
    }
    img
}

/// Splits a `size²` RGB image into `(size/p)²` patches of `p·p·3` values, patch-major in
/// raster order, each patch `[di][dj][rgb]`.
#[must_use]
pub fn patchify(img: &[f32], size: usize, p: usize) -> Vec<f32> {
    let g = size / p;
    let mut out = Vec::with_capacity(img.len());
    for pi in 0..g {
        for pj in 0..g {
            for di in 0..p {
                for dj in 0..p {
                    let o = ((pi * p + di) * size + pj * p + dj) * 3;
                    out.extend_from_slice(&img[o..o + 3]);
                }
            }
        }
    }
    out
}

/// Inverse of [`patchify`].
#[must_use]
pub fn unpatchify(patches: &[f32], size: usize, p: usize) -> Vec<f32> {
    let g = size / p;
    let mut img = vec![0.0f32; size * size * 3];
    let mut k = 0;
    for pi in 0..g {
        for pj in 0..g {
            for di in 0..p {
                for dj in 0..p {
                    let o = ((pi * p + di) * size + pj * p + dj) * 3;
                    img[o..o + 3].copy_from_slice(&patches[k..k + 3]);
                    k += 3;
                }
            }
        }
    }
    img
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // bitwise comparisons of deterministic outputs and exact hand values
mod tests {
    use super::*;
    use gdlab_core::Seed;

    #[test]
    fn single_sphere_matches_analytic_pixels() {
        // One sphere of radius r at the origin, seen from distance D = 2. A pixel ray at
        // angle θ from the optical axis (tan θ = √(u²+v²)/f) hits iff D·sin θ < r, and
        // since the light is at the camera, n·l = cos(incidence) = √(1 − (D sin θ / r)²).
        let r = 0.5;
        let color = [0.8, 0.4, 0.2];
        let scene = Scene {
            spheres: vec![Sphere {
                center: [0.0; 3],
                radius: r,
                color,
            }],
        };
        let size = 24;
        let cam = Camera::turntable(0.7);
        let img = render(&scene, &cam, size);
        let mut hits = 0;
        for row in 0..size {
            for col in 0..size {
                let u = (col as f64 + 0.5) / size as f64 * 2.0 - 1.0;
                let v = 1.0 - (row as f64 + 0.5) / size as f64 * 2.0;
                let theta = ((u * u + v * v).sqrt() / FOCAL).atan();
                let s = CAMERA_RADIUS * theta.sin() / r;
                let o = (row * size + col) * 3;
                for ch in 0..3 {
                    let want = if s < 1.0 {
                        2.0 * color[ch] * (AMBIENT + DIFFUSE * (1.0 - s * s).sqrt()) - 1.0
                    } else {
                        1.0
                    };
                    assert!(
                        (f64::from(img[o + ch]) - want).abs() < 1e-6,
                        "pixel ({row},{col}) ch {ch}: {} vs {want}",
                        img[o + ch]
                    );
                }
                hits += usize::from(s < 1.0);
            }
        }
        // Disk of image radius f·tan(asin(r/D)) = 0.313 has area 0.308 ≈ 44 pixels of
        // (2/24)² each.
        assert!((40..=48).contains(&hits), "{hits}");
    }

    #[test]
    fn nearer_sphere_occludes_and_camera_is_orthonormal() {
        let cam = Camera::turntable(1.3);
        assert!((dot(cam.forward, cam.right)).abs() < 1e-12);
        assert!((dot(cam.up, cam.up) - 1.0).abs() < 1e-12);
        assert!(cam.up[2] > 0.0);
        // Two spheres on the optical axis: the pixel near the centre shows the nearer one.
        let near = [cam.eye[0] * 0.4, cam.eye[1] * 0.4, cam.eye[2] * 0.4];
        let scene = Scene {
            spheres: vec![
                Sphere {
                    center: [0.0; 3],
                    radius: 0.3,
                    color: PALETTE[0],
                },
                Sphere {
                    center: near,
                    radius: 0.1,
                    color: PALETTE[2],
                },
            ],
        };
        let img = render(&scene, &cam, 24);
        let o = (11 * 24 + 11) * 3;
        assert!(img[o + 2] > img[o]); // blue (near) in front of red
    }

    #[test]
    fn scenes_are_deterministic_and_in_range() {
        let a = Scene::random(&mut Seed(3).rng());
        assert_eq!(a, Scene::random(&mut Seed(3).rng()));
        for s in &a.spheres {
            assert!(s.center.iter().map(|x| x * x).sum::<f64>().sqrt() <= 0.55 + 1e-12);
            assert!((0.18..=0.32).contains(&s.radius));
        }
        assert_ne!(a.spheres[0].color, a.spheres[1].color);
        let img = render(&a, &Camera::turntable(0.0), 24);
        assert_eq!(unpatchify(&patchify(&img, 24, 4), 24, 4), img);
    }
}
