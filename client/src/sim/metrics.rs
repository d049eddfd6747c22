//! What one run measured, and its distribution over paths. USD figures are `f64` at the oracle
//! prices of the step they happened in: they report, they feed no on-chain formula.

use serde::Serialize;

/// The measures of one policy on one path.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct RunMetrics {
    /// Collateral seized from users, USD.
    pub collateral_taken_usd: f64,
    /// The same over the collateral the liquidated accounts held just before their first
    /// liquidation, %.
    pub collateral_taken_pct: f64,
    /// Seized minus repaid (what users paid for being liquidated), USD.
    pub penalties_usd: f64,
    /// Accounts liquidated at least once.
    pub accounts_liquidated: f64,
    /// Accounts left with no collateral (every deposit seized or forfeited).
    pub accounts_wiped_out: f64,
    /// Debt no collateral covers: resolved as bad debt, or still underwater at the end, USD.
    pub bad_debt_usd: f64,
    /// The part of it the insurance fund paid, USD.
    pub insurance_used_usd: f64,
    /// Lowest market price with liquidation sales below the lowest without, % (per asset).
    pub extra_drawdown_pct: Vec<f64>,
    /// Liquidations (pairs) landed.
    pub liquidations: f64,
    /// Debt repaid by liquidators, USD.
    pub repaid_usd: f64,
    /// Liquidations in the busiest step.
    pub worst_minute_liquidations: f64,
    /// USD repaid in the busiest step.
    pub worst_minute_volume_usd: f64,
    /// Median penalty paid per liquidated account, USD.
    pub median_loss_usd: f64,
}

/// Running totals of one run.
#[derive(Clone, Debug)]
pub struct Tally {
    per_step_count: Vec<u32>,
    per_step_volume: Vec<f64>,
    penalty: Vec<f64>,
    first_collateral: Vec<f64>,
    liquidated: Vec<bool>,
    wiped: Vec<bool>,
    taken: f64,
    repaid: f64,
    bad_debt: f64,
    insurance: f64,
    insurance_used: f64,
    liquidations: u64,
}

impl Tally {
    /// Totals for `accounts` over `steps` with `insurance` USD in the fund.
    pub fn new(accounts: usize, steps: usize, insurance: f64) -> Tally {
        Tally {
            per_step_count: vec![0; steps],
            per_step_volume: vec![0.0; steps],
            penalty: vec![0.0; accounts],
            first_collateral: vec![0.0; accounts],
            liquidated: vec![false; accounts],
            wiped: vec![false; accounts],
            taken: 0.0,
            repaid: 0.0,
            bad_debt: 0.0,
            insurance,
            insurance_used: 0.0,
            liquidations: 0,
        }
    }

    /// Whether `account` was liquidated before.
    pub fn was_liquidated(&self, account: usize) -> bool {
        self.liquidated[account]
    }

    /// Account `account` is about to be liquidated for the first time, holding `collateral` USD.
    pub fn first(&mut self, account: usize, collateral: f64) {
        self.liquidated[account] = true;
        self.first_collateral[account] = collateral;
    }

    /// One pair liquidated at `step`: `repaid` and `seized` USD, `insurance` USD of it to the fund.
    pub fn fill(&mut self, step: usize, account: usize, repaid: f64, seized: f64, insurance: f64) {
        self.per_step_count[step] += 1;
        self.per_step_volume[step] += repaid;
        self.penalty[account] += seized - repaid;
        self.taken += seized;
        self.repaid += repaid;
        self.insurance += insurance;
        self.liquidations += 1;
    }

    /// Debt of `usd` left without collateral.
    pub fn bad_debt(&mut self, usd: f64) {
        let covered = usd.min(self.insurance).max(0.0);
        self.insurance -= covered;
        self.insurance_used += covered;
        self.bad_debt += usd;
    }

    /// The account has no collateral left.
    pub fn wiped(&mut self, account: usize) {
        self.wiped[account] = true;
    }

