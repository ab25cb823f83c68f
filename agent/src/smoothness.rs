//! How smooth the commanded motion was: the jump of the TCP target at each chunk hand-over, and
//! the jerk of the commanded TCP target. Measured by the control stage, reported per episode.

use nalgebra::Vector3;
use serde::{Deserialize, Serialize};

/// One episode's figures.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Smoothness {
    /// At each hand-over within a skill attempt: how far the TCP target at the first tick of the
    /// new chunk is from where the executing chunk would have put it at that tick (m).
    pub boundary_jumps_m: Vec<f64>,
    /// Sum of the squared jerk samples of the commanded TCP target ((m/s^3)^2), and how many.
    pub jerk_sq_sum: f64,
    pub jerk_samples: u64,
}

impl Smoothness {
    /// RMS jerk (m/s^3); `None` without samples.
    pub fn jerk_rms(&self) -> Option<f64> {
        (self.jerk_samples > 0).then(|| (self.jerk_sq_sum / self.jerk_samples as f64).sqrt())
    }
}

/// Jerk of the commanded TCP target, sampled every `period` seconds of robot time (the
/// policy's action period: the rate its actions come at; sampling faster would measure the
/// controller's linear interpolation between actions rather than the actions).
#[derive(Debug)]
pub(crate) struct JerkMeter {
    period: f64,
    next: Option<f64>,
    /// The last four samples, oldest first.
    window: Vec<Vector3<f64>>,
}

impl JerkMeter {
    pub fn new(period: f64) -> Self {
        JerkMeter {
            period,
            next: None,
            window: Vec::with_capacity(4),
        }
    }

    /// The commanded target at robot time `t`, while a chunk runs.
    pub fn push(&mut self, t: f64, target: Vector3<f64>, out: &mut Smoothness) {
        if self.period.is_nan() || self.period <= 0.0 {
            return;
        }
        let due = *self.next.get_or_insert(t);
        // Half a control tick of slack: ticks land on the grid up to rounding.
        if t + 1e-6 < due {
            return;
        }
        self.next = Some(due + self.period);
        if self.window.len() == 4 {
            self.window.remove(0);
        }
        self.window.push(target);
        if let [a, b, c, d] = self.window[..] {
            // Third backward difference.
            let jerk = (d - 3.0 * c + 3.0 * b - a) / self.period.powi(3);
            out.jerk_sq_sum += jerk.norm_squared();
            out.jerk_samples += 1;
        }
    }

    /// The arm stopped following chunks (between skills, after a stop): the next motion starts
    /// a new difference window.
    pub fn pause(&mut self) {
        self.next = None;
        self.window.clear();
    }

    pub fn set_period(&mut self, period: f64) {
        if (period - self.period).abs() > 1e-12 {
            self.period = period;
            self.pause();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cubic_has_its_constant_jerk_and_a_line_none() {
        let mut s = Smoothness::default();
        let mut m = JerkMeter::new(0.1);
        // x = t^3: jerk 6 m/s^3, sampled at 0.1 s from ticks of 2 ms.
        for k in 0..=500 {
            let t = k as f64 * 0.002;
            m.push(t, Vector3::new(t.powi(3), 0.0, 0.0), &mut s);
        }
        assert_eq!(s.jerk_samples, 8);
        assert!((s.jerk_rms().unwrap() - 6.0).abs() < 1e-6, "{s:?}");
        let mut line = Smoothness::default();
        let mut m = JerkMeter::new(0.1);
        for k in 0..=500 {
            let t = k as f64 * 0.002;
            m.push(t, Vector3::new(0.3 * t, 0.1, -t), &mut line);
        }
        assert!(line.jerk_rms().unwrap() < 1e-9);
    }
}
