//! The account population: a documented mix of account kinds (long, multi-collateral, short),
//! log-normal collateral sizes and bands of leverage, opened at the crash's first prices. Each
//! account's balances are native units and its health inputs come from the program's
//! `position_input`; an opening that the program's init health would refuse is scaled down until
//! `compute_health` accepts it, as a borrow would require.

use super::config::PopulationConfig;
use super::oracle::Tick;
use super::program::SimProgram;
use anyhow::{anyhow, bail, Result};
use rand::Rng;
use rand_distr::StandardNormal;
use scalpel::math::{compute_health, HealthPosition, I80F48};

/// One account at opening.
#[derive(Clone, Debug)]
pub struct SimAccount {
    /// Health inputs, deposits first (market in `markets`).
    pub positions: Vec<HealthPosition>,
    /// Market index of each position.
    pub markets: Vec<usize>,
    /// Index of its kind in the mix.
    pub kind: usize,
}

/// Every account, and facts about the whole.
#[derive(Clone, Debug)]
pub struct Population {
    /// The accounts.
    pub accounts: Vec<SimAccount>,
    /// Collateral value at opening, USD.
    pub collateral_usd: f64,
    /// Debt value at opening, USD.
    pub debt_usd: f64,
}

/// Picks an index with probability proportional to `weights`.
fn pick(weights: impl Iterator<Item = f64> + Clone, rng: &mut impl Rng) -> usize {
    let total: f64 = weights.clone().sum();
    let mut x = rng.gen::<f64>() * total;
    let mut last = 0;
    for (i, w) in weights.enumerate() {
        last = i;
        if x < w {
            return i;
        }
        x -= w;
    }
    last
}

/// Native units worth `usd` at `tick`, rounded down (an explicit conversion of the simulation's
/// `f64` into the program's integers).
fn natives(usd: f64, tick: &Tick, decimals: u8) -> Result<u64> {
    let v = usd / tick.usd * 10f64.powi(decimals as i32);
    if !(v.is_finite() && v >= 0.0 && v < u64::MAX as f64) {
        bail!("an opening of {usd} USD does not fit in native units");
    }
    Ok(v.floor() as u64)
}

/// Draws `n` accounts at the opening publications `ticks` (one per market).
pub fn generate(
    cfg: &PopulationConfig,
    n: usize,
    prog: &SimProgram,
    ticks: &[Tick],
    rng: &mut impl Rng,
) -> Result<Population> {
    let hp = prog.liquidation.health;
    let mut accounts = Vec::with_capacity(n);
    let (mut coll_total, mut debt_total) = (0.0, 0.0);
    while accounts.len() < n {
        let kind = pick(cfg.mix.iter().map(|m| m.weight), rng);
        let mix = &cfg.mix[kind];
        let z: f64 = rng.sample(StandardNormal);
        let collateral = (cfg.collateral_median_usd * (cfg.collateral_sigma * z).exp())
            .clamp(cfg.collateral_min_usd, cfg.collateral_max_usd);
        let band = &cfg.usage[pick(cfg.usage.iter().map(|u| u.weight), rng)];
        let usage = band.low + (band.high - band.low) * rng.gen::<f64>();

        let mut positions = Vec::new();
        let mut markets = Vec::new();
        let dep_total: f64 = mix.deposits.values().sum();
        for (sym, share) in &mix.deposits {
            let m = prog.market(sym).ok_or_else(|| anyhow!("no market {sym}"))?;
            let units = natives(
                collateral * share / dep_total,
                &ticks[m],
                prog.markets[m].decimals,
            )?;
            positions.push(prog.position(m, units, false, &ticks[m].price)?);
            markets.push(m);
        }
        let asset_init = compute_health(&positions, &hp)
            .map_err(|e| anyhow!("{e}"))?
            .asset_init
            .to_num::<f64>();
        let debt_total_share: f64 = mix.borrows.values().sum();
        let first_debt = positions.len();
        let mut scale = 1.0;
        let mut opened = None;
        for _ in 0..200 {
            positions.truncate(first_debt);
            markets.truncate(first_debt);
            for (sym, share) in &mix.borrows {
                let m = prog.market(sym).ok_or_else(|| anyhow!("no market {sym}"))?;
                let wl = prog.markets[m]
                    .market
                    .liab_weight_init
                    .get()
                    .to_num::<f64>();
                let usd = asset_init * usage * scale * share / debt_total_share / wl;
                let units = natives(usd, &ticks[m], prog.markets[m].decimals)?;
                positions.push(prog.position(m, units, true, &ticks[m].price)?);
                markets.push(m);
            }
            let h = compute_health(&positions, &hp).map_err(|e| anyhow!("{e}"))?;
            if h.init >= I80F48::ZERO {
                opened = Some(h);
                break;
            }
            scale *= 0.995;
        }
        let Some(h) = opened else { continue };
        // An opening that rounds a position to nothing is redrawn.
        if positions.iter().any(|p| p.deposit == 0 && p.debt == 0) {
            continue;
        }
        coll_total += h.asset_value.to_num::<f64>();
        debt_total += h.liab_value.to_num::<f64>();
        accounts.push(SimAccount {
            positions,
            markets,
            kind,
        });
    }
    Ok(Population {
        accounts,
        collateral_usd: coll_total,
        debt_usd: debt_total,
    })
}
