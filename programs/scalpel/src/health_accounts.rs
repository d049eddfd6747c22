//! Resolves the health remaining accounts (SPEC section 4): exactly one `(market, oracle)` pair
//! per active position, in slot order. A missing, extra, substituted or duplicated account is an
//! error, never a silently different health.
//!
//! Liquidation health tolerates oracles that fail their checks on positions the liquidatee chose
//! (`PriceAge::Maintenance`): a deposit priced by a failing oracle counts as worth zero, a debt is
//! valued at its oracle's last published price. A stale feed in a third market can then never
//! block a liquidation, and a liability never hides behind one. The pair being liquidated still
//! needs valid prices ([`ResolvedPosition::require_valid`]).

use crate::errors::ScalpelError;
use crate::math::{
    compute_health,
    shares::{debt_balance, deposit_balance},
    Health, HealthPosition, I80F48,
};
use crate::oracle::{last_price, read_price, OraclePrice};
use crate::state::{MarginAccount, Market, Protocol};
use anchor_lang::prelude::*;

/// Which oracle age limit applies, and whether failing oracles are tolerated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PriceAge {
    /// Borrow and withdraw: the market's `max_age_secs`; every price must pass every check.
    RiskIncreasing,
    /// Maintenance health and liquidation: the longer `max_age_liquidation_secs`; a failing
    /// oracle values a deposit at zero and a debt at its last published price. The EMA is not
    /// read (liquidation is spot-only), so init health here is the spot-only one.
    Maintenance,
    /// As `Maintenance`, with the EMA read: what `health_view`, `quote` and the scenario runner
    /// show (init health bounded by the EMA beside the maintenance figures).
    View,
    /// Bad-debt eligibility: as `Maintenance`, except that a deposit behind a failing oracle is
    /// valued at its last published price, as a debt is (zero only when the account holds no
    /// usable number). An oracle failing for a minute must not make a solvent owner's
    /// collateral forfeitable.
    BadDebt,
}

impl PriceAge {
    /// The market's age limit for this kind of read.
    pub fn max_age(self, market: &Market) -> u32 {
        match self {
            PriceAge::RiskIncreasing => market.max_age_secs,
            PriceAge::Maintenance | PriceAge::View | PriceAge::BadDebt => {
                market.max_age_liquidation_secs
            }
        }
    }
}

/// The price a position is valued at, and whether its oracle passed every check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PositionPrice {
    /// The price used (zero for a deposit whose oracle failed).
    pub price: OraclePrice,
    /// The check the oracle failed, when it did (only under `PriceAge::Maintenance`).
    pub failed: Option<ScalpelError>,
}

impl PositionPrice {
    /// The price if it passed every check, else the check it failed.
    pub fn valid(&self) -> core::result::Result<OraclePrice, ScalpelError> {
        match self.failed {
            None => Ok(self.price),
            Some(e) => Err(e),
        }
    }
}

/// Reads the price of a position holding `shares` of `market` from its oracle account (already
/// matched to `market.oracle` by the caller), applying the tolerance of `age` (module docs).
/// Shared with the client, so the keeper and CLI value positions as the program does.
pub fn position_price(
    market: &Market,
    shares: I80F48,
    oracle_owner: &Pubkey,
    oracle_data: &[u8],
    now: i64,
    age: PriceAge,
) -> core::result::Result<PositionPrice, ScalpelError> {
    let mut cfg = market.oracle_config()?;
    cfg.with_ema = age == PriceAge::View || age == PriceAge::RiskIncreasing;
    let error = match read_price(&cfg, oracle_owner, oracle_data, now, age.max_age(market)) {
        Ok(price) => {
            return Ok(PositionPrice {
                price,
                failed: None,
            })
        }
        Err(e) => e,
    };
    if age == PriceAge::RiskIncreasing {
        return Err(error);
    }
    if shares >= I80F48::ZERO {
        let zero = OraclePrice {
            token_price: I80F48::ZERO,
            token_conf: I80F48::ZERO,
            publish_time: 0,
            ema_price: I80F48::ZERO,
            ema_conf: I80F48::ZERO,
            decimals: market.decimals,
        };
        let price = match age {
            PriceAge::BadDebt => last_price(&cfg, oracle_owner, oracle_data).unwrap_or(zero),
            _ => zero,
        };
        return Ok(PositionPrice {
            price,
            failed: Some(error),
        });
    }
    // A debt without any usable number (undecodable account, non-positive price) cannot be
    // valued: the original error stands.
    let price = last_price(&cfg, oracle_owner, oracle_data).map_err(|_| error)?;
    Ok(PositionPrice {
        price,
        failed: Some(error),
    })
}

