//! One file per instruction: its `Args`, `#[derive(Accounts)]`, `validate()` and `handler`.

pub mod account_close;
pub mod account_create;
pub mod admin_accept;
pub mod admin_propose;
pub mod admin_set_flags;
pub mod bad_debt_resolve;
pub mod borrow;
pub mod deposit;
pub mod guardian_set;
pub mod guardian_tighten;
pub mod health_view;
pub mod insurance_fund;
pub mod liquidate;
pub mod liquidate_to_account;
pub mod liquidation_flow;
pub mod market_accrue;
pub mod market_add;
pub mod market_collect_fees;
pub mod params_apply_market;
pub mod params_apply_protocol;
pub mod params_cancel;
pub mod params_queue_market;
pub mod params_queue_protocol;
pub mod protocol_init;
pub mod repay;
pub mod treasury_withdraw;
pub mod withdraw;

#[allow(ambiguous_glob_reexports)]
pub use account_close::*;
#[allow(ambiguous_glob_reexports)]
pub use account_create::*;
#[allow(ambiguous_glob_reexports)]
pub use admin_accept::*;
#[allow(ambiguous_glob_reexports)]
pub use admin_propose::*;
#[allow(ambiguous_glob_reexports)]
pub use admin_set_flags::*;
#[allow(ambiguous_glob_reexports)]
pub use bad_debt_resolve::*;
#[allow(ambiguous_glob_reexports)]
pub use borrow::*;
#[allow(ambiguous_glob_reexports)]
pub use deposit::*;
#[allow(ambiguous_glob_reexports)]
pub use guardian_set::*;
#[allow(ambiguous_glob_reexports)]
pub use guardian_tighten::*;
#[allow(ambiguous_glob_reexports)]
pub use health_view::*;
#[allow(ambiguous_glob_reexports)]
pub use insurance_fund::*;
#[allow(ambiguous_glob_reexports)]
pub use liquidate::*;
#[allow(ambiguous_glob_reexports)]
pub use liquidate_to_account::*;
#[allow(ambiguous_glob_reexports)]
pub use market_accrue::*;
#[allow(ambiguous_glob_reexports)]
pub use market_add::*;
#[allow(ambiguous_glob_reexports)]
pub use market_collect_fees::*;
#[allow(ambiguous_glob_reexports)]
pub use params_apply_market::*;
#[allow(ambiguous_glob_reexports)]
pub use params_apply_protocol::*;
#[allow(ambiguous_glob_reexports)]
pub use params_cancel::*;
#[allow(ambiguous_glob_reexports)]
pub use params_queue_market::*;
#[allow(ambiguous_glob_reexports)]
pub use params_queue_protocol::*;
#[allow(ambiguous_glob_reexports)]
pub use protocol_init::*;
#[allow(ambiguous_glob_reexports)]
pub use repay::*;
#[allow(ambiguous_glob_reexports)]
pub use treasury_withdraw::*;
#[allow(ambiguous_glob_reexports)]
pub use withdraw::*;

use crate::constants::MARKET_SEED;
use anchor_lang::prelude::*;
use anchor_lang::solana_program::program_pack::Pack;
use anchor_spl::token::{self, spl_token, Token, Transfer};

/// Offset of `amount` in an SPL token account (after mint and owner).
const TOKEN_AMOUNT_OFFSET: usize = 64;

/// The mint of an SPL token account, read in place (a liquidation needs no more of the
/// liquidator's accounts than this; the token program checks the rest when it transfers).
pub fn token_mint(ai: &AccountInfo) -> Result<Pubkey> {
    let data = token_data(ai)?;
    Ok(Pubkey::new_from_array(
        data[..32]
            .try_into()
            .map_err(|_| ErrorCode::AccountDidNotDeserialize)?,
    ))
}

/// The authority of an SPL token account, read in place (every vault of a market belongs to the
/// market's PDA).
pub fn token_owner(ai: &AccountInfo) -> Result<Pubkey> {
    let data = token_data(ai)?;
    Ok(Pubkey::new_from_array(
        data[32..64]
            .try_into()
            .map_err(|_| ErrorCode::AccountDidNotDeserialize)?,
    ))
}

/// The balance of an SPL token account, read in place.
pub fn token_amount(ai: &AccountInfo) -> Result<u64> {
    let data = token_data(ai)?;
    let bytes = data[TOKEN_AMOUNT_OFFSET..TOKEN_AMOUNT_OFFSET + 8]
        .try_into()
        .map_err(|_| ErrorCode::AccountDidNotDeserialize)?;
    Ok(u64::from_le_bytes(bytes))
}

fn token_data<'a>(ai: &'a AccountInfo) -> Result<core::cell::Ref<'a, &'a mut [u8]>> {
    if *ai.owner != spl_token::ID {
        return Err(ErrorCode::AccountOwnedByWrongProgram.into());
    }
    let data = ai.try_borrow_data()?;
    if data.len() != spl_token::state::Account::LEN {
        return Err(ErrorCode::AccountDidNotDeserialize.into());
    }
    Ok(data)
}

/// Kinds in [`crate::events::BalanceChanged`].
pub mod balance_kind {
    /// Deposit.
    pub const DEPOSIT: u8 = 0;
    /// Withdraw.
    pub const WITHDRAW: u8 = 1;
    /// Borrow.
    pub const BORROW: u8 = 2;
    /// Repay.
    pub const REPAY: u8 = 3;
}

/// Moves `amount` out of a market-owned token account, signed by the market PDA.
pub fn transfer_from_market<'info>(
    token_program: &Program<'info, Token>,
    from: AccountInfo<'info>,
    to: AccountInfo<'info>,
    market: AccountInfo<'info>,
    mint: &Pubkey,
    market_bump: u8,
    amount: u64,
) -> Result<()> {
    if amount == 0 {
        return Ok(());
    }
    let bump = [market_bump];
    let seeds: &[&[u8]] = &[MARKET_SEED, mint.as_ref(), &bump];
    token::transfer(
        CpiContext::new_with_signer(
            token_program.to_account_info(),
            Transfer {
                from,
                to,
                authority: market,
            },
            &[seeds],
        ),
        amount,
    )
}

/// Moves `amount` from a user's token account, signed by the user.
pub fn transfer_from_user<'info>(
    token_program: &Program<'info, Token>,
    from: AccountInfo<'info>,
    to: AccountInfo<'info>,
    authority: AccountInfo<'info>,
    amount: u64,
) -> Result<()> {
    if amount == 0 {
        return Ok(());
    }
    token::transfer(
        CpiContext::new(
            token_program.to_account_info(),
            Transfer {
                from,
                to,
                authority,
            },
        ),
        amount,
    )
}
