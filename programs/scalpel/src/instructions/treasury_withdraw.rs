//! The admin withdraws from a market's treasury vault. (Insurance vaults pay out only through
//! `bad_debt_resolve`.)

use super::transfer_from_market;
use crate::constants::PROTOCOL_SEED;
use crate::errors::ScalpelError;
use crate::events::TreasuryWithdrawn;
use crate::state::{Market, Protocol};
use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

/// Arguments of `treasury_withdraw`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct TreasuryWithdrawArgs {
    /// Native units.
    pub amount: u64,
}

/// Accounts of `treasury_withdraw`.
#[derive(Accounts)]
pub struct TreasuryWithdraw<'info> {
    /// Protocol; its admin must sign.
    #[account(seeds = [PROTOCOL_SEED], bump = protocol.load()?.bump,
        has_one = admin @ ScalpelError::Unauthorized)]
    pub protocol: AccountLoader<'info, Protocol>,
    /// Admin.
    pub admin: Signer<'info>,
    /// Market.
    #[account(has_one = treasury_vault @ ScalpelError::WrongVault)]
    pub market: AccountLoader<'info, Market>,
    /// The market's treasury vault.
    #[account(mut)]
    pub treasury_vault: Box<Account<'info, TokenAccount>>,
    /// Any token account of the market's mint.
    #[account(mut, constraint = destination.mint == market.load()?.mint @ ScalpelError::WrongMint)]
    pub destination: Box<Account<'info, TokenAccount>>,
    /// SPL Token.
    pub token_program: Program<'info, Token>,
}

impl TreasuryWithdraw<'_> {
    /// Non-zero and available.
    pub fn validate(&self, args: &TreasuryWithdrawArgs) -> Result<()> {
        if args.amount == 0 {
            return err!(ScalpelError::ZeroAmount);
        }
        if args.amount > self.treasury_vault.amount {
            return err!(ScalpelError::InsufficientLiquidity);
        }
        Ok(())
    }
}

/// Moves the tokens, signed by the market PDA.
#[access_control(ctx.accounts.validate(&args))]
pub fn handler(ctx: Context<TreasuryWithdraw>, args: TreasuryWithdrawArgs) -> Result<()> {
    let (mint, bump) = {
        let m = ctx.accounts.market.load()?;
        (m.mint, m.bump)
    };
    transfer_from_market(
        &ctx.accounts.token_program,
        ctx.accounts.treasury_vault.to_account_info(),
        ctx.accounts.destination.to_account_info(),
        ctx.accounts.market.to_account_info(),
        &mint,
        bump,
        args.amount,
    )?;
    crate::runtime::emit_event(&TreasuryWithdrawn {
        market: ctx.accounts.market.key(),
        destination: ctx.accounts.destination.key(),
        amount: args.amount,
    });
    Ok(())
}
