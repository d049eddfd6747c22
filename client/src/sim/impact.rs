//! The market liquidators trade in. Seized collateral is sold and a volatile debt is bought back
//! the step it is liquidated; the trades push the market price away from the path's price (the
//! price without liquidations) and the push decays with a half-life as arbitrage and new orders
//! return. The oracle then publishes the pushed price, which is how sales liquidate further
//! accounts: the cascade.
//!
//! Both models are calibrated to the asset's daily volume `V`: selling 1% of `V` at once moves
//! the price by `bps_per_pct_volume`.
//! - linear: the log price moves by `−λ·q` for `q` USD sold (`λ = bps/10⁴ / (0.01·V)`);
//! - constant product: a pool of `x = 2/λ` USD a side (the same impact for small trades), where
//!   selling `q` moves the log price by `−2·ln(1 + q/x)`: large sales hit less than linearly,
//!   and a purchase can take at most 99% of the pool.

use super::config::{ImpactConfig, ImpactModel};
use anyhow::{anyhow, Result};

/// The impact state of every volatile asset.
#[derive(Clone, Debug)]
pub struct Impact {
    model: ImpactModel,
    /// `λ` per asset (log price per USD).
    lambda: Vec<f64>,
    /// Fraction of the deviation left after one step.
    decay: f64,
    /// Log deviation of the market price from the path, per asset.
    state: Vec<f64>,
}

impl Impact {
    /// The model for `assets` (symbols, in path order) at `step_minutes`.
    pub fn new(cfg: &ImpactConfig, assets: &[String], step_minutes: u32) -> Result<Impact> {
        let lambda = assets
            .iter()
            .map(|a| {
                if cfg.model == ImpactModel::None {
                    return Ok(0.0);
                }
                let v = cfg.daily_volume_usd.get(a).copied().ok_or_else(|| {
                    anyhow!("impact.daily_volume_usd has no {a}: give its daily volume in USD, or use impact.model = \"none\"")
                })?;
                if !(v > 0.0 && v.is_finite()) {
                    return Err(anyhow!("impact.daily_volume_usd.{a} must be a positive number"));
                }
                Ok(cfg.bps_per_pct_volume / 1e4 / (0.01 * v))
            })
            .collect::<Result<Vec<f64>>>()?;
        let decay = if cfg.half_life_minutes > 0.0 {
            0.5f64.powf(f64::from(step_minutes) / cfg.half_life_minutes)
        } else {
            0.0
        };
        Ok(Impact {
            model: cfg.model,
            state: vec![0.0; lambda.len()],
            lambda,
            decay,
        })
    }

    /// Market price over path price for `asset`.
    pub fn factor(&self, asset: usize) -> f64 {
        self.state[asset].exp()
    }

    /// One step: the deviation decays, then `sold[asset]` USD (negative: bought) push it.
    pub fn step(&mut self, sold: &[f64]) {
        for (a, s) in self.state.iter_mut().enumerate() {
            let q = sold.get(a).copied().unwrap_or(0.0);
            let lambda = self.lambda[a];
            let push = match self.model {
                ImpactModel::None => 0.0,
                _ if lambda == 0.0 || q == 0.0 => 0.0,
                ImpactModel::Linear => -lambda * q,
                ImpactModel::ConstantProduct => {
                    let x = 2.0 / lambda;
                    -2.0 * (1.0 + (q / x).max(-0.99)).ln()
                }
            };
            *s = *s * self.decay + push;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(model: ImpactModel) -> ImpactConfig {
        ImpactConfig {
            model,
            bps_per_pct_volume: 100.0,
            half_life_minutes: 30.0,
            daily_volume_usd: [("SOL".to_string(), 1e8)].into_iter().collect(),
        }
    }

    #[test]
    fn calibrated_to_volume_and_recovering() {
        let assets = ["SOL".to_string()];
        for model in [ImpactModel::Linear, ImpactModel::ConstantProduct] {
            let mut i = Impact::new(&cfg(model), &assets, 1).unwrap();
            // 1% of the day's volume: about −1%.
            i.step(&[1e6]);
            assert!((i.factor(0) - (-0.01f64).exp()).abs() < 1e-4, "{model:?}");
            for _ in 0..30 {
                i.step(&[0.0]);
            }
            // Half of the deviation is left after one half-life.
            assert!((i.factor(0).ln() + 0.005).abs() < 1e-4, "{model:?}");
        }
        // A sale of the whole day's volume: linear −100% in log, the pool less.
        let mut lin = Impact::new(&cfg(ImpactModel::Linear), &assets, 1).unwrap();
        let mut cp = Impact::new(&cfg(ImpactModel::ConstantProduct), &assets, 1).unwrap();
        lin.step(&[1e8]);
        cp.step(&[1e8]);
        assert!(cp.factor(0) > lin.factor(0));
        let mut none = Impact::new(&cfg(ImpactModel::None), &assets, 1).unwrap();
        none.step(&[1e12]);
        assert_eq!(none.factor(0), 1.0);
        let mut c = cfg(ImpactModel::Linear);
        c.daily_volume_usd.clear();
        let e = Impact::new(&c, &assets, 1).unwrap_err();
        assert!(
            format!("{e}").contains("daily_volume_usd has no SOL"),
            "{e}"
        );
    }
}
