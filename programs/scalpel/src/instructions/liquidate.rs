//! Permissionless partial liquidation of one (asset, liability) pair (docs/SPEC.md): repays
//! exactly the debt that brings `health_end` back to zero, never more, and splits the seized
//! collateral between the liquidator, the insurance fund and the treasury. The liquidator is
//! paid in tokens; the other two shares stay in the asset vault, recorded on the market
//! (`insurance_pending`, `treasury_pending`) until `market_collect_fees` moves them.

use super::{token_amount, token_mint, token_owner, transfer_from_market, transfer_from_user};
use crate::errors::ScalpelError;
use crate::events::LiquidationEvent;
use crate::health_accounts::{position_input, resolve_positions, PriceAge};
use crate::math::{
    compute_maint_health, liquidation::plan_liquidation_from, shares, HealthPosition, SafeMath,
    I80F48,
};
use crate::state::{MarginAccount, Market, Protocol};
use anchor_lang::prelude::*;
use anchor_spl::token::Token;

/// Arguments of `liquidate`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct LiquidateArgs {
    /// Most native units of the liability the liquidator will repay.
    pub max_repay: u64,
}

/// Accounts of `liquidate`; remaining accounts: the liquidatee's health pairs (current).
///
/// Token accounts are checked by address (the market's own vaults) or read in place (the
/// liquidator's mints): deserializing four token accounts costs thousands of compute units, and
/// the token program checks owners and balances when it transfers.
#[derive(Accounts)]
pub struct Liquidate<'info> {
    /// Protocol (buffer, split, dust threshold). Only `protocol_init` creates a `Protocol`, at its
    /// PDA, so the program's ownership and the discriminator identify it without the PDA check.
    pub protocol: AccountLoader<'info, Protocol>,
    /// Account liquidated.
    #[account(mut)]
    pub liquidatee: AccountLoader<'info, MarginAccount>,
    /// Market `i`, whose collateral is seized.
    #[account(mut)]
    pub asset_market: AccountLoader<'info, Market>,
    /// Market `j`, whose debt is repaid.
    #[account(mut)]
    pub liab_market: AccountLoader<'info, Market>,
    /// CHECK: `i`'s vault (its address).
    #[account(mut, address = asset_market.load()?.vault @ ScalpelError::WrongVault)]
    pub asset_vault: UncheckedAccount<'info>,
    /// CHECK: `j`'s vault (its address).
    #[account(mut, address = liab_market.load()?.vault @ ScalpelError::WrongVault)]
    pub liab_vault: UncheckedAccount<'info>,
    /// Any wallet but the account's owner.
    pub liquidator: Signer<'info>,
    /// CHECK: the liquidator's SPL token account of `j`, paying `x` (mint read in place).
    #[account(mut, constraint = token_mint(&liquidator_liab_token)? == liab_market.load()?.mint @ ScalpelError::WrongMint)]
    pub liquidator_liab_token: UncheckedAccount<'info>,
    /// CHECK: the liquidator's SPL token account of `i`, receiving its share (mint read in place).
    #[account(mut, constraint = token_mint(&liquidator_asset_token)? == asset_market.load()?.mint @ ScalpelError::WrongMint)]
    pub liquidator_asset_token: UncheckedAccount<'info>,
    /// SPL Token.
    pub token_program: Program<'info, Token>,
}

impl Liquidate<'_> {
    /// Distinct markets, not the owner, no market vault posing as the liquidator's account.
    pub fn validate(&self) -> Result<()> {
        if self.asset_market.key() == self.liab_market.key() {
            return err!(ScalpelError::LiquidationSameMarket);
        }
        if self.liquidatee.load()?.owner == self.liquidator.key() {
            return err!(ScalpelError::SelfLiquidation);
        }
        // Every vault of the asset market (liquidity, insurance, treasury) belongs to its PDA.
        if token_owner(&self.liquidator_asset_token)? == self.asset_market.key()
            || self.liquidator_liab_token.key() == self.liab_vault.key()
        {
            return err!(ScalpelError::DuplicateAccount);
        }
        Ok(())
    }
}

