//! Permissionless partial liquidation of one (asset, liability) pair (docs/SPEC.md): repays
//! exactly the debt that brings `health_end` back to zero, never more, and splits the seized
//! collateral between the liquidator, the insurance fund and the treasury. The liquidator is
//! paid in tokens; the other two shares stay in the asset vault, recorded on the market
//! (`insurance_pending`, `treasury_pending`) until `market_collect_fees` moves them.

use super::liquidation_flow::{apply_to_liquidatee, finish, plan_pair, Liquidator, Pair};
use super::{token_amount, token_mint, token_owner, transfer_from_market, transfer_from_user};
use crate::errors::ScalpelError;
use crate::events::LIQUIDATION_MODE_WALLET;
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
    let a = &ctx.accounts;
    let pair = Pair {
        protocol: &a.protocol,
        liquidatee: &a.liquidatee,
        asset_market: &a.asset_market,
        liab_market: &a.liab_market,
    };
    let planned = plan_pair(&pair, ctx.remaining_accounts, args.max_repay)?;
    let plan = &planned.plan;
    // Only the liquidator's share leaves the vault.
    if token_amount(&a.asset_vault)? < plan.to_liquidator {
        return err!(ScalpelError::InsufficientLiquidity);
    }
    let after = apply_to_liquidatee(&pair, &planned)?;
    // Tokens: the liquidator pays x of j and receives its share from i's vault.
    let (asset_mint, asset_bump) = {
        let m = a.asset_market.load()?;
        (m.mint, m.bump)
    };
    transfer_from_user(
        &a.token_program,
        a.liquidator_liab_token.to_account_info(),
        a.liab_vault.to_account_info(),
        a.liquidator.to_account_info(),
        plan.repay,
    )?;
    transfer_from_market(
        &a.token_program,
        a.asset_vault.to_account_info(),
        a.liquidator_asset_token.to_account_info(),
        a.asset_market.to_account_info(),
        &asset_mint,
        asset_bump,
        plan.to_liquidator,
    )?;
    crate::cu_trace!("liquidate: tokens moved (CPIs)");
    finish(
        &pair,
        &planned,
        after,
        &Liquidator {
            wallet: a.liquidator.key(),
            mode: LIQUIDATION_MODE_WALLET,
            account: Pubkey::default(),
        },
    )
}
