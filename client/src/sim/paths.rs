//! Intraday price paths through a crash's daily facts, at a fixed step (one minute by default).
//!
//! Each day's known open, high, low and close are anchors: the open at the day's first step, the
//! close at its last, the high and the low at random steps inside the day (the same steps for
//! every asset of the event, so their extremes coincide as they did). Between two anchors the log
//! price is a Brownian bridge: the straight line between them plus Brownian noise pinned to zero
//! at both ends. If that noise would leave the range the facts allow (the day's high and low, or
//! the asset's whole known range on a day without them), the segment's noise is scaled down as a
//! whole until it fits, so the path still passes through every fact and never beyond one. After
//! the last fact the path walks freely (clamped to the range).
//!
//! Volatility is calibrated per asset and day from the facts: Rogers–Satchell (drift-free) when
//! open, close and at least one extreme are known, else Parkinson on the range the known cells
//! bound; a day without such facts takes the calmest calibrated day of that asset.
//!
//! A second asset follows the first: its noise is the first asset's log path (so between its own
//! facts it moves as the first did) plus an independent part of weight `sqrt(1 − ρ²)`.
//! Prices are `f64` here: they are the simulation's input, not on-chain math; the oracle turns
//! them into the program's prices ([`super::oracle`]).

use super::facts::{AssetFacts, EventFacts};
use rand::Rng;
use rand_distr::StandardNormal;

/// Parkinson's constant `2·sqrt(ln 2)`: the expected daily log range of unit-variance motion.
const PARKINSON: f64 = 1.665_109_222_315_395;

/// What the path generator needs from one asset's facts, computed once per run.
#[derive(Clone, Debug)]
pub struct AssetModel {
    /// Symbol.
    pub asset: String,
    days: Vec<DayModel>,
    /// Daily volatility used on each day.
    pub daily_vol: Vec<f64>,
}

#[derive(Clone, Debug)]
struct DayModel {
    open: Option<f64>,
    high: Option<f64>,
    low: Option<f64>,
    close: Option<f64>,
    /// Log bounds for the day.
    lo: f64,
    hi: f64,
}

/// One draw: every asset's price at every step.
#[derive(Clone, Debug)]
pub struct Path {
    /// `prices[asset][step]`, USD per token, assets in the event's order.
    pub prices: Vec<Vec<f64>>,
}

/// The generator for one event.
#[derive(Clone, Debug)]
pub struct PathModel {
    /// Steps per day.
    pub steps_per_day: usize,
    /// Assets, leader first.
    pub assets: Vec<AssetModel>,
    correlation: f64,
    vol_scale: f64,
}

/// Rogers–Satchell or Parkinson daily volatility of a day (module docs); `None` without enough
/// facts.
pub fn day_vol(
    open: Option<f64>,
    high: Option<f64>,
    low: Option<f64>,
    close: Option<f64>,
) -> Option<f64> {
    if high.is_none() && low.is_none() {
        return None;
    }
    if let (Some(o), Some(c)) = (open, close) {
        let h = high.unwrap_or(o.max(c));
        let l = low.unwrap_or(o.min(c));
        let v = (h / c).ln() * (h / o).ln() + (l / c).ln() * (l / o).ln();
        return Some(v.max(0.0).sqrt());
    }
    let known: Vec<f64> = [open, high, low, close].into_iter().flatten().collect();
    let hi = known.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lo = known.iter().copied().fold(f64::INFINITY, f64::min);
    (hi > lo).then(|| (hi / lo).ln() / PARKINSON)
}

impl AssetModel {
    fn new(a: &AssetFacts) -> AssetModel {
        let (lo, hi) = a.range();
        let days: Vec<DayModel> = a
            .days
            .iter()
            .map(|d| DayModel {
                open: d.open,
                high: d.high,
                low: d.low,
                close: d.close,
                lo: d.low.unwrap_or(lo).ln(),
                hi: d.high.unwrap_or(hi).ln(),
            })
            .collect();
        let est: Vec<Option<f64>> = a
            .days
            .iter()
            .map(|d| day_vol(d.open, d.high, d.low, d.close))
            .collect();
        let calmest = est
            .iter()
            .flatten()
            .copied()
            .filter(|v| *v > 0.0)
            .fold(f64::INFINITY, f64::min);
        // No calibrated day at all (too few facts): 5% a day, stated in the docs.
        let fallback = if calmest.is_finite() { calmest } else { 0.05 };
        let daily_vol = est
            .iter()
            .map(|e| e.filter(|v| *v > 0.0).unwrap_or(fallback))
            .collect();
        AssetModel {
            asset: a.asset.clone(),
            days,
            daily_vol,
        }
    }

