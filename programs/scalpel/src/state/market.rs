//! A listed token: vaults, oracle, risk parameters, interest curve and share accounting.

use crate::constants::BPS;
use crate::errors::ScalpelError;
use crate::math::{
    interest::{accrue, Accrued, RateCurve},
    MathResult, SafeMath, WrappedI80F48, I80F48,
};
use crate::oracle::{OracleConfig, OracleKind};
use anchor_lang::prelude::*;

/// Market flag: deposits paused.
pub const MARKET_PAUSE_DEPOSITS: u8 = 1 << 0;
/// Market flag: borrows paused.
pub const MARKET_PAUSE_BORROWS: u8 = 1 << 1;
/// Market flag: withdrawals paused.
pub const MARKET_PAUSE_WITHDRAWALS: u8 = 1 << 2;
/// Market flag: reduce-only (no new deposits or borrows increase exposure).
pub const MARKET_REDUCE_ONLY: u8 = 1 << 3;

/// One listed token (PDA `["market", mint]`).
#[account(zero_copy)]
#[derive(Debug)]
pub struct Market {
    /// Token mint.
    pub mint: Pubkey,
    /// Liquidity vault (PDA token account owned by this market).
    pub vault: Pubkey,
    /// Insurance vault (PDA token account owned by this market); pays out only for bad debt.
    pub insurance_vault: Pubkey,
    /// Treasury vault (PDA token account owned by this market); admin withdraws.
    pub treasury_vault: Pubkey,
    /// Oracle account the market reads.
    pub oracle: Pubkey,
    /// Pull-oracle feed id (zero for legacy).
    pub feed_id: [u8; 32],
    /// Init asset weight.
    pub asset_weight_init: WrappedI80F48,
    /// Maint asset weight.
    pub asset_weight_maint: WrappedI80F48,
    /// Init liability weight.
    pub liab_weight_init: WrappedI80F48,
    /// Maint liability weight.
    pub liab_weight_maint: WrappedI80F48,
    /// Utilization at the rate curve's kink.
    pub optimal_utilization: WrappedI80F48,
    /// Annual borrow rate at zero utilization.
    pub base_rate: WrappedI80F48,
    /// Annual rate added up to the kink.
    pub slope1: WrappedI80F48,
    /// Annual rate added from the kink to full utilization.
    pub slope2: WrappedI80F48,
    /// Native tokens per deposit share.
    pub deposit_index: WrappedI80F48,
    /// Native tokens per borrow share.
    pub borrow_index: WrappedI80F48,
    /// Sum of every account's deposit shares.
    pub total_deposit_shares: WrappedI80F48,
    /// Sum of every account's borrow shares.
    pub total_borrow_shares: WrappedI80F48,
    /// Unix time of the last accrual.
    pub last_accrual_ts: i64,
    /// Largest total deposits, native units.
    pub deposit_cap: u64,
    /// Largest total borrows, native units.
    pub borrow_cap: u64,
    /// Bad debt that could be neither covered nor socialized (no depositors), native units.
    pub deficit: u64,
    /// Oracle age limit for borrow and withdraw.
    pub max_age_secs: u32,
    /// Oracle age limit for maintenance health and liquidation.
    pub max_age_liquidation_secs: u32,
    /// Liquidation penalty `π` when this market is the collateral taken, in bps.
    pub liquidation_penalty_bps: u16,
    /// Largest `conf / price`, in bps.
    pub max_conf_bps: u16,
    /// Index stored in margin-account positions.
    pub market_index: u16,
    /// Token decimals.
    pub decimals: u8,
    /// [`OracleKind`] as a byte.
    pub oracle_kind: u8,
    /// `MARKET_*` flags.
    pub flags: u8,
    /// Layout version.
    pub version: u8,
    /// Market PDA bump.
    pub bump: u8,
    /// Vault PDA bump.
    pub vault_bump: u8,
    /// Insurance vault PDA bump.
    pub insurance_bump: u8,
    /// Treasury vault PDA bump.
    pub treasury_bump: u8,
    /// Explicit padding.
    pub _pad: [u8; 2],
    /// Room for pending parameter changes and weight shifts.
    pub reserved: [u8; 512],
}

