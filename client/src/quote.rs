//! `scalpel quote`: one margin account's health, the oracle price at which each position makes it
//! liquidatable, and the exact liquidation plan the program would accept now for every
//! (collateral, debt) pair. Everything is computed by the program's own functions
//! (`position_input`, `compute_health`, `plan_liquidation`, `alternatives`) over positions
//! resolved exactly as `health_view` and `liquidate` resolve them, at the chain's clock.
//!
//! The returned [`Quote`] serializes to JSON with amounts as UI decimal strings at full native
//! precision and USD values with 6 decimals; the raw figures (fixed-point health, native plans)
//! stay on the Rust structs (`raw` fields, skipped in JSON) for callers that compare bit for bit.

use crate::health::{account_inputs, markets as load_markets, ResolvedInput};
use crate::units::{format_amount, usd};
use crate::{decode, pda, token, Chain};
use anchor_lang::Discriminator;
use anyhow::{anyhow, bail, Context, Result};
use scalpel::health_accounts::PriceAge;
use scalpel::math::liquidation::{
    alternatives, plan_liquidation, Alternative, LiquidationError, LiquidationPlan, RepayBound,
};
pub use scalpel::math::liquidation_price;
use scalpel::math::{
    compute_health, compute_init_at_spot, token_value, Health, HealthPosition, I80F48,
};
use scalpel::state::{MarginAccount, Market, Protocol};
use serde::Serialize;
use solana_sdk::pubkey::Pubkey;

/// Everything `scalpel quote` reports about one margin account.
#[derive(Clone, Debug, Serialize)]
pub struct Quote {
    /// The margin account.
    pub account: String,
    /// Its owner.
    pub owner: String,
    /// Unix time the quote was computed at (the chain's clock: interest accrued to it, oracle
    /// ages measured against it).
    pub unix_time: i64,
    /// Slot of that clock.
    pub slot: u64,
    /// The account's hysteresis flag: once a liquidation started, it continues while
    /// `health_end < 0` even when `health_maint ≥ 0`.
    pub being_liquidated: bool,
    /// Whether `liquidate` accepts the account now (SPEC section 4).
    pub liquidatable: bool,
    /// Health with maintenance-age prices (what liquidation uses); its `init` is bounded by
    /// the EMA prices, as borrow and withdraw check it.
    pub health: HealthQuote,
    /// `health_init` at spot prices alone (equal to `health.init` when every feed is steady):
    /// the difference is what the EMA bound holds back while a price moves.
    pub init_at_spot: String,
    /// Active positions in slot order.
    pub positions: Vec<PositionQuote>,
    /// When liquidatable: one entry per (collateral, debt) pair, collateral-major in slot order
    /// (the order of `health_view`'s `plans`). Empty when the account is healthy.
    pub plans: Vec<PairQuote>,
}

/// Health figures in USD (6 decimals).
#[derive(Clone, Debug, Serialize)]
pub struct HealthQuote {
    /// `health_init`: borrow and withdraw must keep it ≥ 0.
    pub init: String,
    /// `health_maint`: liquidatable below zero.
    pub maint: String,
    /// `health_end = A_maint − (1 + b)·L_maint`: the target a liquidation restores to zero.
    pub end: String,
    /// `A_maint / L_maint`; `None` (infinite) without debt.
    pub ratio: Option<String>,
    /// `A_maint`.
    pub asset_maint: String,
    /// `L_maint`.
    pub liab_maint: String,
    /// Unweighted deposit value at raw prices.
    pub asset_value: String,
    /// Unweighted debt value at raw prices.
    pub liab_value: String,
    /// The exact fixed-point figures.
    #[serde(skip)]
    pub raw: Health,
}

/// Deposit or debt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Positive shares: collateral.
    Deposit,
    /// Negative shares: a borrow.
    Debt,
}