    /// `(step, log price)` anchors for extremes at `extremes[day] = (high step, low step)`.
    fn anchors(&self, spd: usize, extremes: &[(usize, usize)]) -> Vec<(usize, f64)> {
        let mut out: Vec<(usize, f64)> = Vec::new();
        let mut push = |step: usize, p: f64| {
            if out.last().is_none_or(|&(s, _)| s < step) {
                out.push((step, p.ln()));
            }
        };
        for (k, d) in self.days.iter().enumerate() {
            let base = k * spd;
            if let Some(o) = d.open {
                push(base, o);
            }
            let (th, tl) = extremes[k];
            let mut ext: Vec<(usize, f64)> = Vec::new();
            for (cell, t) in [(d.high, th), (d.low, tl)] {
                // An extreme equal to the open or the close is at the open or the close.
                if let Some(p) = cell.filter(|p| Some(*p) != d.open && Some(*p) != d.close) {
                    ext.push((base + t, p));
                }
            }
            ext.sort_by_key(|e| e.0);
            for (t, p) in ext {
                push(t, p);
            }
            if let Some(c) = d.close {
                push(base + spd - 1, c);
            }
        }
        out
    }

    /// The log path through `anchors`, with `noise` the cumulative noise at every step.
    fn draw(&self, spd: usize, anchors: &[(usize, f64)], noise: &[f64]) -> Vec<f64> {
        let n = noise.len();
        let mut x = vec![0.0; n];
        let bounds = |t: usize| {
            let d = &self.days[(t / spd).min(self.days.len() - 1)];
            (d.lo, d.hi)
        };
        for w in anchors.windows(2) {
            let ((a, xa), (b, xb)) = (w[0], w[1]);
            let span = (b - a) as f64;
            let lin = |t: usize| xa + (xb - xa) * (t - a) as f64 / span;
            let dev =
                |t: usize| noise[t] - noise[a] - (noise[b] - noise[a]) * (t - a) as f64 / span;
            // The largest scale that keeps the whole segment inside its bounds.
            let mut s: f64 = 1.0;
            for t in a + 1..b {
                let (lo, hi) = bounds(t);
                let (l, d) = (lin(t), dev(t));
                if d > 0.0 {
                    s = s.min(((hi - l) / d).max(0.0));
                } else if d < 0.0 {
                    s = s.min(((l - lo) / -d).max(0.0));
                }
            }
            x[a] = xa;
            for (t, slot) in x.iter_mut().enumerate().take(b).skip(a + 1) {
                let (lo, hi) = bounds(t);
                *slot = (lin(t) + s * dev(t)).clamp(lo, hi);
            }
            x[b] = xb;
        }
        if let Some(&(a, xa)) = anchors.last() {
            for (t, slot) in x.iter_mut().enumerate().skip(a) {
                let (lo, hi) = bounds(t);
                *slot = (xa + noise[t] - noise[a]).clamp(lo, hi);
            }
        }
        x
    }
}

impl PathModel {
    /// The generator for `facts` at `step_minutes` per step.
    pub fn new(facts: &EventFacts, step_minutes: u32, correlation: f64, vol_scale: f64) -> Self {
        PathModel {
            steps_per_day: (1440 / step_minutes.max(1)) as usize,
            assets: facts.assets.iter().map(AssetModel::new).collect(),
            correlation,
            vol_scale,
        }
    }

    /// Steps in a path.
    pub fn steps(&self) -> usize {
        self.assets.first().map_or(0, |a| a.days.len()) * self.steps_per_day
    }

    /// Cumulative Brownian noise with each day's volatility, times `weight`.
    fn noise(&self, asset: &AssetModel, weight: f64, rng: &mut impl Rng) -> Vec<f64> {
        let per_step = (1.0 / self.steps_per_day as f64).sqrt() * self.vol_scale * weight;
        let mut w = Vec::with_capacity(self.steps());
        let mut acc = 0.0;
        for t in 0..self.steps() {
            if t > 0 {
                let z: f64 = rng.sample(StandardNormal);
                acc += z * asset.daily_vol[t / self.steps_per_day] * per_step;
            }
            w.push(acc);
        }
        w
    }