const _: () = assert!(core::mem::size_of::<Market>() == 952);
const _: () = assert!(core::mem::align_of::<Market>() == 8);

/// The four health weights of a market.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Weights {
    /// Init asset weight.
    pub asset_init: I80F48,
    /// Maint asset weight.
    pub asset_maint: I80F48,
    /// Init liability weight.
    pub liab_init: I80F48,
    /// Maint liability weight.
    pub liab_maint: I80F48,
}

impl Market {
    /// Account size including the 8-byte discriminator.
    pub const SPACE: usize = 8 + core::mem::size_of::<Market>();

    /// Oracle configuration for the adapters.
    pub fn oracle_config(&self) -> core::result::Result<OracleConfig, ScalpelError> {
        Ok(OracleConfig {
            kind: OracleKind::from_u8(self.oracle_kind)?,
            feed_id: self.feed_id,
            decimals: self.decimals,
            max_conf_bps: self.max_conf_bps,
            max_future_secs: self.max_age_secs,
        })
    }

    /// Weights in force at `now`.
    pub fn weights(&self, _now: i64) -> Weights {
        Weights {
            asset_init: self.asset_weight_init.get(),
            asset_maint: self.asset_weight_maint.get(),
            liab_init: self.liab_weight_init.get(),
            liab_maint: self.liab_weight_maint.get(),
        }
    }

    /// The interest curve.
    pub fn rate_curve(&self) -> RateCurve {
        RateCurve {
            optimal_utilization: self.optimal_utilization.get(),
            base_rate: self.base_rate.get(),
            slope1: self.slope1.get(),
            slope2: self.slope2.get(),
        }
    }

    /// Indices as they would be after accruing to `now`, without writing them.
    pub fn accrued(&self, now: i64) -> MathResult<Accrued> {
        let dt = now.saturating_sub(self.last_accrual_ts).max(0) as u64;
        accrue(
            &self.rate_curve(),
            self.deposit_index.get(),
            self.borrow_index.get(),
            self.total_deposit_shares.get(),
            self.total_borrow_shares.get(),
            dt,
        )
    }

    /// Accrues interest to `now` and stores the new indices.
    pub fn accrue_to(&mut self, now: i64) -> MathResult<Accrued> {
        let a = self.accrued(now)?;
        self.deposit_index = a.deposit_index.into();
        self.borrow_index = a.borrow_index.into();
        if now > self.last_accrual_ts {
            self.last_accrual_ts = now;
        }
        Ok(a)
    }

    /// Total deposits in native units (floored).
    pub fn total_deposits(&self) -> MathResult<u64> {
        crate::math::shares::deposit_balance(
            self.total_deposit_shares.get(),
            self.deposit_index.get(),
        )
    }

    /// Total borrows in native units (ceiled).
    pub fn total_borrows(&self) -> MathResult<u64> {
        crate::math::shares::debt_balance(self.total_borrow_shares.get(), self.borrow_index.get())
    }

    /// Applies a change of total shares.
    pub fn apply_share_deltas(
        &mut self,
        deposit_delta: I80F48,
        borrow_delta: I80F48,
    ) -> MathResult<()> {
        let d = self
            .total_deposit_shares
            .get()
            .safe_add(deposit_delta)?
            .max(I80F48::ZERO);
        let b = self
            .total_borrow_shares
            .get()
            .safe_add(borrow_delta)?
            .max(I80F48::ZERO);
        self.total_deposit_shares = d.into();
        self.total_borrow_shares = b.into();
        Ok(())
    }

    /// Whether a flag bit is set.
    pub fn has_flag(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// Penalty as a fraction.
    pub fn liquidation_penalty(&self) -> MathResult<I80F48> {
        crate::math::fx(self.liquidation_penalty_bps as u64).safe_div(crate::math::fx(BPS))
    }
}
