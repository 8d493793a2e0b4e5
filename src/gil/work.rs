//! The CPU work the simulator runs: units of a mixing function, and their calibration.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Rounds of the mixing function in one unit of [`Py::compute`](super::Py::compute) work.
const UNIT_ROUNDS: u32 = 128;

/// One unit of CPU work: a few dozen nanoseconds to a microsecond depending on the machine
/// (see [`units_for`]). Not inlined, so the optimiser cannot fold units together.
#[inline(never)]
pub(super) fn unit(mut x: u64) -> u64 {
    for _ in 0..UNIT_ROUNDS {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x = x.wrapping_mul(0x2545_f491_4f6c_dd1d);
    }
    x
}

/// Does `units` units of the same CPU work as [`Py::compute`](super::Py::compute), with no
/// interpreter and no GIL: what a worker process or a native extension runs. Returns a checksum
/// (use it, or the work may be optimised away).
///
/// # Examples
///
/// ```
/// let a = synckit::gil::spin(1000);
/// assert_eq!(a, synckit::gil::spin(1000)); // deterministic
/// ```
pub fn spin(units: u64) -> u64 {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..units {
        x = unit(std::hint::black_box(x));
    }
    x
}

/// How many units of [`Py::compute`](super::Py::compute) (or [`spin`]) work take about
/// `duration` on this machine. Calibrated once per process (about 20 ms, the first time), at
/// least 1.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// let units = synckit::gil::units_for(Duration::from_millis(2));
/// assert!(units >= 1);
/// ```
pub fn units_for(duration: Duration) -> u64 {
    static PER_SEC: OnceLock<f64> = OnceLock::new();
    let per_sec = *PER_SEC.get_or_init(|| {
        // Warm up, then take the best of three short runs (least disturbed by the OS).
        let _ = spin(2_000);
        let mut best = 0.0f64;
        for _ in 0..3 {
            let n = 20_000u64;
            let start = Instant::now();
            std::hint::black_box(spin(n));
            let secs = start.elapsed().as_secs_f64().max(1e-9);
            best = best.max(n as f64 / secs);
        }
        best
    });
    ((per_sec * duration.as_secs_f64()).round() as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spin_is_deterministic_and_units_scale() {
        assert_eq!(spin(10), spin(10));
        assert!(units_for(Duration::from_millis(10)) >= units_for(Duration::from_millis(1)));
    }
}
