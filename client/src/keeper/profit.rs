//! The profit check: what a liquidation transaction earns the bot, in USD, after its costs.
//!
//! ```text
//! profit = Σ (V(to_liquidator, P_i) − V⁺(repay, P_j))          the bonus
//!        − V⁺(signatures · lamports_per_signature, P_SOL)      the transaction fee
//!        − V⁺(⌈cu_limit · cu_price / 10⁶⌉, P_SOL)              the priority fee
//!        − Σ V(to_liquidator, P_i) · swap_cost_bps(i) /⁺ 10⁴   selling the collateral
//! ```
//!
//! `V` is the program's `token_value` (`V⁺` its rounded-up twin, `/⁺` `div_ceil_int`): gains round
//! down and costs up, against the bot. Prices are the oracle prices the plan used; `P_SOL` is the
//! SOL market's oracle price, else the configured one. The priority fee is charged on the
//! compute-unit limit the transaction requests, which the bot sizes from the re-check
//! simulation. A transaction is sent only when `profit > min_profit_usd`.

use super::config::ProfitConfig;
use scalpel::constants::BPS;
use scalpel::health_accounts::{position_price, PriceAge};
use scalpel::math::liquidation::LiquidationPlan;
use scalpel::math::{
    div_ceil_int, token_value, token_value_ceil, HealthPosition, IntMath, MathResult, SafeMath,
    I80F48,
};
use scalpel::state::Market;
use serde::Serialize;
use solana_sdk::{account::Account, pubkey::Pubkey};
use std::collections::HashMap;

/// Decimals of SOL (lamports per SOL: 10⁹).
const SOL_DECIMALS: u8 = 9;

/// The SOL price the fees are valued at, and where it came from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FeePrice {
    /// USD per SOL.
    pub price: I80F48,
    /// Read from a market's oracle (else the configured price).
    pub from_oracle: bool,
}

/// The fees' SOL price: the oracle price of the market [`ProfitConfig::is_sol`] names (its last
/// published price even when older than the market's age limits, as a debt is valued), else
/// [`ProfitConfig::sol_price_usd`].
pub fn fee_price(
    cfg: &ProfitConfig,
    markets: &[(Pubkey, Market)],
    oracles: &HashMap<Pubkey, Account>,
    now: i64,
) -> FeePrice {
    let from_market = markets
        .iter()
        .find(|(_, m)| cfg.is_sol(m))
        .and_then(|(_, m)| {
            let oracle = oracles.get(&m.oracle)?;
            // Valued as a debt: the last published price when the oracle fails a check.
            let p = position_price(
                m,
                I80F48::NEG_ONE,
                &oracle.owner,
                &oracle.data,
                now,
                PriceAge::Maintenance,
            )
            .ok()?;
            (p.price.token_price > I80F48::ZERO).then_some(p.price.token_price)
        });
    match from_market {
        Some(price) => FeePrice {
            price,
            from_oracle: true,
        },
        None => FeePrice {
            price: cfg.sol_price_usd,
            from_oracle: false,
        },
    }
}

/// What one planned liquidation moves for the bot, USD at the plan's prices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gain {
    /// `V(to_liquidator, P_i)`, rounded down.
    pub received: I80F48,
    /// `V⁺(repay, P_j)`, rounded up.
    pub repaid: I80F48,
    /// The swap cost of the collateral's market, bps.
    pub swap_cost_bps: u16,
}

impl Gain {
    /// What `plan` moves for the bot at the prices it was planned with (`asset` and `liab` are
    /// the liquidatee's health inputs of the pair): `to_liquidator` valued down, `repay` valued
    /// up.
    pub fn of(
        plan: &LiquidationPlan,
        asset: &HealthPosition,
        liab: &HealthPosition,
        swap_cost_bps: u16,
    ) -> MathResult<Gain> {
        Ok(Gain {
            received: token_value(plan.to_liquidator, asset.price, asset.decimals)?,
            repaid: token_value_ceil(plan.repay, liab.price, liab.decimals)?,
            swap_cost_bps,
        })
    }
}

/// A transaction's profit and its parts, USD.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Profit {
    /// Value received minus value repaid, over the transaction's liquidations.
    pub bonus_usd: f64,
    /// Base fee.
    pub fee_usd: f64,
    /// Priority fee (zero before the re-check simulation sized the limit).
    pub priority_fee_usd: f64,
    /// Cost of selling the collateral received.
    pub swap_cost_usd: f64,
    /// `bonus − fee − priority fee − swap cost`.
    pub profit_usd: f64,
    /// The same, exact.
    #[serde(skip)]
    pub profit: I80F48,
}

