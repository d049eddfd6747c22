//! Cancels a queued change (admin or guardian): the protocol's, or a market's when given.

use crate::constants::PROTOCOL_SEED;
use crate::errors::ScalpelError;
use crate::events::ParamsCancelled;
use crate::state::{Market, PendingMarketChange, PendingProtocolChange, Protocol};
use anchor_lang::prelude::*;

/// Accounts of `params_cancel`.
#[derive(Accounts)]
pub struct ParamsCancel<'info> {
    /// Protocol.
    #[account(mut, seeds = [PROTOCOL_SEED], bump = protocol.load()?.bump)]
    pub protocol: AccountLoader<'info, Protocol>,
    /// Admin or guardian.
    pub authority: Signer<'info>,
    /// The market whose change is cancelled; absent for the protocol's.
    #[account(mut)]
    pub market: Option<AccountLoader<'info, Market>>,
}

impl ParamsCancel<'_> {
    /// Admin or guardian; something queued.
    pub fn validate(&self) -> Result<()> {
        let p = self.protocol.load()?;
        let who = self.authority.key();
        if who != p.admin && who != p.guardian {
            return err!(ScalpelError::Unauthorized);
        }
        let queued = match &self.market {
            Some(m) => m.load()?.pending.active != 0,
            None => p.pending.active != 0,
        };
        if !queued {
            return err!(ScalpelError::NoPendingChange);
        }
        Ok(())
    }
}

/// Clears the queue.
#[access_control(ctx.accounts.validate())]
pub fn handler(ctx: Context<ParamsCancel>) -> Result<()> {
    let (market, eta) = match &ctx.accounts.market {
        Some(loader) => {
            let mut m = loader.load_mut()?;
            let eta = m.pending.eta;
            m.pending = PendingMarketChange::default();
            (Some(loader.key()), eta)
        }
        None => {
            let mut p = ctx.accounts.protocol.load_mut()?;
            let eta = p.pending.eta;
            p.pending = PendingProtocolChange::default();
            (None, eta)
        }
    };
    crate::runtime::emit_event(&ParamsCancelled {
        market,
        by: ctx.accounts.authority.key(),
        eta,
    });
    Ok(())
}
