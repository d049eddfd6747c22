//! Applies a queued protocol-parameter change once its timelock expired (anyone).

use crate::constants::PROTOCOL_SEED;
use crate::errors::ScalpelError;
use crate::events::ProtocolParamsApplied;
use crate::state::{PendingProtocolChange, Protocol};
use anchor_lang::prelude::*;

/// Accounts of `params_apply_protocol`.
#[derive(Accounts)]
pub struct ParamsApplyProtocol<'info> {
    /// Protocol.
    #[account(mut, seeds = [PROTOCOL_SEED], bump = protocol.load()?.bump)]
    pub protocol: AccountLoader<'info, Protocol>,
}

impl ParamsApplyProtocol<'_> {
    /// Queued, due, and still within bounds.
    pub fn validate(&self) -> Result<()> {
        let p = self.protocol.load()?;
        if p.pending.active == 0 {
            return err!(ScalpelError::NoPendingChange);
        }
        if Clock::get()?.unix_timestamp < p.pending.eta {
            return err!(ScalpelError::TimelockNotExpired);
        }
        p.pending_params().validate()?;
        Ok(())
    }
}

/// Writes the parameters and clears the queue.
#[access_control(ctx.accounts.validate())]
pub fn handler(ctx: Context<ParamsApplyProtocol>) -> Result<()> {
    let mut p = ctx.accounts.protocol.load_mut()?;
    let old = p.params()?;
    let new = p.pending_params();
    p.set_params(&new)?;
    p.pending = PendingProtocolChange::default();
    crate::runtime::emit_event(&ProtocolParamsApplied { old, new });
    Ok(())
}
