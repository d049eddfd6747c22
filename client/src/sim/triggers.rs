//! Which accounts can become liquidatable at a step, so the engine evaluates only those.
//!
//! Maintenance health is linear in each price. With `m` the maintenance health at the last
//! evaluation and `E` the maintenance-weighted value of the account's volatile positions, no
//! move of less than the fraction `m / E` in every volatile price (down for a deposit, up for a
//! debt) can take it below zero. Each account therefore waits in a ladder per asset and direction
//! at its trigger price `P·(1 ∓ m/E)` (exact for a one-asset account: its liquidation price), and
//! a step looks only at the rungs the price crossed. A triggered account is evaluated with the program's
//! math; if it is still healthy it waits again at new triggers. Entries carry the account's
//! version, so a re-armed account's old entries are skipped when they surface.

use super::policy::per_native;
use scalpel::math::HealthPosition;

#[derive(Clone, Copy, Debug)]
struct Entry {
    price: f64,
    account: u32,
    version: u32,
}

/// A bucket spans 2^-10 of a doubling (0.07% to 0.1% of the price): a positive `f64`'s bits
/// order like its value and grow by 2^52 per doubling, so the bits shifted right by 42 are a
/// monotone, piecewise-linear log price without a call to `ln`.
const SHIFT: u32 = 42;
/// Buckets either side of the reference price (a factor 2^(6000/1024) ≈ 58 each way; beyond,
/// the end buckets hold everything and are checked entry by entry).
const HALF: usize = 6000;

/// A positive price's position on the bucket scale (non-positive and NaN prices at the bottom).
fn log_bits(price: f64) -> i64 {
    // `max` returns the other operand for a NaN.
    price.max(f64::MIN_POSITIVE).to_bits() as i64
}

/// Triggers of one asset and direction in buckets of log price: a step drains the buckets the
/// price crossed and checks the one it sits in, so firing and arming cost O(1) each (a heap
/// costs a logarithm of the entries, stale ones included, per push and pop).
#[derive(Clone, Debug)]
struct Ladder {
    buckets: Vec<Vec<Entry>>,
    bits_ref: i64,
    /// Falling: the highest bucket that may hold an entry; rising: the lowest.
    edge: usize,
    rising: bool,
    len: usize,
}

impl Ladder {
    fn new(reference: f64, rising: bool) -> Ladder {
        Ladder {
            buckets: vec![Vec::new(); 2 * HALF],
            bits_ref: log_bits(reference),
            edge: if rising { 2 * HALF - 1 } else { 0 },
            rising,
            len: 0,
        }
    }

    /// A monotone map of prices to buckets.
    fn bucket(&self, price: f64) -> usize {
        // Both sides are below 2^63, so the difference cannot overflow; `>>` floors.
        let x = ((log_bits(price) - self.bits_ref) >> SHIFT) + HALF as i64;
        x.clamp(0, (2 * HALF - 1) as i64) as usize
    }

    fn push(&mut self, e: Entry) {
        let b = self.bucket(e.price);
        self.buckets[b].push(e);
        self.edge = if self.rising {
            self.edge.min(b)
        } else {
            self.edge.max(b)
        };
        self.len += 1;
    }

    /// Entries the price `p` reaches: falling triggers at or above it, rising ones at or below.
    fn fire(&mut self, p: f64, out: &mut Vec<(u32, u32)>) {
        let bp = self.bucket(p);
        let fires = |e: &Entry| {
            if self.rising {
                e.price <= p
            } else {
                e.price >= p
            }
        };
        if (!self.rising && self.edge < bp) || (self.rising && self.edge > bp) {
            return;
        }
        while self.edge != bp {
            let drained = std::mem::take(&mut self.buckets[self.edge]);
            self.len -= drained.len();
            out.extend(drained.iter().map(|e| (e.account, e.version)));
            self.edge = if self.rising {
                self.edge + 1
            } else {
                self.edge - 1
            };
        }
        let bucket = &mut self.buckets[bp];
        let before = bucket.len();
        bucket.retain(|e| {
            if fires(e) {
                out.push((e.account, e.version));
                false
            } else {
                true
            }
        });
        self.len -= before - bucket.len();
    }

    fn retain(&mut self, keep: &impl Fn(u32, u32) -> bool) {
        self.len = 0;
        for b in &mut self.buckets {
            b.retain(|e| keep(e.account, e.version));
            self.len += b.len();
        }
    }
}

/// A deposit trigger fires when the price falls to it; a debt trigger when the price rises to it.
#[derive(Clone, Debug, Default)]
pub struct Triggers {
    /// Per asset: deposit triggers.
    falling: Vec<Ladder>,
    /// Per asset: debt triggers.
    rising: Vec<Ladder>,
}

/// Relative slack so rounding in `f64` can only fire a trigger early, never late.
const SLACK: f64 = 1e-7;

impl Triggers {
    /// Ladders for volatile assets around their `reference` prices.
    pub fn new(reference: &[f64]) -> Triggers {
        Triggers {
            falling: reference.iter().map(|&p| Ladder::new(p, false)).collect(),
            rising: reference.iter().map(|&p| Ladder::new(p, true)).collect(),
        }
    }

