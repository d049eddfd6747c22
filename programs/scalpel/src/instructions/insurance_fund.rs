//! Anyone may add tokens to a market's insurance vault.

use super::transfer_from_user;
use crate::errors::ScalpelError;
use crate::events::InsuranceFunded;
use crate::state::Market;
use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

/// Arguments of `insurance_fund`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct InsuranceFundArgs {
    /// Native units added.
    pub amount: u64,
}

/// Accounts of `insurance_fund`.
#[derive(Accounts)]
pub struct InsuranceFund<'info> {
    /// Market whose insurance grows.
    #[account(has_one = insurance_vault @ ScalpelError::WrongVault)]
    pub market: AccountLoader<'info, Market>,
    /// The market's insurance vault.
    #[account(mut)]
    pub insurance_vault: Box<Account<'info, TokenAccount>>,
    /// Source of the tokens.
    #[account(mut, constraint = funder_token.mint == market.load()?.mint @ ScalpelError::WrongMint)]
    pub funder_token: Box<Account<'info, TokenAccount>>,
    /// Authority of `funder_token`.
    pub funder: Signer<'info>,
    /// SPL Token.
    pub token_program: Program<'info, Token>,
}

impl InsuranceFund<'_> {
    /// Non-zero amount.
    pub fn validate(&self, args: &InsuranceFundArgs) -> Result<()> {
        if args.amount == 0 {
            return err!(ScalpelError::ZeroAmount);
        }
        Ok(())
    }
}

/// Moves the tokens.
#[access_control(ctx.accounts.validate(&args))]
pub fn handler(ctx: Context<InsuranceFund>, args: InsuranceFundArgs) -> Result<()> {
    transfer_from_user(
        &ctx.accounts.token_program,
        ctx.accounts.funder_token.to_account_info(),
        ctx.accounts.insurance_vault.to_account_info(),
        ctx.accounts.funder.to_account_info(),
        args.amount,
    )?;
    crate::runtime::emit_event(&InsuranceFunded {
        market: ctx.accounts.market.key(),
        funder: ctx.accounts.funder.key(),
        amount: args.amount,
    });
    Ok(())
}