    /// One path.
    pub fn draw(&self, rng: &mut impl Rng) -> Path {
        let spd = self.steps_per_day;
        let days = self.steps() / spd.max(1);
        // Distinct high and low steps inside each day, shared by the assets.
        let extremes: Vec<(usize, usize)> = (0..days)
            .map(|_| {
                let h = rng.gen_range(1..spd - 1);
                let mut l = rng.gen_range(1..spd - 2);
                if l >= h {
                    l += 1;
                }
                (h, l)
            })
            .collect();
        let mut logs: Vec<Vec<f64>> = Vec::with_capacity(self.assets.len());
        for (k, a) in self.assets.iter().enumerate() {
            let anchors = a.anchors(spd, &extremes);
            let noise = if k == 0 {
                self.noise(a, 1.0, rng)
            } else {
                let own = (1.0 - self.correlation * self.correlation).max(0.0).sqrt();
                let mut w = self.noise(a, own, rng);
                for (wi, g) in w.iter_mut().zip(&logs[0]) {
                    *wi += g;
                }
                w
            };
            logs.push(a.draw(spd, &anchors, &noise));
        }
        Path {
            prices: logs
                .into_iter()
                .map(|l| l.into_iter().map(f64::exp).collect())
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::facts::{load, BUNDLED};
    use super::*;
    use rand::SeedableRng;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9 * b
    }

    #[test]
    fn paths_pass_through_every_fact_and_never_beyond() {
        for event in ["ftx_2022", "may_2021", "mar_2020"] {
            let facts = load(BUNDLED, "data/crashes.csv", event).unwrap();
            let model = PathModel::new(&facts, 1, 0.9, 1.0);
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
            for _ in 0..20 {
                let path = model.draw(&mut rng);
                for (a, f) in facts.assets.iter().enumerate() {
                    let p = &path.prices[a];
                    assert_eq!(p.len(), facts.days() * 1440);
                    let (lo, hi) = f.range();
                    for (k, d) in f.days.iter().enumerate() {
                        let day = &p[k * 1440..(k + 1) * 1440];
                        let dmin = day.iter().copied().fold(f64::INFINITY, f64::min);
                        let dmax = day.iter().copied().fold(0.0, f64::max);
                        if let Some(o) = d.open {
                            assert!(close(day[0], o), "{event} {} open", d.date);
                        }
                        if let Some(c) = d.close {
                            assert!(close(day[1439], c), "{event} {} close", d.date);
                        }
                        match d.high {
                            Some(h) => assert!(close(dmax, h), "{event} {} high {dmax}", d.date),
                            None => assert!(dmax <= hi * (1.0 + 1e-9)),
                        }
                        match d.low {
                            Some(l) => assert!(close(dmin, l), "{event} {} low {dmin}", d.date),
                            None => assert!(dmin >= lo * (1.0 - 1e-9)),
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn volatility_from_the_facts() {
        // FTX 2022-11-09: open 24.16, low 12.51, close 13.94, high unknown (taken as the open).
        let v = day_vol(Some(24.16), None, Some(12.51), Some(13.94)).unwrap();
        let rs = ((12.51f64 / 13.94).ln() * (12.51f64 / 24.16).ln()).sqrt();
        assert!(close(v, rs) && (0.26..0.27).contains(&v), "{v}");
        // Only an open and a low: Parkinson on the range they bound.
        let v = day_vol(Some(195.07), None, Some(102.66), None).unwrap();
        assert!(close(v, (195.07f64 / 102.66).ln() / PARKINSON));
        assert_eq!(day_vol(Some(1.0), None, None, Some(2.0)), None);
        let facts = load(BUNDLED, "data/crashes.csv", "ftx_2022").unwrap();
        let m = PathModel::new(&facts, 1, 0.9, 1.0);
        // 11-05..11-07 and 11-10 have no range: the calmest calibrated day (11-08).
        let v = &m.assets[0].daily_vol;
        assert!(
            close(v[0], v[3]) && close(v[5], v[3]) && v[4] > v[3],
            "{v:?}"
        );
    }
}
