//! The singleton protocol account: roles and the risk parameters shared by all markets.

use crate::math::liquidation::LiquidationParams;
use crate::math::{bps, fx, HealthParams, IntMath, MathResult, SafeMath, WrappedI80F48, I80F48};
use crate::params::ProtocolParams;
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
    /// Health ratio `r_full` at and below which the full penalty applies, bps of 1.
    pub full_penalty_health_ratio_bps: u16,
    /// Layout version.
    pub version: u8,
    /// PDA bump.
    pub bump: u8,
    /// Global pause bits (`PAUSE_*`).
    pub pause_flags: u8,
    /// Explicit padding.
    pub _pad: [u8; 3],
    /// A queued protocol-parameter change, applied by anyone after its `eta`.
    pub pending: PendingProtocolChange,
    /// Start of the current guardian liquidation-pause window (0: none yet): every market's
    /// liquidation pause must end within `MAX_LIQUIDATION_PAUSE_SECS` of it, so pauses of
    /// different markets cannot be chained into a longer one.
    pub liquidation_pause_window_start: i64,
    /// Start of the current guardian withdrawal-pause window (0: none yet), likewise.
    pub withdrawal_pause_window_start: i64,
    /// Withdrawals are paused protocol-wide until this time (guardian; ends by itself).
    pub withdrawals_paused_until: i64,
    /// The queued `full_penalty_health_ratio_bps`, beside [`Protocol::pending`] (whose layout
    /// had no room left for it).
    pub pending_full_penalty_health_ratio_bps: u16,
    /// Explicit padding.
    pub _pad2: [u8; 6],
    /// Room for future fields.
    pub reserved: [u8; 184],
}

const _: () = assert!(core::mem::size_of::<Protocol>() == 400);
const _: () = assert!(core::mem::align_of::<Protocol>() == 8);

/// A queued change of the protocol parameters (the fields of `ProtocolParams`).
#[zero_copy]
#[derive(Debug, Default)]
pub struct PendingProtocolChange {
    /// Unix time from which `params_apply_protocol` may apply it.
    pub eta: i64,
    /// Dust threshold, micro-USD.
    pub dust_threshold_micro_usd: u64,
    /// Confidence multiplier, bps of 1.
    pub conf_multiplier_bps: u32,
    /// Timelock.
    pub timelock_secs: u32,
    /// Maintenance-weight shift duration.
    pub weight_shift_secs: u32,
    /// Liquidation buffer, bps.
    pub liquidation_buffer_bps: u16,
    /// Penalty split, bps.
    pub split_bps: [u16; 3],
    /// Largest init-price bias, bps.
    pub max_conf_bias_bps: u16,
    /// 1 when a change is queued.
    pub active: u8,
    /// Explicit padding.
    pub _pad: [u8; 1],
}

const _: () = assert!(core::mem::size_of::<PendingProtocolChange>() == 40);

impl PendingProtocolChange {
    /// The queued parameters.
    pub fn params(&self) -> ProtocolParams {
        ProtocolParams {
            liquidation_buffer_bps: self.liquidation_buffer_bps,
            split_bps: self.split_bps,
            conf_multiplier_bps: self.conf_multiplier_bps,
            max_conf_bias_bps: self.max_conf_bias_bps,
            dust_threshold_micro_usd: self.dust_threshold_micro_usd,
            timelock_secs: self.timelock_secs,
            weight_shift_secs: self.weight_shift_secs,
            // Stored beside this struct: see `Protocol::pending_params`.
            full_penalty_health_ratio_bps: 0,
        }
    }

    /// Queues `p` for `eta` (without `full_penalty_health_ratio_bps`: see
    /// `Protocol::queue_params`).
    pub fn set(&mut self, p: &ProtocolParams, eta: i64) {
        *self = PendingProtocolChange {
            eta,
            dust_threshold_micro_usd: p.dust_threshold_micro_usd,
            conf_multiplier_bps: p.conf_multiplier_bps,
            timelock_secs: p.timelock_secs,
            weight_shift_secs: p.weight_shift_secs,
            liquidation_buffer_bps: p.liquidation_buffer_bps,
            split_bps: p.split_bps,
            max_conf_bias_bps: p.max_conf_bias_bps,
            active: 1,
            _pad: [0; 1],
        };
    }
}

impl Protocol {
    /// Account size including the 8-byte discriminator.
    pub const SPACE: usize = 8 + core::mem::size_of::<Protocol>();

    /// Whether withdrawals are paused protocol-wide at `now` (flag or a guardian's timed pause).
    pub fn withdrawals_paused(&self, now: i64) -> bool {
        self.pause_flags & PAUSE_WITHDRAWALS != 0 || now < self.withdrawals_paused_until
    }

    /// Health inputs derived from the stored parameters.
    pub fn health_params(&self) -> MathResult<HealthParams> {
        Ok(HealthParams {
            conf_multiplier: fx(self.conf_multiplier_bps as u64).div_int(10_000)?,
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
            full_penalty_health_ratio: self.full_penalty_health_ratio()?,
        })
    }

    /// `r_full` as a fraction.
    pub fn full_penalty_health_ratio(&self) -> MathResult<I80F48> {
        bps(self.full_penalty_health_ratio_bps as u64)
    }

    /// Dust threshold in USD.
    pub fn dust_threshold(&self) -> I80F48 {
        self.dust_threshold.get()
    }

    /// The parameters in force, as instruction arguments.
    pub fn params(&self) -> MathResult<ProtocolParams> {
        let micro = self.dust_threshold.get().safe_mul(fx(1_000_000))?;
        Ok(ProtocolParams {
            liquidation_buffer_bps: self.liquidation_buffer_bps,
            split_bps: [
                self.split_liquidator_bps,
                self.split_insurance_bps,
                self.split_treasury_bps,
            ],
            conf_multiplier_bps: self.conf_multiplier_bps,
            max_conf_bias_bps: self.max_conf_bias_bps,
            dust_threshold_micro_usd: crate::math::floor_u64(micro.round())?,
            timelock_secs: self.timelock_secs,
            weight_shift_secs: self.weight_shift_secs,
            full_penalty_health_ratio_bps: self.full_penalty_health_ratio_bps,
        })
    }

    /// The queued parameters.
    pub fn pending_params(&self) -> ProtocolParams {
        ProtocolParams {
            full_penalty_health_ratio_bps: self.pending_full_penalty_health_ratio_bps,
            ..self.pending.params()
        }
    }

    /// Queues `p` for `eta`.
    pub fn queue_params(&mut self, p: &ProtocolParams, eta: i64) {
        self.pending.set(p, eta);
        self.pending_full_penalty_health_ratio_bps = p.full_penalty_health_ratio_bps;
    }

    /// Writes validated parameters (shared by `protocol_init` and `params_apply_protocol`).
    pub fn set_params(&mut self, p: &ProtocolParams) -> MathResult<()> {
        self.dust_threshold = WrappedI80F48::from_num(p.dust_threshold()?);
        self.timelock_secs = p.timelock_secs;
        self.weight_shift_secs = p.weight_shift_secs;
        self.conf_multiplier_bps = p.conf_multiplier_bps;
        self.liquidation_buffer_bps = p.liquidation_buffer_bps;
        self.split_liquidator_bps = p.split_bps[0];
        self.split_insurance_bps = p.split_bps[1];
        self.split_treasury_bps = p.split_bps[2];
        self.max_conf_bias_bps = p.max_conf_bias_bps;
        self.full_penalty_health_ratio_bps = p.full_penalty_health_ratio_bps;
        Ok(())
    }
}