impl Profit {
    /// Whether it passes the check: strictly above `min_profit_usd`.
    pub fn passes(&self, cfg: &ProfitConfig) -> bool {
        self.profit > cfg.min_profit_usd
    }
}

/// Lamports of the priority fee of a transaction requesting `cu_limit` units at `cu_price`
/// micro-lamports each, rounded up as the runtime charges it.
pub fn priority_fee_lamports(cu_limit: u64, cu_price: u64) -> u64 {
    let micro = u128::from(cu_limit) * u128::from(cu_price);
    u64::try_from(micro.div_ceil(1_000_000)).unwrap_or(u64::MAX)
}

/// The profit of one transaction carrying liquidations of `gains`, signed by `signatures` keys, with the
/// compute-unit limit and price `compute` (`None`: the priority fee is not known yet, counted as
/// zero, so a transaction that fails then can only fail after the simulation too).
pub fn estimate<'a>(
    gains: impl IntoIterator<Item = &'a Gain>,
    cfg: &ProfitConfig,
    sol: FeePrice,
    signatures: u64,
    compute: Option<(u64, u64)>,
) -> MathResult<Profit> {
    let mut bonus = I80F48::ZERO;
    let mut swap = I80F48::ZERO;
    for g in gains {
        bonus = bonus.safe_add(g.received)?.safe_sub(g.repaid)?;
        // received · bps / 10⁴ with the division rounded up (a bps fraction itself is not
        // exact in binary: 30 bps would round down).
        let cost = div_ceil_int(
            g.received
                .max(I80F48::ZERO)
                .mul_int(u64::from(g.swap_cost_bps))?,
            BPS,
        )?;
        swap = swap.safe_add(cost)?;
    }
    let lamports = |n: u64| token_value_ceil(n, sol.price, SOL_DECIMALS);
    let fee = lamports(signatures.saturating_mul(cfg.lamports_per_signature))?;
    let priority = match compute {
        Some((limit, price)) => lamports(priority_fee_lamports(limit, price))?,
        None => I80F48::ZERO,
    };
    let profit = bonus.safe_sub(fee)?.safe_sub(priority)?.safe_sub(swap)?;
    let f = |v: I80F48| v.to_num::<f64>();
    Ok(Profit {
        bonus_usd: f(bonus),
        fee_usd: f(fee),
        priority_fee_usd: f(priority),
        swap_cost_usd: f(swap),
        profit_usd: f(profit),
        profit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_fee_rounds_up() {
        assert_eq!(priority_fee_lamports(66_000, 10_000), 660);
        assert_eq!(priority_fee_lamports(1, 1), 1);
        assert_eq!(priority_fee_lamports(0, 1_000_000), 0);
        assert_eq!(priority_fee_lamports(1_400_000, 0), 0);
    }

    /// `scenarios/partial.toml`'s liquidation: 600 USDC repaid for 7.725 SOL at 80 USD.
    #[test]
    fn hand_example() {
        let gain = Gain {
            received: I80F48::from_num(618),
            repaid: I80F48::from_num(600),
            swap_cost_bps: 30,
        };
        let cfg = ProfitConfig::default();
        let sol = FeePrice {
            price: I80F48::from_num(80),
            from_oracle: true,
        };
        // 18 − 5 000 lamports (0.0004 USD) − 0.3% of 618 (1.854 USD).
        let p = estimate([&gain], &cfg, sol, 1, None).unwrap();
        assert_eq!(p.bonus_usd, 18.0);
        assert!((p.fee_usd - 0.0004).abs() < 1e-12, "{}", p.fee_usd);
        assert!(
            (p.swap_cost_usd - 1.854).abs() < 1e-12,
            "{}",
            p.swap_cost_usd
        );
        assert!((p.profit_usd - 16.1456).abs() < 1e-12, "{}", p.profit_usd);
        assert_eq!(p.priority_fee_usd, 0.0);
        // Neither the fee (0.0004) nor the swap cost (1.854) is a binary fraction: both round
        // up, so the exact profit is at most 16.1456, and within a few steps of it.
        let scaled = p.profit.mul_int(10_000).unwrap();
        assert!(scaled <= I80F48::from_num(161_456), "{}", p.profit);
        assert!(scaled > I80F48::from_num(161_456) - I80F48::from_num(1e-9));
        // 100 000 units at 1 000 000 micro-lamports: 100 000 lamports, 0.008 USD.
        let p = estimate([&gain], &cfg, sol, 1, Some((100_000, 1_000_000))).unwrap();
        assert!((p.priority_fee_usd - 0.008).abs() < 1e-12);
        assert!(p.passes(&cfg));
        let strict = ProfitConfig {
            min_profit_usd: crate::units::parse_usd("16.2").unwrap(),
            ..cfg
        };
        assert!(!p.passes(&strict));
    }
}
