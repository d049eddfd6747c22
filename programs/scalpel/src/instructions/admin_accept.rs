//! Step two of the admin transfer: the proposed key signs, so an admin can never be handed to a
//! key nobody controls.

use crate::constants::PROTOCOL_SEED;
use crate::errors::ScalpelError;
use crate::events::AdminChanged;
use crate::state::Protocol;
use anchor_lang::prelude::*;

/// Accounts of `admin_accept`.
#[derive(Accounts)]
pub struct AdminAccept<'info> {
    /// Protocol.
    #[account(mut, seeds = [PROTOCOL_SEED], bump = protocol.load()?.bump)]
    pub protocol: AccountLoader<'info, Protocol>,
    /// The proposed admin.
    pub new_admin: Signer<'info>,
}

impl AdminAccept<'_> {
    /// The signer is the proposal.
    pub fn validate(&self) -> Result<()> {
        let p = self.protocol.load()?;
        if p.pending_admin == Pubkey::default() || p.pending_admin != self.new_admin.key() {
            return err!(ScalpelError::NotPendingAdmin);
        }
        Ok(())
    }
}

/// Hands over.
#[access_control(ctx.accounts.validate())]
pub fn handler(ctx: Context<AdminAccept>) -> Result<()> {
    let mut p = ctx.accounts.protocol.load_mut()?;
    let old = p.admin;
    p.admin = p.pending_admin;
    p.pending_admin = Pubkey::default();
    crate::runtime::emit_event(&AdminChanged { old, new: p.admin });
    Ok(())
}
