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

/// Lateness samples of a loop that may run for hours, in constant memory: an HDR histogram of
/// microseconds (3 significant digits) up to an hour, larger values clamped there.
pub struct LatencyHistogram {
    h: hdrhistogram::Histogram<u64>,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self {
            h: hdrhistogram::Histogram::new_with_bounds(1, Self::MAX_US, 3)
                .expect("constant histogram bounds are valid"),
        }
    }
}

impl LatencyHistogram {
    const MAX_US: u64 = 3_600_000_000;

    pub fn record(&mut self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.h.saturating_record(us.clamp(1, Self::MAX_US));
    }

    pub fn count(&self) -> u64 {
        self.h.len()
    }

    /// p-th percentile (0..=100) in microseconds; 0 when empty.
    pub fn percentile_us(&self, p: f64) -> f64 {
        if self.h.is_empty() {
            return 0.0;
        }
        if p >= 100.0 {
            return self.h.max() as f64;
        }
        self.h.value_at_percentile(p) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_percentiles_match_the_samples_in_constant_memory() {
        let mut h = LatencyHistogram::default();
        let mut exact: Vec<Duration> = Vec::new();
        for i in 0..10_000u64 {
            let d = Duration::from_micros((i * 7919) % 5000 + 3);
            h.record(d);
            exact.push(d);
        }
        assert_eq!(h.count(), 10_000);
        for p in [50.0, 99.0, 100.0] {
            let want = percentile_us(&mut exact, p);
            let got = h.percentile_us(p);
            assert!(
                (got - want).abs() <= want * 0.002 + 1.0,
                "p{p}: {got} vs {want}"
            );
        }
        // A day-long stall is clamped, not a panic or an allocation.
        h.record(Duration::from_secs(86_400));
        assert!(
            h.percentile_us(100.0) >= 3_599_000_000.0 && h.percentile_us(100.0) <= 3_610_000_000.0
        );
    }
}