    /// Arms `account` (at `version`) from its maintenance health `maint` (USD) over
    /// `positions`, where `asset_of[i]` is the path asset of position `i` (`None`: a fixed
    /// price), `price[i]` its price now (USD per token) and `weight[i]` its maintenance weight
    /// (asset weight for a deposit, liability weight for a debt). Returns false when no price
    /// move can liquidate it (no debt, or no volatile position).
    // The account and its positions' parallel views, as the engine holds them (a struct
    // would only be built to be taken apart here).
    #[allow(clippy::too_many_arguments)]
    pub fn arm(
        &mut self,
        account: u32,
        version: u32,
        maint: f64,
        positions: &[HealthPosition],
        asset_of: &[Option<usize>],
        price: &[f64],
        weight: &[f64],
    ) -> bool {
        if positions.iter().all(|p| p.debt == 0) {
            return false;
        }
        // Weighted values in f64: only where to look, never whether to liquidate.
        let value = |k: usize| -> f64 {
            let p = &positions[k];
            (p.deposit + p.debt) as f64 * price[k] * weight[k] * per_native(p.decimals)
        };
        let exposure: f64 = (0..positions.len())
            .filter(|&k| asset_of[k].is_some())
            .map(value)
            .sum();
        if exposure.is_nan() || exposure <= 0.0 {
            return false;
        }
        let d = (maint / exposure).max(0.0);
        for (k, p) in positions.iter().enumerate() {
            let Some(a) = asset_of[k] else { continue };
            if p.deposit > 0 {
                let t = price[k] * (1.0 - d) * (1.0 + SLACK);
                if t > 0.0 {
                    self.falling[a].push(Entry {
                        price: t,
                        account,
                        version,
                    });
                }
            } else if p.debt > 0 {
                let t = price[k] * (1.0 + d) * (1.0 - SLACK);
                self.rising[a].push(Entry {
                    price: t,
                    account,
                    version,
                });
            }
        }
        true
    }

    /// Entries held, current or not.
    pub fn len(&self) -> usize {
        self.falling.iter().chain(&self.rising).map(|l| l.len).sum()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops the entries `current(account, version)` rejects (re-armed accounts leave their
    /// old entries behind; without this the heaps grow with every liquidation).
    pub fn compact(&mut self, current: impl Fn(u32, u32) -> bool) {
        for l in self.falling.iter_mut().chain(self.rising.iter_mut()) {
            l.retain(&current);
        }
    }

    /// Every entry of `asset` that the price `price` fires, as `(account, version)`.
    pub fn fired(&mut self, asset: usize, price: f64, out: &mut Vec<(u32, u32)>) {
        self.falling[asset].fire(price, out);
        self.rising[asset].fire(price, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bucket scale is monotone in the price (what firing a drained bucket whole relies on),
    /// from below the smallest positive price to infinity.
    #[test]
    fn buckets_rise_with_the_price() {
        let l = Ladder::new(25.0, false);
        let mut last = 0;
        let mut p = 1e-300_f64;
        while p < 1e300 {
            let b = l.bucket(p);
            assert!(b >= last, "bucket({p}) = {b} < {last}");
            last = b;
            p *= 1.0 + 1e-4;
        }
        assert_eq!(l.bucket(0.0), 0);
        assert_eq!(l.bucket(-1.0), 0);
        assert_eq!(l.bucket(f64::NAN), 0);
        assert_eq!(l.bucket(f64::INFINITY), 2 * HALF - 1);
        assert_eq!(l.bucket(25.0), HALF);
        // 1 024 buckets per doubling.
        assert_eq!(l.bucket(50.0) - l.bucket(25.0), 1024);
    }

    #[test]
    fn ladders_fire_what_the_price_reaches_and_nothing_else() {
        for rising in [false, true] {
            let mut l = Ladder::new(100.0, rising);
            let prices = [99.95, 99.0, 80.0, 120.0, 100.0, 1e-9, 1e9, 99.9999];
            for (k, &p) in prices.iter().enumerate() {
                l.push(Entry {
                    price: p,
                    account: k as u32,
                    version: 0,
                });
            }
            let mut fired = Vec::new();
            let mut left: Vec<f64> = prices.to_vec();
            for p in [100.5, 99.97, 99.5, 90.0, 150.0, 50.0, 1e10, 1e-12] {
                fired.clear();
                l.fire(p, &mut fired);
                let mut want: Vec<u32> = Vec::new();
                left.retain(|&q| {
                    let f = if rising { q <= p } else { q >= p };
                    if f {
                        want.push(prices.iter().position(|&x| x == q).unwrap() as u32);
                    }
                    !f
                });
                let mut got: Vec<u32> = fired.iter().map(|f| f.0).collect();
                got.sort_unstable();
                want.sort_unstable();
                assert_eq!(got, want, "rising {rising}, price {p}");
                assert_eq!(l.len, left.len());
            }
        }
    }
}
