//! Emergency actions that take effect at once but only in the safe direction (guardian or
//! admin): pause, reduce-only, lower caps, lower init asset weights, raise init liability
//! weights, and a bounded pause of one market's liquidations that ends by itself.

use crate::constants::{
    bounds::{LIQUIDATION_PAUSE_COOLDOWN_SECS, MAX_LIQUIDATION_PAUSE_SECS},
    PROTOCOL_SEED,
};
use crate::errors::ScalpelError;
use crate::events::GuardianTightened;
use crate::params::{bps_fraction, GuardianAction, MAX_LIAB_WEIGHT_BPS};
use crate::state::{Market, Protocol};
use anchor_lang::prelude::*;

/// Arguments of `guardian_tighten`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct GuardianTightenArgs {
    /// What to tighten.
    pub action: GuardianAction,
}

/// Accounts of `guardian_tighten`.
#[derive(Accounts)]
pub struct GuardianTighten<'info> {
    /// Protocol.
    #[account(mut, seeds = [PROTOCOL_SEED], bump = protocol.load()?.bump)]
    pub protocol: AccountLoader<'info, Protocol>,
    /// Guardian or admin.
    pub authority: Signer<'info>,
    /// The market, for market actions.
    #[account(mut)]
    pub market: Option<AccountLoader<'info, Market>>,
}

impl GuardianTighten<'_> {
    /// Guardian or admin; a market exactly for market actions.
    pub fn validate(&self, args: &GuardianTightenArgs) -> Result<()> {
        let p = self.protocol.load()?;
        let who = self.authority.key();
        if who != p.guardian && who != p.admin {
            return err!(ScalpelError::Unauthorized);
        }
        let wants_market = !matches!(args.action, GuardianAction::PauseProtocol { .. });
        if wants_market != self.market.is_some() {
            return err!(ScalpelError::InvalidGuardianAction);
        }
        Ok(())
    }
}

/// Applies the action, refusing anything that would loosen.
#[access_control(ctx.accounts.validate(&args))]
pub fn handler(ctx: Context<GuardianTighten>, args: GuardianTightenArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let loosen = || error!(ScalpelError::GuardianCannotLoosen);
    let (old_flags, new_flags) = match (args.action, &ctx.accounts.market) {
        (GuardianAction::PauseProtocol { flags }, None) => {
            let mut p = ctx.accounts.protocol.load_mut()?;
            let old = p.pause_flags;
            p.pause_flags |= flags;
            (old, p.pause_flags)
        }
        (action, Some(loader)) => {
            let mut m = loader.load_mut()?;
            let flags = m.flags;
            match action {
                GuardianAction::PauseMarket { flags } => m.flags |= flags,
                GuardianAction::LowerCaps {
                    deposit_cap,
                    borrow_cap,
                } => {
                    if deposit_cap > m.deposit_cap || borrow_cap > m.borrow_cap {
                        return Err(loosen());
                    }
                    m.deposit_cap = deposit_cap;
                    m.borrow_cap = borrow_cap;
                }
                GuardianAction::LowerInitAssetWeight { bps } => {
                    let w = bps_fraction(bps)?;
                    if w > m.asset_weight_init.get() {
                        return Err(loosen());
                    }
                    m.asset_weight_init = w.into();
                }
                GuardianAction::RaiseInitLiabWeight { bps } => {
                    let w = bps_fraction(bps)?;
                    if w < m.liab_weight_init.get() {
                        return Err(loosen());
                    }
                    if bps > MAX_LIAB_WEIGHT_BPS {
                        return err!(ScalpelError::InvalidLiabilityWeights);
                    }
                    m.liab_weight_init = w.into();
                }
                GuardianAction::PauseLiquidations { secs } => {
                    let since_last = now.saturating_sub(m.liquidation_paused_until);
                    let first = m.liquidation_paused_until == 0;
                    if secs == 0
                        || secs > MAX_LIQUIDATION_PAUSE_SECS
                        || (!first && since_last < LIQUIDATION_PAUSE_COOLDOWN_SECS)
                    {
                        return err!(ScalpelError::LiquidationPauseTooLong);
                    }
                    m.liquidation_paused_until = now.saturating_add(secs as i64);
                }
                GuardianAction::PauseProtocol { .. } => {
                    return err!(ScalpelError::InvalidGuardianAction)
                }
            }
            (flags, m.flags)
        }
        _ => return err!(ScalpelError::InvalidGuardianAction),
    };
    crate::runtime::emit_event(&GuardianTightened {
        market: ctx.accounts.market.as_ref().map(|m| m.key()),
        by: ctx.accounts.authority.key(),
        action: args.action,
        old_flags,
        new_flags,
    });
    Ok(())
}
