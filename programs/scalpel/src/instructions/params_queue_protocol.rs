//! Queues a protocol-parameter change behind the timelock (admin).

use crate::constants::PROTOCOL_SEED;
use crate::errors::ScalpelError;
use crate::events::ProtocolParamsQueued;
use crate::params::ProtocolParams;
use crate::state::Protocol;
use anchor_lang::prelude::*;

/// Arguments of `params_queue_protocol`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct ParamsQueueProtocolArgs {
    /// The full new parameter set (checked against the bounds now and again at apply).
    pub params: ProtocolParams,
}

/// Accounts of `params_queue_protocol`.
#[derive(Accounts)]
pub struct ParamsQueueProtocol<'info> {
    /// Protocol; its admin must sign.
    #[account(mut, seeds = [PROTOCOL_SEED], bump = protocol.load()?.bump,
        has_one = admin @ ScalpelError::Unauthorized)]
    pub protocol: AccountLoader<'info, Protocol>,
    /// Admin.
    pub admin: Signer<'info>,
}

impl ParamsQueueProtocol<'_> {
    /// Bounds.
    pub fn validate(&self, args: &ParamsQueueProtocolArgs) -> Result<()> {
        args.params.validate()?;
        Ok(())
    }
}

/// Stores it with `eta = now + timelock` (replacing any earlier queued change).
#[access_control(ctx.accounts.validate(&args))]
pub fn handler(ctx: Context<ParamsQueueProtocol>, args: ParamsQueueProtocolArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let mut p = ctx.accounts.protocol.load_mut()?;
    let eta = now.saturating_add(p.timelock_secs as i64);
    p.queue_params(&args.params, eta);
    crate::runtime::emit_event(&ProtocolParamsQueued {
        old: p.params()?,
        new: args.params,
        eta,
    });
    Ok(())
}