/// A resolved position: its slot, market, price and health input.
#[derive(Clone, Copy, Debug)]
pub struct ResolvedPosition {
    /// Slot in the margin account.
    pub slot: usize,
    /// Market account key.
    pub market: Pubkey,
    /// Market index.
    pub market_index: u16,
    /// Signed shares held.
    pub shares: I80F48,
    /// The price used and whether it passed every check.
    pub price: PositionPrice,
    /// Health input.
    pub input: HealthPosition,
    /// The market's liquidation penalty curve in force, `[min, max]` bps (applies when this
    /// position is the collateral taken; [`ResolvedPosition::penalty`] converts it).
    pub penalty_bps: [u16; 2],
    /// Spot and EMA diverge beyond the market's limit (computed for risk-increasing reads
    /// only; `false` otherwise).
    pub ema_diverged: bool,
}

impl ResolvedPosition {
    /// The penalty curve in force, when this position is the collateral taken.
    pub fn penalty(&self) -> crate::math::liquidation::PenaltyCurve {
        crate::math::liquidation::PenaltyCurve::from_bps(self.penalty_bps)
    }

    /// The checked price; a liquidated pair needs one on both sides.
    pub fn require_valid(&self) -> Result<OraclePrice> {
        Ok(self.price.valid()?)
    }
}

/// Checks and reads the health accounts; returns one resolved position per active slot.
pub fn resolve_positions<'info>(
    account: &MarginAccount,
    remaining: &'info [AccountInfo<'info>],
    now: i64,
    age: PriceAge,
) -> Result<Vec<ResolvedPosition>> {
    let active: Vec<(usize, u16, I80F48)> = account
        .positions
        .iter()
        .enumerate()
        .filter(|(_, p)| p.is_active())
        .map(|(i, p)| (i, p.market_index, p.shares()))
        .collect();
    if remaining.len() != active.len() * 2 {
        return err!(ScalpelError::HealthAccountsMismatch);
    }
    let mut out = Vec::with_capacity(active.len());
    for (k, (slot, market_index, shares)) in active.into_iter().enumerate() {
        let market_ai = &remaining[2 * k];
        let oracle_ai = &remaining[2 * k + 1];
        let loader = market_loader(market_ai)?;
        let market = loader
            .load()
            .map_err(|_| error!(ScalpelError::HealthAccountInvalidMarket))?;
        if market.market_index != market_index {
            return err!(ScalpelError::HealthAccountsMismatch);
        }
        if *oracle_ai.key != market.oracle {
            return err!(ScalpelError::OracleMismatch);
        }
        let data = oracle_ai.try_borrow_data()?;
        let price = position_price(&market, shares, oracle_ai.owner, &data, now, age)?;
        let ema_diverged = age == PriceAge::RiskIncreasing
            && price
                .price
                .ema_diverges(market.guards.max_ema_divergence_bps);
        out.push(ResolvedPosition {
            slot,
            market: *market_ai.key,
            market_index,
            shares,
            price,
            input: position_input(&market, shares, &price.price, now)?,
            penalty_bps: market.penalty_curve_bps_at(now),
            ema_diverged,
        });
    }
    Ok(out)
}

/// The market account in `ai`, which must be this program's `Market`.
pub fn market_loader<'info>(ai: &'info AccountInfo<'info>) -> Result<AccountLoader<'info, Market>> {
    AccountLoader::<Market>::try_from(ai)
        .map_err(|_| error!(ScalpelError::HealthAccountInvalidMarket))
}

/// A copy of the market in `ai`, which must be this program's market with `market_index`.
pub fn load_market<'info>(ai: &'info AccountInfo<'info>, market_index: u16) -> Result<Market> {
    let market = *market_loader(ai)?
        .load()
        .map_err(|_| error!(ScalpelError::HealthAccountInvalidMarket))?;
    if market.market_index != market_index {
        return err!(ScalpelError::HealthAccountsMismatch);
    }
    Ok(market)
}

