//! Deterministic hashing and smooth value noise for the demo city.
//!
//! Everything here is a pure function of its inputs, so the same seed gives
//! bit-identical results on every run and every platform.

/// SplitMix64 finaliser: a cheap, well-mixing 64-bit permutation.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hash of a lattice position, a seed and a channel (independent streams).
pub(crate) fn hash3(seed: u64, a: i64, b: i64, channel: u64) -> u64 {
    mix64(seed ^ mix64((a as u64) ^ mix64((b as u64) ^ mix64(channel))))
}

/// A hash mapped to `[0, 1)` with 53 bits of precision.
pub(crate) fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

fn smoothstep(t: f64) -> f64 {
    t * t * (3.0 - 2.0 * t)
}

/// Value noise in `[-1, 1]` with unit wavelength: random values at integer
/// points, smoothly interpolated in between.
pub(crate) fn value_noise(seed: u64, channel: u64, x: f64, y: f64) -> f64 {
    let (fx, fy) = (x.floor(), y.floor());
    let (ix, iy) = (fx as i64, fy as i64);
    let (tx, ty) = (smoothstep(x - fx), smoothstep(y - fy));
    let v = |dx: i64, dy: i64| unit(hash3(seed, ix + dx, iy + dy, channel)) * 2.0 - 1.0;
    let bottom = v(0, 0) + (v(1, 0) - v(0, 0)) * tx;
    let top = v(0, 1) + (v(1, 1) - v(0, 1)) * tx;
    bottom + (top - bottom) * ty
}

/// A smooth domain warp: displaces a point by low-frequency noise so that
/// Voronoi borders computed in the warped space wander like real streets.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Warp {
    seed: u64,
    /// Largest displacement of the first octave, metres.
    amplitude: f64,
    /// Wavelength of the first octave, metres.
    wavelength: f64,
}

impl Warp {
    pub(crate) fn new(seed: u64, amplitude: f64, wavelength: f64) -> Self {
        Self {
            seed,
            amplitude,
            wavelength,
        }
    }

    /// Upper bound of the displacement length.
    pub(crate) fn max_displacement(&self) -> f64 {
        // Two octaves per axis, 1 + 1/2 of the amplitude each.
        1.5 * self.amplitude * std::f64::consts::SQRT_2
    }

    /// The warped position of `(x, y)`.
    pub(crate) fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        let (u, v) = (x / self.wavelength, y / self.wavelength);
        let dx =
            value_noise(self.seed, 1, u, v) + 0.5 * value_noise(self.seed, 3, 2.0 * u, 2.0 * v);
        let dy =
            value_noise(self.seed, 2, u, v) + 0.5 * value_noise(self.seed, 4, 2.0 * u, 2.0 * v);
        (x + self.amplitude * dx, y + self.amplitude * dy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_bounded_continuous_and_deterministic() {
        let mut prev = value_noise(7, 1, 0.0, 0.3);
        for k in 1..2000 {
            let x = k as f64 * 0.01;
            let n = value_noise(7, 1, x, 0.3);
            assert!((-1.0..=1.0).contains(&n));
            // Continuity: a step of 0.01 wavelengths moves the value by little.
            assert!((n - prev).abs() < 0.05, "jump at {x}: {prev} -> {n}");
            assert_eq!(n, value_noise(7, 1, x, 0.3));
            prev = n;
        }
        assert_ne!(value_noise(7, 1, 0.5, 0.5), value_noise(8, 1, 0.5, 0.5));
    }

    #[test]
    fn warp_stays_within_its_bound() {
        let w = Warp::new(3, 40.0, 300.0);
        for k in 0..500 {
            let (x, y) = (k as f64 * 13.7, k as f64 * -7.3);
            let (wx, wy) = w.apply(x, y);
            assert!(((wx - x).powi(2) + (wy - y).powi(2)).sqrt() <= w.max_displacement());
        }
    }

    #[test]
    fn unit_covers_the_interval() {
        assert_eq!(unit(0), 0.0);
        assert!(unit(u64::MAX) < 1.0);
    }
}
