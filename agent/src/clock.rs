//! Wall-clock pacing for running on a real robot: a fixed-rate loop that knows when it is late.

use std::time::{Duration, Instant};

/// Keeps a loop at a fixed rate on the wall clock. Each `wait` returns how late this tick
/// started relative to its schedule; the schedule never drifts (tick k is due at start + k T).
pub struct WallRate {
    period: Duration,
    start: Instant,
    tick: u64,
    /// Last stretch is spun rather than slept: OS sleeps overshoot by tens of microseconds.
    spin: Duration,
}

impl WallRate {
    pub fn new(hz: f64) -> Self {
        Self {
            period: Duration::from_secs_f64(1.0 / hz),
            start: Instant::now(),
            tick: 0,
            spin: Duration::from_micros(150),
        }
    }

    pub fn period(&self) -> Duration {
        self.period
    }

    /// Waits for the next tick; returns its lateness. A lateness above a period means the
    /// previous tick overran its deadline (a watchdog holds the arm then).
    pub fn wait(&mut self) -> Duration {
        self.tick += 1;
        let due = self.start + self.period * self.tick as u32;
        let now = Instant::now();
        if due > now + self.spin {
            std::thread::sleep(due - now - self.spin);
        }
        while Instant::now() < due {
            std::hint::spin_loop();
        }
        Instant::now() - due
    }
}

/// p-th percentile (0..=100) of durations, in microseconds.
pub fn percentile_us(samples: &mut [Duration], p: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.sort();
    let i = ((p / 100.0) * (samples.len() - 1) as f64).round() as usize;
    samples[i].as_secs_f64() * 1e6
}
