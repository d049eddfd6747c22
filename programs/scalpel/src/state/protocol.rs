//! The singleton protocol account: roles and the risk parameters shared by all markets.

use crate::math::liquidation::LiquidationParams;
use crate::math::{bps, fx, HealthParams, MathResult, SafeMath, WrappedI80F48, I80F48};
use anchor_lang::prelude::*;

/// Protocol-wide pause: deposits.
pub const PAUSE_DEPOSITS: u8 = 1 << 0;
/// Protocol-wide pause: borrows.
pub const PAUSE_BORROWS: u8 = 1 << 1;
/// Protocol-wide pause: withdrawals.
pub const PAUSE_WITHDRAWALS: u8 = 1 << 2;

/// Roles and protocol-wide risk parameters (PDA `["protocol"]`).
#[account(zero_copy)]
#[derive(Debug)]
pub struct Protocol {
    /// Governance authority (a multisig or DAO PDA in production).
    pub admin: Pubkey,
    /// Proposed next admin; becomes admin when it signs `admin_accept`.
    pub pending_admin: Pubkey,
    /// Emergency key that may only tighten.
    pub guardian: Pubkey,
    /// Positions worth less than this (USD) are closed out whole by liquidation.
    pub dust_threshold: WrappedI80F48,
    /// Delay between queuing and applying a parameter change.
    pub timelock_secs: u32,
    /// Duration over which maintenance weights tighten linearly.
    pub weight_shift_secs: u32,
    /// Confidence multiplier `k`, in bps of 1 (21 200 = 2.12).
    pub conf_multiplier_bps: u32,
    /// Liquidation buffer `b`, in bps.
    pub liquidation_buffer_bps: u16,
    /// Liquidator share `s_L` of the penalty, in bps.
    pub split_liquidator_bps: u16,
    /// Insurance share `s_I` of the penalty, in bps.
    pub split_insurance_bps: u16,
    /// Treasury share `s_T` of the penalty, in bps.
    pub split_treasury_bps: u16,
    /// Largest init-price bias, in bps of price.
    pub max_conf_bias_bps: u16,
    /// Markets listed so far; the next market's index.
    pub market_count: u16,
    /// Layout version.
    pub version: u8,
    /// PDA bump.
    pub bump: u8,
    /// Global pause bits (`PAUSE_*`).
    pub pause_flags: u8,
    /// Explicit padding.
    pub _pad: [u8; 5],
    /// Room for future fields.
    pub reserved: [u8; 256],
}

const _: () = assert!(core::mem::size_of::<Protocol>() == 400);
const _: () = assert!(core::mem::align_of::<Protocol>() == 4);

impl Protocol {
    /// Account size including the 8-byte discriminator.
    pub const SPACE: usize = 8 + core::mem::size_of::<Protocol>();

    /// Health inputs derived from the stored parameters.
    pub fn health_params(&self) -> MathResult<HealthParams> {
        Ok(HealthParams {
            conf_multiplier: fx(self.conf_multiplier_bps as u64).safe_div(fx(10_000))?,
            max_conf_bias: bps(self.max_conf_bias_bps as u64)?,
            liquidation_buffer: bps(self.liquidation_buffer_bps as u64)?,
        })
    }

    /// Liquidation inputs derived from the stored parameters.
    pub fn liquidation_params(&self) -> MathResult<LiquidationParams> {
        Ok(LiquidationParams {
            health: self.health_params()?,
            split_liquidator: bps(self.split_liquidator_bps as u64)?,
            split_insurance: bps(self.split_insurance_bps as u64)?,
            split_treasury: bps(self.split_treasury_bps as u64)?,
            dust_threshold: self.dust_threshold(),
        })
    }

    /// Dust threshold in USD.
    pub fn dust_threshold(&self) -> I80F48 {
        self.dust_threshold.get()
    }
}
