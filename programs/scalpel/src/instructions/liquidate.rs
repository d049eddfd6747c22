//! Permissionless partial liquidation of one (asset, liability) pair (DESIGN section 6): repays
//! exactly the debt that brings `health_end` back to zero, never more, and splits the seized
//! collateral between the liquidator, the insurance vault and the treasury vault.

use super::{transfer_from_market, transfer_from_user};
use crate::constants::PROTOCOL_SEED;
use crate::errors::ScalpelError;
use crate::events::LiquidationEvent;
use crate::health_accounts::{position_input, resolve_positions, PriceAge};
use crate::math::{liquidation::plan_liquidation, shares, HealthPosition, I80F48};
use crate::state::{MarginAccount, Market, Protocol};
use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

/// Arguments of `liquidate`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct LiquidateArgs {
    /// Most native units of the liability the liquidator will repay.
    pub max_repay: u64,
}

/// Accounts of `liquidate`; remaining accounts: the liquidatee's health pairs (current).
#[derive(Accounts)]
pub struct Liquidate<'info> {
    /// Protocol (buffer, split, dust threshold).
    #[account(seeds = [PROTOCOL_SEED], bump = protocol.load()?.bump)]
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
    /// `i`'s vault.
    #[account(mut, constraint = asset_vault.key() == asset_market.load()?.vault @ ScalpelError::WrongVault)]
    pub asset_vault: Box<Account<'info, TokenAccount>>,
    /// `j`'s vault.
    #[account(mut, constraint = liab_vault.key() == liab_market.load()?.vault @ ScalpelError::WrongVault)]
    pub liab_vault: Box<Account<'info, TokenAccount>>,
    /// `i`'s insurance vault.
    #[account(mut, constraint = insurance_vault.key() == asset_market.load()?.insurance_vault @ ScalpelError::WrongVault)]
    pub insurance_vault: Box<Account<'info, TokenAccount>>,
    /// `i`'s treasury vault.
    #[account(mut, constraint = treasury_vault.key() == asset_market.load()?.treasury_vault @ ScalpelError::WrongVault)]
    pub treasury_vault: Box<Account<'info, TokenAccount>>,
    /// Any wallet but the account's owner.
    pub liquidator: Signer<'info>,
    /// Liquidator's token account of `j`, paying `x`.
    #[account(mut, constraint = liquidator_liab_token.mint == liab_market.load()?.mint @ ScalpelError::WrongMint)]
    pub liquidator_liab_token: Box<Account<'info, TokenAccount>>,
    /// Liquidator's token account of `i`, receiving its share.
    #[account(mut, constraint = liquidator_asset_token.mint == asset_market.load()?.mint @ ScalpelError::WrongMint)]
    pub liquidator_asset_token: Box<Account<'info, TokenAccount>>,
    /// SPL Token.
    pub token_program: Program<'info, Token>,
}

impl Liquidate<'_> {
    /// Distinct markets, not the owner, no protocol vault posing as the liquidator's account.
    pub fn validate(&self) -> Result<()> {
        if self.asset_market.key() == self.liab_market.key() {
            return err!(ScalpelError::LiquidationSameMarket);
        }
        if self.liquidatee.load()?.owner == self.liquidator.key() {
            return err!(ScalpelError::SelfLiquidation);
        }
        let receiver = self.liquidator_asset_token.key();
        if receiver == self.asset_vault.key()
            || receiver == self.insurance_vault.key()
            || receiver == self.treasury_vault.key()
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
    let plan = plan_liquidation(
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
    if ctx.accounts.asset_vault.amount < plan.seized {
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
        l.apply_share_deltas(r.deposit_shares_delta, r.borrow_shares_delta)?;
        acc.set_shares(a_slot, w.new_shares);
        acc.set_shares(l_slot, r.new_shares);
        let new_a = position_input(&a, w.new_shares, &asset_price, now)?;
        let new_l = position_input(&l, r.new_shares, &liab_price, now)?;
        // Health after, from the real balances: only the pair's contributions change.
        let after = plan.health_before.replacing(
            &[inputs[ai], inputs[li]],
            &[new_a, new_l],
            &params.health,
        )?;
        (a.mint, a.bump, after)
    };

    crate::cu_trace!("liquidate: shares moved, health re-checked");
    // Tokens: the liquidator pays x of j; i's vault pays the three shares.
    transfer_from_user(
        &ctx.accounts.token_program,
        &ctx.accounts.liquidator_liab_token,
        ctx.accounts.liab_vault.to_account_info(),
        ctx.accounts.liquidator.to_account_info(),
        plan.repay,
    )?;
    let market_ai = ctx.accounts.asset_market.to_account_info();
    for (to, amount) in [
        (
            ctx.accounts.liquidator_asset_token.to_account_info(),
            plan.to_liquidator,
        ),
        (
            ctx.accounts.insurance_vault.to_account_info(),
            plan.to_insurance,
        ),
        (
            ctx.accounts.treasury_vault.to_account_info(),
            plan.to_treasury,
        ),
    ] {
        transfer_from_market(
            &ctx.accounts.token_program,
            &ctx.accounts.asset_vault,
            to,
            market_ai.clone(),
            &asset_mint,
            asset_bump,
            amount,
        )?;
    }

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
