//! The admin sets pause flags directly, protocol-wide or for one market: how a guardian pause is
//! lifted (pausing and unpausing change no risk parameter, so they take effect at once).

use crate::constants::PROTOCOL_SEED;
use crate::errors::ScalpelError;
use crate::events::FlagsSet;
use crate::state::{
    Market, Protocol, MARKET_PAUSE_WITHDRAWALS, MARKET_QUARANTINED, PAUSE_WITHDRAWALS,
};
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

/// Writes the flags. A market's quarantine bit is not the admin's to set or clear (only an
/// applied timelocked change ends it). Flags without the withdrawal bit also lift a guardian's
/// timed withdrawal pause.
pub fn handler(ctx: Context<AdminSetFlags>, args: AdminSetFlagsArgs) -> Result<()> {
    let (market, old, new) = match &ctx.accounts.market {
        Some(loader) => {
            let mut m = loader.load_mut()?;
            let old = m.flags;
            m.flags = (args.flags & !MARKET_QUARANTINED) | (old & MARKET_QUARANTINED);
            if m.flags & MARKET_PAUSE_WITHDRAWALS == 0 {
                m.withdrawals_paused_until = 0;
            }
            (Some(loader.key()), old, m.flags)
        }
        None => {
            let mut p = ctx.accounts.protocol.load_mut()?;
            let old = p.pause_flags;
            p.pause_flags = args.flags;
            if p.pause_flags & PAUSE_WITHDRAWALS == 0 {
                p.withdrawals_paused_until = 0;
            }
            (None, old, p.pause_flags)
        }
    };
    crate::runtime::emit_event(&FlagsSet { market, old, new });
    Ok(())
}