/// One active position.
#[derive(Clone, Debug, Serialize)]
pub struct PositionQuote {
    /// Market index.
    pub market_index: u16,
    /// Market account.
    pub market: String,
    /// The market's ticker.
    pub symbol: String,
    /// Token mint.
    pub mint: String,
    /// Token decimals.
    pub decimals: u8,
    /// Deposit or debt.
    pub side: Side,
    /// Balance in UI units (deposit floored, debt ceiled, as the program values them).
    pub amount: String,
    /// Oracle price, USD per whole token.
    pub price: String,
    /// Oracle confidence, USD per whole token.
    pub conf: String,
    /// Unweighted value at the oracle price, USD.
    pub value_usd: String,
    /// Maintenance weight of this side (asset weight for a deposit, liability weight for a debt).
    pub weight_maint: String,
    /// This market's full liquidation penalty `π` when it is the collateral taken.
    pub penalty: String,
    /// Its minimum `π_min`, at a health ratio of 1 (equal to `penalty` when flat).
    pub penalty_min: String,
    /// The oracle price of this token, all other prices fixed, at which `health_maint` reaches
    /// zero. A deposit makes the account liquidatable below it, a debt above it. `None` when no
    /// positive price does (no debt at all, or the other positions alone decide).
    pub liquidation_price: Option<String>,
    /// `liquidation_price / price − 1`, in percent (2 decimals).
    pub liquidation_price_change_pct: Option<String>,
    /// `liquidation_price` as a fixed-point number.
    #[serde(skip)]
    pub liquidation_price_raw: Option<I80F48>,
    /// The check this position's oracle fails now, if any (`OracleStale`, ...): the program then
    /// values a deposit at zero and a debt at its last published price, and no liquidation can
    /// take or repay it until the oracle is valid again.
    pub oracle_error: Option<String>,
    /// The health input the program computes for this position.
    #[serde(skip)]
    pub input: HealthPosition,
}

/// The liquidation of one (collateral, debt) pair.
#[derive(Clone, Debug, Serialize)]
pub struct PairQuote {
    /// Collateral market index (`i`).
    pub asset_market_index: u16,
    /// Debt market index (`j`).
    pub liab_market_index: u16,
    /// Collateral mint.
    pub asset_mint: String,
    /// Collateral market's ticker.
    pub asset_symbol: String,
    /// Debt mint.
    pub liab_mint: String,
    /// Debt market's ticker.
    pub liab_symbol: String,
    /// The plan `liquidate(max_repay = u64::MAX)` executes now; `None` when `plan_liquidation`
    /// refuses the pair (`error` says why).
    pub plan: Option<PlanQuote>,
    /// Why the program refuses the pair (`plan_liquidation`'s error).
    pub error: Option<String>,
    /// A condition outside the plan that makes `liquidate` fail now although the plan exists:
    /// `LiquidationsPaused` (guardian pause of either market) or `InsufficientLiquidity` (the
    /// collateral vault holds less than the liquidator's share).
    pub blocked_by: Option<String>,
    /// What a full liquidation and a 50% close factor would take instead (full penalty `π`).
    pub alternatives: Option<AlternativesQuote>,
}

/// The exact plan of one pair.
#[derive(Clone, Debug, Serialize)]
pub struct PlanQuote {
    /// Debt repaid by the liquidator (`x`), UI units of the debt token.
    pub repay: String,
    /// Collateral seized (`S`), UI units of the collateral token.
    pub seized: String,
    /// Part of `S` paid to the liquidator.
    pub to_liquidator: String,
    /// Part of `S` paid to the collateral market's insurance vault.
    pub to_insurance: String,
    /// Part of `S` paid to the collateral market's treasury vault.
    pub to_treasury: String,
    /// `x_need`: the repay that lands exactly on the target, before the caps.
    pub repay_needed: String,
    /// What bounded `x`: `need`, `debt`, `collateral`, `max_repay`, `dust_debt` or
    /// `dust_collateral`.
    pub bound: String,
    /// Value of `x` at the oracle price, USD.
    pub repay_usd: String,
    /// Value of `S` at the oracle price, USD.
    pub seized_usd: String,
    /// Value of the liquidator's share, USD.
    pub to_liquidator_usd: String,
    /// Liquidator bonus rate `π_L`.
    pub bonus_liquidator: String,
    /// Insurance rate `π_I`.
    pub bonus_insurance: String,
    /// Treasury rate `π_T`.
    pub bonus_treasury: String,
    /// Effective penalty `π_e` after the surplus cap.
    pub penalty_effective: String,
    /// The penalty `π` the account's health gives on the market's curve (before the cap).
    pub penalty: String,
    /// `κ = (1 + b)·wL_j − (1 + π_e)·wA_i`.
    pub kappa: String,
    /// Health after the plan.
    pub health_after: HealthQuote,
    /// The plan as `plan_liquidation` returned it.
    #[serde(skip)]
    pub raw: LiquidationPlan,
}

