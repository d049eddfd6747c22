//! Opens a margin account for the signing owner.

use crate::constants::{ACCOUNT_VERSION, MARGIN_SEED};
use crate::events::AccountCreated;
use crate::state::MarginAccount;
use anchor_lang::prelude::*;

/// Arguments of `account_create`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct AccountCreateArgs {
    /// Lets one owner hold several accounts.
    pub account_index: u16,
}

/// Accounts of `account_create`.
#[derive(Accounts)]
#[instruction(args: AccountCreateArgs)]
pub struct AccountCreate<'info> {
    /// The account, created here.
    #[account(init, payer = owner, space = MarginAccount::SPACE,
        seeds = [MARGIN_SEED, owner.key().as_ref(), &args.account_index.to_le_bytes()], bump)]
    pub margin_account: AccountLoader<'info, MarginAccount>,
    /// Owner; pays rent.
    #[account(mut)]
    pub owner: Signer<'info>,
    /// System program.
    pub system_program: Program<'info, System>,
}

/// Writes the empty account.
pub fn handler(ctx: Context<AccountCreate>, args: AccountCreateArgs) -> Result<()> {
    let mut a = ctx.accounts.margin_account.load_init()?;
    a.owner = ctx.accounts.owner.key();
    a.account_index = args.account_index;
    a.version = ACCOUNT_VERSION;
    a.bump = ctx.bumps.margin_account;
    crate::runtime::emit_event(&AccountCreated {
        account: ctx.accounts.margin_account.key(),
        owner: a.owner,
        account_index: a.account_index,
    });
    Ok(())
}
