//! Read-only health of an account, returned as return data (simulate it).

use crate::constants::PROTOCOL_SEED;
use crate::health_accounts::{account_health, PriceAge};
use crate::state::{MarginAccount, Protocol};
use anchor_lang::prelude::*;

/// Health figures as I80F48 bits (`I80F48::from_bits`), USD.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthView {
    /// `health_init`.
    pub init: i128,
    /// `health_maint`.
    pub maint: i128,
    /// `health_end`.
    pub end: i128,
    /// `A_maint`.
    pub asset_maint: i128,
    /// `L_maint`.
    pub liab_maint: i128,
    /// `A_maint / L_maint`; `None` when there is no debt (infinite).
    pub ratio: Option<i128>,
    /// Whether `liquidate` would accept the account now.
    pub liquidatable: bool,
    /// The hysteresis flag.
    pub being_liquidated: bool,
}

/// Accounts of `health_view`; remaining accounts: the health pairs.
#[derive(Accounts)]
pub struct HealthViewAccounts<'info> {
    /// Protocol (health parameters).
    #[account(seeds = [PROTOCOL_SEED], bump = protocol.load()?.bump)]
    pub protocol: AccountLoader<'info, Protocol>,
    /// The account viewed.
    pub margin_account: AccountLoader<'info, MarginAccount>,
}

/// Computes health with the maintenance price age (what liquidation would use).
pub fn handler<'info>(
    ctx: Context<'_, '_, 'info, 'info, HealthViewAccounts<'info>>,
) -> Result<HealthView> {
    let now = Clock::get()?.unix_timestamp;
    let protocol = ctx.accounts.protocol.load()?;
    let account = ctx.accounts.margin_account.load()?;
    let h = account_health(
        &protocol,
        &account,
        ctx.remaining_accounts,
        now,
        PriceAge::Maintenance,
    )?;
    let being = account.being_liquidated != 0;
    let view = HealthView {
        init: h.init.to_bits(),
        maint: h.maint.to_bits(),
        end: h.end.to_bits(),
        asset_maint: h.asset_maint.to_bits(),
        liab_maint: h.liab_maint.to_bits(),
        ratio: h.ratio().map(|r| r.to_bits()),
        liquidatable: h.is_liquidatable(being),
        being_liquidated: being,
    };
    crate::runtime::mirror_return_data(&view);
    Ok(view)
}