/// Full and 50% close-factor liquidations of the same pair, for comparison.
#[derive(Clone, Debug, Serialize)]
pub struct AlternativesQuote {
    /// Repay the whole debt (bounded by the collateral).
    pub full: AlternativeQuote,
    /// Repay half of the debt (Aave's 50% close factor).
    pub close_factor_50: AlternativeQuote,
}

/// One alternative design's liquidation.
#[derive(Clone, Debug, Serialize)]
pub struct AlternativeQuote {
    /// Debt repaid, UI units.
    pub repay: String,
    /// Collateral seized, UI units.
    pub seized: String,
    /// Native figures.
    #[serde(skip)]
    pub raw: Alternative,
}

/// Quotes `account`: reads it, the protocol and every market, resolves the positions with
/// maintenance-age prices at the chain's clock, and runs the program's health and liquidation
/// functions. Fails with a readable reason when the account is not a Scalpel margin account or a
/// price is unusable (stale, too wide, …: the error the program would raise).
pub async fn quote(chain: &dyn Chain, account: &Pubkey) -> Result<Quote> {
    let acc = load_margin_account(chain, account).await?;
    let protocol_key = pda::protocol();
    let protocol: Protocol = match chain.account(&protocol_key).await? {
        Some(a) => decode::protocol(&a.data).context("decoding the Scalpel protocol account")?,
        None => bail!("no Scalpel protocol account at {protocol_key}"),
    };
    let health_params = protocol
        .health_params()
        .map_err(|e| anyhow!("protocol health parameters: {e}"))?;
    let liq_params = protocol
        .liquidation_params()
        .map_err(|e| anyhow!("protocol liquidation parameters: {e}"))?;
    let markets = load_markets(chain).await?;
    let clock = chain.clock().await?;
    let resolved = account_inputs(chain, &acc, &markets, PriceAge::View)
        .await
        .with_context(|| format!("pricing the positions of {account}"))?;
    let inputs: Vec<HealthPosition> = resolved.iter().map(|r| r.input).collect();
    let health = compute_health(&inputs, &health_params).map_err(|e| anyhow!("health: {e}"))?;
    let being = acc.being_liquidated != 0;
    let liquidatable = health.is_liquidatable(being);

    let mut positions = Vec::with_capacity(resolved.len());
    for r in &resolved {
        positions.push(position_quote(r, &markets, &health)?);
    }

    let mut plans = Vec::new();
    if liquidatable {
        for (ai, a) in resolved.iter().enumerate() {
            if a.input.deposit == 0 {
                continue;
            }
            for (li, l) in resolved.iter().enumerate() {
                if l.input.debt == 0 {
                    continue;
                }
                // `liquidate` refuses a pair whose prices fail a check, with that check's error.
                let plan = match (a.price.failed, l.price.failed) {
                    (Some(e), _) | (None, Some(e)) => Err(e.name()),
                    (None, None) => {
                        plan_liquidation(&inputs, ai, li, a.penalty, being, u64::MAX, &liq_params)
                            .map_err(error_name)
                    }
                };
                plans.push(
                    pair_quote(
                        chain,
                        &inputs,
                        (ai, a),
                        (li, l),
                        &markets,
                        plan,
                        clock.unix_timestamp,
                    )
                    .await?,
                );
            }
        }
    }

    Ok(Quote {
        account: account.to_string(),
        owner: acc.owner.to_string(),
        unix_time: clock.unix_timestamp,
        slot: clock.slot,
        being_liquidated: being,
        liquidatable,
        health: health_quote(&health),
        init_at_spot: usd(compute_init_at_spot(&inputs, &health_params)
            .map_err(|e| anyhow!("health at spot: {e}"))?),
        positions,
        plans,
    })
}

