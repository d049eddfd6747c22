//! Emergency actions that take effect at once but only in the safe direction (guardian or
//! admin): pause, reduce-only, lower caps, lower init asset weights, raise init liability
//! weights. The two pauses that lock users or liquidators out end by themselves: a withdrawal
//! pause lasts `MAX_WITHDRAWAL_PAUSE_SECS`, a market's liquidation pause at most
//! `MAX_LIQUIDATION_PAUSE_SECS`, and pauses of either kind must fit in one protocol-wide window
//! per cooldown (`params::pause_window`), so they cannot be chained across markets.

use crate::constants::{
    bounds::{
        LIQUIDATION_PAUSE_COOLDOWN_SECS, MAX_LIQUIDATION_PAUSE_SECS, MAX_WITHDRAWAL_PAUSE_SECS,
        WITHDRAWAL_PAUSE_COOLDOWN_SECS,
    },
    PROTOCOL_SEED,
};
use crate::errors::ScalpelError;
use crate::events::GuardianTightened;
use crate::params::{
    bps_fraction, pause_window, GuardianAction, MarketParams, MAX_LIAB_WEIGHT_BPS,
};
use crate::state::{
    Market, Protocol, MARKET_PAUSE_BORROWS, MARKET_PAUSE_DEPOSITS, MARKET_PAUSE_WITHDRAWALS,
    MARKET_REDUCE_ONLY, PAUSE_BORROWS, PAUSE_DEPOSITS, PAUSE_WITHDRAWALS,
};

/// The protocol flags a guardian pause may set.
const PROTOCOL_GUARDIAN_FLAGS: u8 = PAUSE_DEPOSITS | PAUSE_BORROWS | PAUSE_WITHDRAWALS;
/// The market flags a guardian pause may set.
const MARKET_GUARDIAN_FLAGS: u8 =
    MARKET_PAUSE_DEPOSITS | MARKET_PAUSE_BORROWS | MARKET_PAUSE_WITHDRAWALS | MARKET_REDUCE_ONLY;
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
        // Pauses set only the pause bits (and reduce-only): never the listing quarantine, which
        // only a timelocked change lifts, nor bits with no meaning yet.
        let (flags, allowed) = match args.action {
            GuardianAction::PauseProtocol { flags } => (flags, PROTOCOL_GUARDIAN_FLAGS),
            GuardianAction::PauseMarket { flags } => (flags, MARKET_GUARDIAN_FLAGS),
            _ => return Ok(()),
        };
        if flags == 0 || flags & !allowed != 0 {
            return err!(ScalpelError::InvalidGuardianAction);
        }
        Ok(())
    }
}

/// Opens or joins the protocol's withdrawal-pause window and returns when the pause ends.
fn timed_withdrawal_pause(p: &mut Protocol, now: i64) -> Result<i64> {
    p.withdrawal_pause_window_start = pause_window(
        p.withdrawal_pause_window_start,
        now,
        MAX_WITHDRAWAL_PAUSE_SECS,
        MAX_WITHDRAWAL_PAUSE_SECS,
        WITHDRAWAL_PAUSE_COOLDOWN_SECS,
    )
    .ok_or(ScalpelError::WithdrawalPauseTooLong)?;
    Ok(now.saturating_add(MAX_WITHDRAWAL_PAUSE_SECS as i64))
}

/// Applies the action, refusing anything that would loosen. The withdrawal bit of a pause
/// becomes a timed pause that ends by itself.
#[access_control(ctx.accounts.validate(&args))]
pub fn handler(ctx: Context<GuardianTighten>, args: GuardianTightenArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let loosen = || error!(ScalpelError::GuardianCannotLoosen);
    let (old_flags, new_flags) = match (args.action, &ctx.accounts.market) {
        (GuardianAction::PauseProtocol { flags }, None) => {
            let mut p = ctx.accounts.protocol.load_mut()?;
            let old = p.pause_flags;
            if flags & PAUSE_WITHDRAWALS != 0 {
                let until = timed_withdrawal_pause(&mut p, now)?;
                p.withdrawals_paused_until = p.withdrawals_paused_until.max(until);
            }
            p.pause_flags |= flags & !PAUSE_WITHDRAWALS;
            (old, p.pause_flags)
        }
        (action, Some(loader)) => {
            let mut m = loader.load_mut()?;
            let flags = m.flags;
            match action {
                GuardianAction::PauseMarket { flags } => {
                    if flags & MARKET_PAUSE_WITHDRAWALS != 0 {
                        let mut p = ctx.accounts.protocol.load_mut()?;
                        let until = timed_withdrawal_pause(&mut p, now)?;
                        m.withdrawals_paused_until = m.withdrawals_paused_until.max(until);
                    }
                    m.flags |= flags & !MARKET_PAUSE_WITHDRAWALS;
                }
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
                    let mut p = ctx.accounts.protocol.load_mut()?;
                    p.liquidation_pause_window_start = pause_window(
                        p.liquidation_pause_window_start,
                        now,
                        secs,
                        MAX_LIQUIDATION_PAUSE_SECS,
                        LIQUIDATION_PAUSE_COOLDOWN_SECS,
                    )
                    .ok_or(ScalpelError::LiquidationPauseTooLong)?;
                    m.liquidation_paused_until = m
                        .liquidation_paused_until
                        .max(now.saturating_add(secs as i64));
                }
                GuardianAction::TightenOracleGuards {
                    max_ema_divergence_bps,
                    net_borrow_limit_micro_usd,
                    deposit_weight_scale_start_micro_usd,
                } => {
                    let current = m.params()?;
                    let next = MarketParams {
                        max_ema_divergence_bps,
                        net_borrow_limit_micro_usd,
                        deposit_weight_scale_start_micro_usd,
                        ..current
                    };
                    if !next.guards_tighter_or_equal(&current) {
                        return Err(loosen());
                    }
                    next.validate()?;
                    m.guards = crate::state::RiskGuards::of(&next);
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
