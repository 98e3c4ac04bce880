//! Order statistics over samples, in microseconds.

use std::time::Duration;

/// The `q`-quantile (0 ≤ q ≤ 1) of `samples` in µs, by nearest rank; sorts them.
pub fn quantile_us(samples: &mut [Duration], q: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_unstable();
    let rank = ((samples.len() - 1) as f64 * q).round() as usize;
    samples[rank.min(samples.len() - 1)].as_secs_f64() * 1e6
}

/// The median in µs.
pub fn median_us(samples: &mut [Duration]) -> f64 {
    quantile_us(samples, 0.5)
}

/// Median and 99th percentile in µs.
#[derive(Debug, Clone, Copy)]
pub struct Spread {
    /// 50th percentile.
    pub median: f64,
    /// 99th percentile.
    pub p99: f64,
}

impl Spread {
    /// The spread of `samples`.
    pub fn of(samples: &mut [Duration]) -> Self {
        Self { median: quantile_us(samples, 0.5), p99: quantile_us(samples, 0.99) }
    }
}