/// Reads and decodes a margin account, naming what the address is when it is not one.
async fn load_margin_account(chain: &dyn Chain, key: &Pubkey) -> Result<MarginAccount> {
    let Some(a) = chain.account(key).await? else {
        bail!("no account at {key}");
    };
    if a.owner != scalpel::ID {
        bail!(
            "{key} is not a Scalpel account: it is owned by {}, not the Scalpel program {}",
            a.owner,
            scalpel::ID
        );
    }
    if a.data.starts_with(MarginAccount::DISCRIMINATOR) {
        return decode::margin_account(&a.data)
            .with_context(|| format!("decoding the margin account {key}"));
    }
    let what = if a.data.starts_with(Market::DISCRIMINATOR) {
        "a Scalpel market"
    } else if a.data.starts_with(Protocol::DISCRIMINATOR) {
        "the Scalpel protocol account"
    } else {
        "a Scalpel account of another type"
    };
    bail!("{key} is {what}, not a margin account")
}

fn market_of(markets: &[(Pubkey, Market)], index: u16) -> Result<&Market> {
    markets
        .iter()
        .find(|(_, m)| m.market_index == index)
        .map(|(_, m)| m)
        .ok_or_else(|| anyhow!("market index {index} not found"))
}

fn health_quote(h: &Health) -> HealthQuote {
    HealthQuote {
        init: usd(h.init),
        maint: usd(h.maint),
        end: usd(h.end),
        ratio: h.ratio().map(|r| format!("{r:.6}")),
        asset_maint: usd(h.asset_maint),
        liab_maint: usd(h.liab_maint),
        asset_value: usd(h.asset_value),
        liab_value: usd(h.liab_value),
        raw: *h,
    }
}

/// A price with 6 decimals, or 6 significant digits when below 0.1 USD (up to 18 decimals).
pub fn price_str(v: I80F48) -> String {
    let tenth = I80F48::from_num(1) / I80F48::from_num(10);
    let mut t = v.abs();
    let mut places = 6usize;
    while t > I80F48::ZERO && t < tenth && places < 18 {
        t *= I80F48::from_num(10);
        places += 1;
    }
    format!("{v:.places$}")
}

fn position_quote(
    r: &ResolvedInput,
    markets: &[(Pubkey, Market)],
    health: &Health,
) -> Result<PositionQuote> {
    let m = market_of(markets, r.market_index)?;
    let p = &r.input;
    let (side, amount, weight, value) = if p.debt > 0 {
        let v = scalpel::math::token_value_ceil(p.debt, p.price, p.decimals);
        (Side::Debt, p.debt, p.liab_weight_maint, v)
    } else {
        let v = token_value(p.deposit, p.price, p.decimals);
        (Side::Deposit, p.deposit, p.asset_weight_maint, v)
    };
    let value = value.map_err(|e| anyhow!("value of market {}: {e}", r.market_index))?;
    let liq = liquidation_price(health, p);
    let change = liq.and_then(|l| {
        let pct = l
            .checked_div(p.price)?
            .checked_sub(I80F48::ONE)?
            .checked_mul(I80F48::from_num(100))?;
        Some(format!("{pct:.2}"))
    });
    Ok(PositionQuote {
        market_index: r.market_index,
        market: r.market.to_string(),
        symbol: m.symbol().to_string(),
        mint: m.mint.to_string(),
        decimals: p.decimals,
        side,
        amount: format_amount(amount, p.decimals),
        price: price_str(p.price),
        conf: price_str(p.conf),
        value_usd: usd(value),
        weight_maint: format!("{weight:.4}"),
        penalty: format!("{:.4}", r.penalty.max),
        penalty_min: format!("{:.4}", r.penalty.min),
        liquidation_price: liq.map(price_str),
        liquidation_price_change_pct: change,
        liquidation_price_raw: liq,
        oracle_error: r.price.failed.map(|e| e.name()),
        input: *p,
    })
}

