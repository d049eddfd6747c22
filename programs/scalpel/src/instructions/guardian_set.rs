//! The admin names the guardian (the emergency key that may only tighten).

use crate::constants::PROTOCOL_SEED;
use crate::errors::ScalpelError;
use crate::events::GuardianChanged;
use crate::state::Protocol;
use anchor_lang::prelude::*;

/// Arguments of `guardian_set`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct GuardianSetArgs {
    /// New guardian.
    pub guardian: Pubkey,
}

/// Accounts of `guardian_set`.
#[derive(Accounts)]
pub struct GuardianSet<'info> {
    /// Protocol; its admin must sign.
    #[account(mut, seeds = [PROTOCOL_SEED], bump = protocol.load()?.bump,
        has_one = admin @ ScalpelError::Unauthorized)]
    pub protocol: AccountLoader<'info, Protocol>,
    /// Admin.
    pub admin: Signer<'info>,
}

/// Sets it.
pub fn handler(ctx: Context<GuardianSet>, args: GuardianSetArgs) -> Result<()> {
    let mut p = ctx.accounts.protocol.load_mut()?;
    let old = p.guardian;
    p.guardian = args.guardian;
    crate::runtime::emit_event(&GuardianChanged {
        old,
        new: args.guardian,
    });
    Ok(())
}