    /// The measures, with each asset's lowest price without and with impact.
    pub fn finish(self, lows: &[(f64, f64)]) -> RunMetrics {
        let n_liq = self.liquidated.iter().filter(|l| **l).count();
        let before: f64 = self.first_collateral.iter().sum();
        let mut losses: Vec<f64> = self
            .penalty
            .iter()
            .zip(&self.liquidated)
            .filter(|(_, l)| **l)
            .map(|(p, _)| *p)
            .collect();
        RunMetrics {
            collateral_taken_usd: self.taken,
            collateral_taken_pct: if before > 0.0 {
                100.0 * self.taken / before
            } else {
                0.0
            },
            penalties_usd: self.taken - self.repaid,
            accounts_liquidated: n_liq as f64,
            accounts_wiped_out: self.wiped.iter().filter(|w| **w).count() as f64,
            bad_debt_usd: self.bad_debt,
            insurance_used_usd: self.insurance_used,
            extra_drawdown_pct: lows
                .iter()
                .map(|(without, with)| 100.0 * (1.0 - with / without).max(0.0))
                .collect(),
            liquidations: self.liquidations as f64,
            repaid_usd: self.repaid,
            worst_minute_liquidations: self.per_step_count.iter().copied().max().unwrap_or(0)
                as f64,
            worst_minute_volume_usd: self.per_step_volume.iter().copied().fold(0.0, f64::max),
            median_loss_usd: median(&mut losses),
        }
    }
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// Mean and tail of one measure over paths.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct Stat {
    /// Mean.
    pub mean: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
}

impl Stat {
    /// Over `values` (nearest-rank percentiles).
    pub fn of(values: &[f64]) -> Stat {
        if values.is_empty() {
            return Stat::default();
        }
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let rank = |q: f64| v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
        Stat {
            mean: v.iter().sum::<f64>() / v.len() as f64,
            p95: rank(0.95),
            p99: rank(0.99),
        }
    }
}

/// One measure's name, unit and value in a run (the report's rows, in order).
pub fn rows(m: &RunMetrics, assets: &[String]) -> Vec<(String, f64)> {
    let mut out = vec![
        ("collateral taken (USD)".to_string(), m.collateral_taken_usd),
        (
            "collateral taken (% of liquidated accounts')".to_string(),
            m.collateral_taken_pct,
        ),
        ("penalties paid (USD)".to_string(), m.penalties_usd),
        ("accounts liquidated".to_string(), m.accounts_liquidated),
        ("accounts wiped out".to_string(), m.accounts_wiped_out),
        ("bad debt (USD)".to_string(), m.bad_debt_usd),
        ("insurance used (USD)".to_string(), m.insurance_used_usd),
    ];
    for (a, d) in assets.iter().zip(&m.extra_drawdown_pct) {
        out.push((format!("extra drawdown {a} (%)"), *d));
    }
    out.extend([
        ("liquidations".to_string(), m.liquidations),
        ("repaid (USD)".to_string(), m.repaid_usd),
        (
            "worst minute: liquidations".to_string(),
            m.worst_minute_liquidations,
        ),
        (
            "worst minute: repaid (USD)".to_string(),
            m.worst_minute_volume_usd,
        ),
        (
            "median loss per liquidated account (USD)".to_string(),
            m.median_loss_usd,
        ),
    ]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_and_tally() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        let s = Stat::of(&v);
        assert_eq!((s.mean, s.p95, s.p99), (50.5, 95.0, 99.0));
        let mut t = Tally::new(3, 4, 10.0);
        t.first(0, 1000.0);
        t.fill(1, 0, 100.0, 105.0, 1.0);
        t.fill(1, 0, 50.0, 52.5, 0.5);
        t.first(2, 200.0);
        t.fill(3, 2, 10.0, 11.0, 0.0);
        t.bad_debt(20.0);
        let m = t.finish(&[(10.0, 9.0)]);
        assert_eq!(m.liquidations, 3.0);
        assert_eq!(m.worst_minute_liquidations, 2.0);
        assert_eq!(m.worst_minute_volume_usd, 150.0);
        assert!((m.collateral_taken_usd - 168.5).abs() < 1e-9);
        assert!((m.collateral_taken_pct - 100.0 * 168.5 / 1200.0).abs() < 1e-9);
        assert!((m.median_loss_usd - 4.25).abs() < 1e-9); // (7.5 + 1) / 2
        assert_eq!((m.bad_debt_usd, m.insurance_used_usd), (20.0, 11.5));
        assert!((m.extra_drawdown_pct[0] - 10.0).abs() < 1e-9);
    }
}
