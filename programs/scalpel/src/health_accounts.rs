//! Resolves the health remaining accounts (DESIGN section 5): exactly one `(market, oracle)` pair
//! per active position, in slot order. A missing, extra, substituted or duplicated account is an
//! error, never a silently different health.

use crate::errors::ScalpelError;
use crate::math::{
    compute_health,
    shares::{debt_balance, deposit_balance},
    Health, HealthPosition, I80F48,
};
use crate::oracle::{read_price, OraclePrice};
use crate::state::{MarginAccount, Market, Protocol};
use anchor_lang::prelude::*;

/// Which oracle age limit applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PriceAge {
    /// Borrow and withdraw: the market's `max_age_secs`.
    RiskIncreasing,
    /// Maintenance health and liquidation: the longer `max_age_liquidation_secs`.
    Maintenance,
}

impl PriceAge {
    /// The market's age limit for this kind of read.
    pub fn max_age(self, market: &Market) -> u32 {
        match self {
            PriceAge::RiskIncreasing => market.max_age_secs,
            PriceAge::Maintenance => market.max_age_liquidation_secs,
        }
    }
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
    /// The checked price.
    pub price: OraclePrice,
    /// Health input.
    pub input: HealthPosition,
    /// The market's liquidation penalty `π` (applies when this position is the collateral).
    pub penalty: I80F48,
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
        let loader = AccountLoader::<Market>::try_from(market_ai)
            .map_err(|_| error!(ScalpelError::HealthAccountInvalidMarket))?;
        let market = loader
            .load()
            .map_err(|_| error!(ScalpelError::HealthAccountInvalidMarket))?;
        if market.market_index != market_index {
            return err!(ScalpelError::HealthAccountsMismatch);
        }
        if *oracle_ai.key != market.oracle {
            return err!(ScalpelError::OracleMismatch);
        }
        let max_age = age.max_age(&market);
        let cfg = market.oracle_config()?;
        let data = oracle_ai.try_borrow_data()?;
        let price = read_price(&cfg, oracle_ai.owner, &data, now, max_age)?;
        let input = position_input(&market, shares, &price, now)?;
        let penalty = market.liquidation_penalty()?;
        out.push(ResolvedPosition {
            slot,
            market: *market_ai.key,
            market_index,
            price,
            input,
            penalty,
        });
    }
    Ok(out)
}

/// The health input of one position: balances at indices accrued to `now` (deposit floored,
/// debt ceiled), the checked price, and the weights in force at `now`. Shared with the client so
/// off-chain health is computed exactly as on-chain.
pub fn position_input(
    market: &Market,
    shares: I80F48,
    price: &OraclePrice,
    now: i64,
) -> Result<HealthPosition> {
    let accrued = market.accrued(now)?;
    let weights = market.weights(now);
    let (deposit, debt) = if shares >= I80F48::ZERO {
        (deposit_balance(shares, accrued.deposit_index)?, 0)
    } else {
        (0, debt_balance(-shares, accrued.borrow_index)?)
    };
    Ok(HealthPosition {
        deposit,
        debt,
        price: price.token_price,
        conf: price.token_conf,
        decimals: market.decimals,
        asset_weight_init: weights.asset_init,
        asset_weight_maint: weights.asset_maint,
        liab_weight_init: weights.liab_init,
        liab_weight_maint: weights.liab_maint,
    })
}

/// Health of `account` from its remaining accounts.
pub fn account_health<'info>(
    protocol: &Protocol,
    account: &MarginAccount,
    remaining: &'info [AccountInfo<'info>],
    now: i64,
    age: PriceAge,
) -> Result<Health> {
    let resolved = resolve_positions(account, remaining, now, age)?;
    let inputs: Vec<HealthPosition> = resolved.iter().map(|r| r.input).collect();
    Ok(compute_health(&inputs, &protocol.health_params()?)?)
}

/// Fails with `InsufficientHealth` unless init health is ≥ 0.
pub fn require_init_health<'info>(
    protocol: &Protocol,
    account: &MarginAccount,
    remaining: &'info [AccountInfo<'info>],
    now: i64,
) -> Result<Health> {
    let h = account_health(protocol, account, remaining, now, PriceAge::RiskIncreasing)?;
    if h.init < I80F48::ZERO {
        return err!(ScalpelError::InsufficientHealth);
    }
    Ok(h)
}
