//! Step one of the two-step admin transfer: the admin names a successor.

use crate::constants::PROTOCOL_SEED;
use crate::errors::ScalpelError;
use crate::events::AdminProposed;
use crate::state::Protocol;
use anchor_lang::prelude::*;

/// Arguments of `admin_propose`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct AdminProposeArgs {
    /// Successor; `Pubkey::default()` withdraws a proposal.
    pub new_admin: Pubkey,
}

/// Accounts of `admin_propose`.
#[derive(Accounts)]
pub struct AdminPropose<'info> {
    /// Protocol; its admin must sign.
    #[account(mut, seeds = [PROTOCOL_SEED], bump = protocol.load()?.bump,
        has_one = admin @ ScalpelError::Unauthorized)]
    pub protocol: AccountLoader<'info, Protocol>,
    /// Current admin.
    pub admin: Signer<'info>,
}

/// Records the proposal.
pub fn handler(ctx: Context<AdminPropose>, args: AdminProposeArgs) -> Result<()> {
    let mut p = ctx.accounts.protocol.load_mut()?;
    p.pending_admin = args.new_admin;
    crate::runtime::emit_event(&AdminProposed {
        admin: p.admin,
        proposed: args.new_admin,
    });
    Ok(())
}
