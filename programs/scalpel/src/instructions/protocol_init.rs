//! Creates the protocol singleton; the signer becomes admin.

use crate::constants::{ACCOUNT_VERSION, PROTOCOL_SEED};
use crate::events::ProtocolInitialized;
use crate::params::ProtocolParams;
use crate::state::Protocol;
use anchor_lang::prelude::*;

/// Arguments of `protocol_init`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct ProtocolInitArgs {
    /// Emergency key that may only tighten.
    pub guardian: Pubkey,
    /// Initial risk parameters (validated against the bounds).
    pub params: ProtocolParams,
}

/// Accounts of `protocol_init`.
#[derive(Accounts)]
pub struct ProtocolInit<'info> {
    /// The singleton, created here.
    #[account(init, payer = admin, space = Protocol::SPACE, seeds = [PROTOCOL_SEED], bump)]
    pub protocol: AccountLoader<'info, Protocol>,
    /// Becomes the admin and pays rent.
    #[account(mut)]
    pub admin: Signer<'info>,
    /// System program.
    pub system_program: Program<'info, System>,
}

impl ProtocolInit<'_> {
    /// Parameters within bounds.
    pub fn validate(&self, args: &ProtocolInitArgs) -> Result<()> {
        args.params.validate()?;
        Ok(())
    }
}

/// Writes the roles and parameters.
#[access_control(ctx.accounts.validate(&args))]
pub fn handler(ctx: Context<ProtocolInit>, args: ProtocolInitArgs) -> Result<()> {
    let mut p = ctx.accounts.protocol.load_init()?;
    let params = args.params;
    p.admin = ctx.accounts.admin.key();
    p.pending_admin = Pubkey::default();
    p.guardian = args.guardian;
    p.set_params(&params)?;
    p.market_count = 0;
    p.version = ACCOUNT_VERSION;
    p.bump = ctx.bumps.protocol;
    crate::runtime::emit_event(&ProtocolInitialized {
        admin: p.admin,
        guardian: p.guardian,
    });
    Ok(())
}