/// The health input of one position: balances at indices accrued to `now` (deposit floored,
/// debt ceiled), the price, and the weights in force at `now`. Shared with the client so
/// off-chain health is computed exactly as on-chain.
pub fn position_input(
    market: &Market,
    shares: I80F48,
    price: &OraclePrice,
    now: i64,
) -> Result<HealthPosition> {
    let (deposit_index, borrow_index) = market.indices_at(now)?;
    let mut weights = market.weights(now);
    let (deposit, debt) = if shares >= I80F48::ZERO {
        (deposit_balance(shares, deposit_index)?, 0)
    } else {
        (0, debt_balance(-shares, borrow_index)?)
    };
    if deposit > 0 {
        weights.asset_init = market.scaled_init_asset_weight(
            weights.asset_init,
            deposit_index,
            price.token_price.min(price.ema_price),
        )?;
    }
    Ok(HealthPosition {
        deposit,
        debt,
        price: price.token_price,
        conf: price.token_conf,
        ema_price: price.ema_price,
        ema_conf: price.ema_conf,
        decimals: market.decimals,
        asset_weight_init: weights.asset_init,
        asset_weight_maint: weights.asset_maint,
        liab_weight_init: weights.liab_init,
        liab_weight_maint: weights.liab_maint,
    })
}

/// Health of resolved positions.
pub fn health_of(protocol: &Protocol, resolved: &[ResolvedPosition]) -> Result<Health> {
    let inputs: Vec<HealthPosition> = resolved.iter().map(|r| r.input).collect();
    Ok(compute_health(&inputs, &protocol.health_params()?)?)
}

/// Which risk-increasing action is checked: it decides the divergence guard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RiskIncrease {
    /// A borrow of this market: refused if it, or any collateral, diverges from its EMA.
    Borrow {
        /// The market borrowed.
        market_index: u16,
    },
    /// A withdrawal that leaves debt: refused if any collateral diverges from its EMA.
    Withdraw,
    /// A liquidator's account taking over a liquidation: init health only (liquidations go on
    /// whatever the EMA says).
    TakeOver,
}

/// What [`check_after_risk_increase`] found.
#[derive(Clone, Copy, Debug)]
pub struct RiskChecked {
    /// Init health after the action (zero without debt).
    pub health_init: I80F48,
    /// For a borrow, the borrowed market's checked price (the net-borrow limit values the
    /// borrow at it).
    pub borrowed_price: Option<OraclePrice>,
}

/// Checks the health of an account after a borrow or withdrawal: init health must be ≥ 0, and
/// the hysteresis flag clears once `health_end ≥ 0` (a cured account is never frozen). An
/// account left without debt needs no price at all (its health cannot be negative), so it
/// withdraws with stale or missing oracles. A borrow or withdrawal leaning on a collateral whose
/// spot price diverges from its EMA, or borrowing such a market, is refused
/// (`EmaDivergenceTooLarge`).
pub fn check_after_risk_increase<'info>(
    protocol: &Protocol,
    account: &mut MarginAccount,
    remaining: &'info [AccountInfo<'info>],
    now: i64,
    action: RiskIncrease,
) -> Result<RiskChecked> {
    if !account.has_debt() {
        account.being_liquidated = 0;
        return Ok(RiskChecked {
            health_init: I80F48::ZERO,
            borrowed_price: None,
        });
    }
    let resolved = resolve_positions(account, remaining, now, PriceAge::RiskIncreasing)?;
    let mut borrowed_price = None;
    for r in &resolved {
        let borrowed = matches!(action, RiskIncrease::Borrow { market_index } if market_index == r.market_index);
        if borrowed {
            borrowed_price = Some(r.price.price);
        }
        let backs_debt = r.shares > I80F48::ZERO && r.input.asset_weight_init > I80F48::ZERO;
        let guarded = action != RiskIncrease::TakeOver && (borrowed || backs_debt);
        if guarded && r.ema_diverged {
            crate::runtime::log(&format!(
                "market {}: spot and EMA diverge beyond its max_ema_divergence_bps",
                r.market_index
            ));
            return err!(ScalpelError::EmaDivergenceTooLarge);
        }
    }
    let h = health_of(protocol, &resolved)?;
    if h.init < I80F48::ZERO {
        return err!(ScalpelError::InsufficientHealth);
    }
    if h.end >= I80F48::ZERO {
        account.being_liquidated = 0;
    }
    Ok(RiskChecked {
        health_init: h.init,
        borrowed_price,
    })
}
