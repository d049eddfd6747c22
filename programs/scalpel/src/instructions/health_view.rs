//! Read-only health of an account, returned as return data (simulate it).

use crate::constants::PROTOCOL_SEED;
use crate::health_accounts::{resolve_positions, PriceAge, ResolvedPosition};
use crate::math::{
    compute_health, compute_init_at_spot, liquidation::plan_liquidation, HealthPosition,
};
use crate::state::{MarginAccount, Protocol};
use anchor_lang::prelude::*;

/// Health figures as I80F48 bits (`I80F48::from_bits`), USD.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct HealthView {
    /// `health_init` (EMA-bounded: what borrow and withdraw require to stay ≥ 0).
    pub init: i128,
    /// `health_init` at spot prices alone, without the EMA bound: how much the EMA holds back
    /// while a price moves (equal to `init` when every feed is steady).
    pub init_spot: i128,
    /// `health_maint`.
    pub maint: i128,
    /// `health_end`.
    pub end: i128,
    /// `A_maint`.
    pub asset_maint: i128,
    /// `L_maint`.
    pub liab_maint: i128,
    /// `A_maint / L_maint`; `None` when there is no debt (infinite).
    pub ratio: Option<i128>,
    /// Whether `liquidate` would accept the account now.
    pub liquidatable: bool,
    /// The hysteresis flag.
    pub being_liquidated: bool,
    /// When liquidatable: the exact plan `liquidate` would execute now for each (asset,
    /// liability) pair with `max_repay = u64::MAX`, computed by the instruction's own function.
    pub plans: Vec<PairPlan>,
    /// Whether `plans` was cut to fit the 1 024-byte return-data limit.
    pub plans_truncated: bool,
}

/// The liquidation of one pair, as `liquidate` would execute it now.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct PairPlan {
    /// Collateral market index (`i`).
    pub asset_market_index: u16,
    /// Liability market index (`j`).
    pub liab_market_index: u16,
    /// `x`.
    pub repay: u64,
    /// `S`.
    pub seized: u64,
    /// Liquidator's share of `S`.
    pub to_liquidator: u64,
    /// Insurance's share of `S`.
    pub to_insurance: u64,
    /// Treasury's share of `S`.
    pub to_treasury: u64,
    /// `health_maint` after (I80F48 bits).
    pub maint_after: i128,
    /// `health_end` after (I80F48 bits).
    pub end_after: i128,
    /// The penalty the account's health gave on the asset market's curve (I80F48 bits).
    pub penalty: i128,
}

/// Plans that fit in return data next to the health figures (120 + 9 · 92 = 948 of 1 024
/// bytes).
pub const MAX_VIEW_PLANS: usize = 9;

/// Accounts of `health_view`; remaining accounts: the health pairs.
#[derive(Accounts)]
pub struct HealthViewAccounts<'info> {
    /// Protocol (health parameters).
    #[account(seeds = [PROTOCOL_SEED], bump = protocol.load()?.bump)]
    pub protocol: AccountLoader<'info, Protocol>,
    /// The account viewed.
    pub margin_account: AccountLoader<'info, MarginAccount>,
}

/// Computes health with the maintenance price age (what liquidation would use).
pub fn handler<'info>(
    ctx: Context<'_, '_, 'info, 'info, HealthViewAccounts<'info>>,
) -> Result<HealthView> {
    let now = Clock::get()?.unix_timestamp;
    let protocol = ctx.accounts.protocol.load()?;
    let account = ctx.accounts.margin_account.load()?;
    let resolved = resolve_positions(&account, ctx.remaining_accounts, now, PriceAge::View)?;
    let inputs: Vec<HealthPosition> = resolved.iter().map(|r| r.input).collect();
    let health_params = protocol.health_params()?;
    let h = compute_health(&inputs, &health_params)?;
    let init_spot = if inputs.iter().all(HealthPosition::steady) {
        h.init
    } else {
        compute_init_at_spot(&inputs, &health_params)?
    };
    let being = account.being_liquidated != 0;
    let mut plans = Vec::new();
    let mut plans_truncated = false;
    if h.is_liquidatable(being) {
        let params = protocol.liquidation_params()?;
        // `liquidate` needs valid prices on both sides of a pair.
        let valid = |r: &&ResolvedPosition| r.price.failed.is_none();
        for (ai, a) in resolved
            .iter()
            .enumerate()
            .filter(|(_, r)| r.input.deposit > 0 && valid(r))
        {
            for (li, l) in resolved
                .iter()
                .enumerate()
                .filter(|(_, r)| r.input.debt > 0 && valid(r))
            {
                let Ok(p) =
                    plan_liquidation(&inputs, ai, li, a.penalty(), being, u64::MAX, &params)
                else {
                    continue;
                };
                if plans.len() == MAX_VIEW_PLANS {
                    plans_truncated = true;
                    continue;
                }
                plans.push(PairPlan {
                    asset_market_index: a.market_index,
                    liab_market_index: l.market_index,
                    repay: p.repay,
                    seized: p.seized,
                    to_liquidator: p.to_liquidator,
                    to_insurance: p.to_insurance,
                    to_treasury: p.to_treasury,
                    maint_after: p.health_after.maint.to_bits(),
                    end_after: p.health_after.end.to_bits(),
                    penalty: p.penalty.to_bits(),
                });
            }
        }
    }
    let view = HealthView {
        init: h.init.to_bits(),
        init_spot: init_spot.to_bits(),
        maint: h.maint.to_bits(),
        end: h.end.to_bits(),
        asset_maint: h.asset_maint.to_bits(),
        liab_maint: h.liab_maint.to_bits(),
        ratio: h.ratio().map(|r| r.to_bits()),
        liquidatable: h.is_liquidatable(being),
        being_liquidated: being,
        plans,
        plans_truncated,
    };
    crate::runtime::mirror_return_data(&view);
    Ok(view)
}
