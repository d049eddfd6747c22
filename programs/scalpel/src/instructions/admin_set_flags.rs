//! The admin sets pause flags directly, protocol-wide or for one market: how a guardian pause is
//! lifted (pausing and unpausing change no risk parameter, so they take effect at once).

use crate::constants::PROTOCOL_SEED;
use crate::errors::ScalpelError;
use crate::events::FlagsSet;
use crate::state::{Market, Protocol};
use anchor_lang::prelude::*;

/// Arguments of `admin_set_flags`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct AdminSetFlagsArgs {
    /// The new flags (`PAUSE_*` for the protocol, `MARKET_*` for a market).
    pub flags: u8,
}

/// Accounts of `admin_set_flags`.
#[derive(Accounts)]
pub struct AdminSetFlags<'info> {
    /// Protocol; its admin must sign.
    #[account(mut, seeds = [PROTOCOL_SEED], bump = protocol.load()?.bump,
        has_one = admin @ ScalpelError::Unauthorized)]
    pub protocol: AccountLoader<'info, Protocol>,
    /// Admin.
    pub admin: Signer<'info>,
    /// The market; absent for the protocol's flags.
    #[account(mut)]
    pub market: Option<AccountLoader<'info, Market>>,
}

/// Writes the flags.
pub fn handler(ctx: Context<AdminSetFlags>, args: AdminSetFlagsArgs) -> Result<()> {
    let (market, old) = match &ctx.accounts.market {
        Some(loader) => {
            let mut m = loader.load_mut()?;
            let old = m.flags;
            m.flags = args.flags;
            (Some(loader.key()), old)
        }
        None => {
            let mut p = ctx.accounts.protocol.load_mut()?;
            let old = p.pause_flags;
            p.pause_flags = args.flags;
            (None, old)
        }
    };
    crate::runtime::emit_event(&FlagsSet {
        market,
        old,
        new: args.flags,
    });
    Ok(())
}