fn bound_name(b: RepayBound) -> &'static str {
    match b {
        RepayBound::Need => "need",
        RepayBound::Debt => "debt",
        RepayBound::Collateral => "collateral",
        RepayBound::MaxRepay => "max_repay",
        RepayBound::DustDebt => "dust_debt",
        RepayBound::DustCollateral => "dust_collateral",
    }
}

/// The program's error name for a refused plan (as `liquidate` would report it).
/// The program's name for a planning refusal (what `liquidate` would fail with).
fn error_name(e: LiquidationError) -> String {
    match e {
        LiquidationError::Math(m) => format!("MathOverflow ({m})"),
        e => scalpel::errors::ScalpelError::from(e).name(),
    }
}

fn usd_of(amount: u64, p: &HealthPosition) -> Result<String> {
    token_value(amount, p.price, p.decimals)
        .map(usd)
        .map_err(|e| anyhow!("{e}"))
}

async fn pair_quote(
    chain: &dyn Chain,
    inputs: &[HealthPosition],
    (ai, a): (usize, &ResolvedInput),
    (li, l): (usize, &ResolvedInput),
    markets: &[(Pubkey, Market)],
    plan: Result<LiquidationPlan, String>,
    now: i64,
) -> Result<PairQuote> {
    let ma = market_of(markets, a.market_index)?;
    let ml = market_of(markets, l.market_index)?;
    let (ip, lp) = (&a.input, &l.input);
    let (da, dl) = (ip.decimals, lp.decimals);
    let alternatives = alternatives(inputs, ai, li, a.penalty.max)
        .ok()
        .map(|(full, half)| AlternativesQuote {
            full: AlternativeQuote {
                repay: format_amount(full.repay, dl),
                seized: format_amount(full.seized, da),
                raw: full,
            },
            close_factor_50: AlternativeQuote {
                repay: format_amount(half.repay, dl),
                seized: format_amount(half.seized, da),
                raw: half,
            },
        });
    let (plan, error, blocked_by) = match plan {
        Ok(p) => {
            let paused_until = ma.liquidation_paused_until.max(ml.liquidation_paused_until);
            let blocked = if now < paused_until {
                Some(format!(
                    "LiquidationsPaused (until unix time {paused_until})"
                ))
            } else {
                let vault = token::balance(chain, &ma.vault)
                    .await
                    .with_context(|| format!("reading the collateral vault {}", ma.vault))?;
                // Only the liquidator's share leaves the vault.
                (vault < p.to_liquidator).then(|| {
                    format!(
                        "InsufficientLiquidity (the collateral vault holds {})",
                        format_amount(vault, da)
                    )
                })
            };
            let q = PlanQuote {
                repay: format_amount(p.repay, dl),
                seized: format_amount(p.seized, da),
                to_liquidator: format_amount(p.to_liquidator, da),
                to_insurance: format_amount(p.to_insurance, da),
                to_treasury: format_amount(p.to_treasury, da),
                repay_needed: format_amount(p.repay_needed, dl),
                bound: bound_name(p.bound).into(),
                repay_usd: usd_of(p.repay, lp)?,
                seized_usd: usd_of(p.seized, ip)?,
                to_liquidator_usd: usd_of(p.to_liquidator, ip)?,
                bonus_liquidator: format!("{:.6}", p.bonus_liquidator),
                bonus_insurance: format!("{:.6}", p.bonus_insurance),
                bonus_treasury: format!("{:.6}", p.bonus_treasury),
                penalty_effective: format!("{:.6}", p.penalty_effective),
                penalty: format!("{:.6}", p.penalty),
                kappa: format!("{:.6}", p.kappa),
                health_after: health_quote(&p.health_after),
                raw: p,
            };
            (Some(q), None, blocked)
        }
        Err(e) => (None, Some(e), None),
    };
    Ok(PairQuote {
        asset_market_index: a.market_index,
        liab_market_index: l.market_index,
        asset_mint: ma.mint.to_string(),
        asset_symbol: ma.symbol().to_string(),
        liab_mint: ml.mint.to_string(),
        liab_symbol: ml.symbol().to_string(),
        plan,
        error,
        blocked_by,
        alternatives,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: f64) -> I80F48 {
        I80F48::from_num(v)
    }

    fn pos(deposit: u64, debt: u64, price: f64, wa: f64, wl: f64) -> HealthPosition {
        HealthPosition {
            deposit,
            debt,
            price: f(price),
            conf: I80F48::ZERO,
            ema_price: f(price),
            ema_conf: I80F48::ZERO,
            decimals: 0,
            asset_weight_init: f(wa),
            asset_weight_maint: f(wa),
            liab_weight_init: f(wl),
            liab_weight_maint: f(wl),
        }
    }

    fn params() -> scalpel::math::HealthParams {
        scalpel::math::HealthParams {
            conf_multiplier: f(2.0),
            max_conf_bias: f(0.05),
            liquidation_buffer: f(0.02),
        }
    }

    /// At the computed price, the program's own `compute_health` puts maint at zero.
    #[test]
    fn roots_zero_the_maintenance_health() {
        let ps = [pos(10, 0, 100.0, 0.9, 1.1), pos(0, 750, 1.0, 0.95, 1.0)];
        let h = compute_health(&ps, &params()).unwrap();
        let sol = liquidation_price(&h, &ps[0]).unwrap();
        assert!((sol - f(750.0 / 9.0)).abs() < f(1e-9), "{sol}");
        let usdc = liquidation_price(&h, &ps[1]).unwrap();
        assert!((usdc - f(1.2)).abs() < f(1e-9), "{usdc}");
        for (i, p) in [(0, sol), (1, usdc)] {
            let mut moved = ps;
            moved[i].price = p;
            let m = compute_health(&moved, &params()).unwrap().maint;
            assert!(m.abs() < f(1e-9), "{m}");
        }
    }

    #[test]
    fn no_debt_or_no_root_is_none() {
        let ps = [pos(10, 0, 100.0, 0.9, 1.1)];
        let h = compute_health(&ps, &params()).unwrap();
        assert_eq!(liquidation_price(&h, &ps[0]), None);
        // Two collaterals: the second alone covers the debt, so no SOL price liquidates.
        let ps = [
            pos(10, 0, 100.0, 0.9, 1.1),
            pos(2_000, 0, 1.0, 0.95, 1.0),
            pos(0, 1_000, 1.0, 0.95, 1.0),
        ];
        let h = compute_health(&ps, &params()).unwrap();
        assert_eq!(liquidation_price(&h, &ps[0]), None);
        assert!(liquidation_price(&h, &ps[2]).is_some());
        // Zero weight: the price does not matter.
        let ps = [pos(10, 0, 100.0, 0.0, 1.1), pos(0, 10, 1.0, 0.95, 1.0)];
        let h = compute_health(&ps, &params()).unwrap();
        assert_eq!(liquidation_price(&h, &ps[0]), None);
    }

    #[test]
    fn prices_keep_significant_digits() {
        assert_eq!(price_str(f(83.5)), "83.500000");
        assert_eq!(price_str(f(0.5)), "0.500000");
        assert_eq!(price_str(f(0.000_020_125)), "0.0000201250");
    }
}