/// Plans with the shared pure function, moves shares and tokens, then re-checks health.
#[access_control(ctx.accounts.validate())]
pub fn handler<'info>(
    ctx: Context<'_, '_, 'info, 'info, Liquidate<'info>>,
    args: LiquidateArgs,
) -> Result<()> {
    crate::cu_trace!("liquidate: accounts read and validated");
    let clock = Clock::get()?;
    let now = clock.unix_timestamp;
    let (asset_index, liab_index, penalty, penalty_bps) = {
        let mut a = ctx.accounts.asset_market.load_mut()?;
        let mut l = ctx.accounts.liab_market.load_mut()?;
        if now < a.liquidation_paused_until || now < l.liquidation_paused_until {
            return err!(ScalpelError::LiquidationsPaused);
        }
        a.accrue_to(now)?;
        l.accrue_to(now)?;
        (
            a.market_index,
            l.market_index,
            a.penalty_at(now)?,
            a.penalty_bps_at(now),
        )
    };
    crate::cu_trace!("liquidate: pair markets accrued");
    let protocol = *ctx.accounts.protocol.load()?;
    let account = *ctx.accounts.liquidatee.load()?;
    let resolved = resolve_positions(&account, ctx.remaining_accounts, now, PriceAge::Maintenance)?;
    crate::cu_trace!("liquidate: positions resolved (markets, oracles, balances)");
    let ai = resolved
        .iter()
        .position(|r| r.market_index == asset_index)
        .ok_or(ScalpelError::NoCollateral)?;
    let li = resolved
        .iter()
        .position(|r| r.market_index == liab_index)
        .ok_or(ScalpelError::NoDebt)?;
    if resolved[ai].market != ctx.accounts.asset_market.key()
        || resolved[li].market != ctx.accounts.liab_market.key()
    {
        return err!(ScalpelError::WrongMarket);
    }
    // Other positions may be priced by failing oracles (a deposit then counts as zero); the
    // pair itself needs prices that pass every check.
    let (asset_price, liab_price) = (resolved[ai].require_valid()?, resolved[li].require_valid()?);
    let inputs: Vec<HealthPosition> = resolved.iter().map(|r| r.input).collect();
    let params = protocol.liquidation_params()?;
    // Maintenance figures only: a liquidation needs no init health.
    let before = compute_maint_health(&inputs, &params.health)?;
    let plan = plan_liquidation_from(
        before,
        &inputs,
        ai,
        li,
        penalty,
        account.being_liquidated != 0,
        args.max_repay,
        &params,
    )
    .map_err(ScalpelError::from)?;
    crate::cu_trace!("liquidate: planned");
    // Only the liquidator's share leaves the vault.
    if token_amount(&ctx.accounts.asset_vault)? < plan.to_liquidator {
        return err!(ScalpelError::InsufficientLiquidity);
    }

    // Shares: burn the seized deposit (all shares when it is all of it) and the repaid debt.
    let (asset_mint, asset_bump, after) = {
        let mut acc = ctx.accounts.liquidatee.load_mut()?;
        let mut a = ctx.accounts.asset_market.load_mut()?;
        let mut l = ctx.accounts.liab_market.load_mut()?;
        let a_slot = resolved[ai].slot;
        let l_slot = resolved[li].slot;
        let w = shares::withdraw(
            acc.positions[a_slot].shares(),
            plan.seized,
            a.deposit_index.get(),
        )?
        .ok_or(ScalpelError::NoCollateral)?;
        let r = shares::repay(
            acc.positions[l_slot].shares(),
            plan.repay,
            l.borrow_index.get(),
        )?;
        if r.amount != plan.repay {
            return err!(ScalpelError::MathOverflow);
        }
        a.apply_share_deltas(w.deposit_shares_delta, w.borrow_shares_delta)?;
        a.insurance_pending = a.insurance_pending.safe_add(plan.to_insurance)?;
        a.treasury_pending = a.treasury_pending.safe_add(plan.to_treasury)?;
        l.apply_share_deltas(r.deposit_shares_delta, r.borrow_shares_delta)?;
        acc.set_shares(a_slot, w.new_shares);
        acc.set_shares(l_slot, r.new_shares);
        let new_a = position_input(&a, w.new_shares, &asset_price, now)?;
        let new_l = position_input(&l, r.new_shares, &liab_price, now)?;
        // Health after, from the real balances: only the pair's contributions change, and when
        // share rounding left the balances exactly as planned, it is the plan's.
        let as_planned = new_a.deposit == inputs[ai].deposit.saturating_sub(plan.seized)
            && new_l.debt == inputs[li].debt.saturating_sub(plan.repay);
        let after = if as_planned {
            plan.health_after
        } else {
            plan.health_before.replacing(
                &[inputs[ai], inputs[li]],
                &[new_a, new_l],
                &params.health,
            )?
        };
        (a.mint, a.bump, after)
    };

    crate::cu_trace!("liquidate: shares moved, health re-checked");
    // Tokens: the liquidator pays x of j and receives its share from i's vault.
    transfer_from_user(
        &ctx.accounts.token_program,
        ctx.accounts.liquidator_liab_token.to_account_info(),
        ctx.accounts.liab_vault.to_account_info(),
        ctx.accounts.liquidator.to_account_info(),
        plan.repay,
    )?;
    transfer_from_market(
        &ctx.accounts.token_program,
        ctx.accounts.asset_vault.to_account_info(),
        ctx.accounts.liquidator_asset_token.to_account_info(),
        ctx.accounts.asset_market.to_account_info(),
        &asset_mint,
        asset_bump,
        plan.to_liquidator,
    )?;

    crate::cu_trace!("liquidate: tokens moved (CPIs)");
    // Post-checks on the real balances (shares rounded against the liquidatee).
    if after.maint <= plan.health_before.maint {
        return err!(ScalpelError::HealthNotImproved);
    }
    let still = after.end < I80F48::ZERO;
    {
        let mut acc = ctx.accounts.liquidatee.load_mut()?;
        acc.being_liquidated = still as u8;
        acc.last_liquidation_slot = clock.slot;
        acc.liquidation_count = acc.liquidation_count.saturating_add(1);
    }
    crate::runtime::emit_event(&LiquidationEvent {
        liquidatee: ctx.accounts.liquidatee.key(),
        liquidator: ctx.accounts.liquidator.key(),
        asset_market: ctx.accounts.asset_market.key(),
        liab_market: ctx.accounts.liab_market.key(),
        asset_price: asset_price.token_price.to_bits(),
        liab_price: liab_price.token_price.to_bits(),
        repaid: plan.repay,
        seized: plan.seized,
        to_liquidator: plan.to_liquidator,
        to_insurance: plan.to_insurance,
        to_treasury: plan.to_treasury,
        maint_before: plan.health_before.maint.to_bits(),
        end_before: plan.health_before.end.to_bits(),
        maint_after: after.maint.to_bits(),
        end_after: after.end.to_bits(),
        penalty_bps,
        penalty_effective: plan.penalty_effective.to_bits(),
        buffer_bps: protocol.liquidation_buffer_bps,
        being_liquidated: still,
        slot: clock.slot,
    });
    crate::cu_trace!("liquidate: event emitted");
    Ok(())
}
