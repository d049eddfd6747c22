//! A listed token: vaults, oracle, risk parameters, interest curve and share accounting.

use crate::constants::BPS;
use crate::errors::ScalpelError;
use crate::math::{
    interest::{accrue, Accrued, RateCurve},
    liquidation::PenaltyCurve,
    IntMath, MathResult, OrMathErr, SafeMath, WrappedI80F48, I80F48,
};
use crate::oracle::{OracleConfig, OracleKind};
use crate::params::MarketParams;
use anchor_lang::prelude::*;

/// Market flag: deposits paused.
pub const MARKET_PAUSE_DEPOSITS: u8 = 1 << 0;
/// Market flag: borrows paused.
pub const MARKET_PAUSE_BORROWS: u8 = 1 << 1;
/// Market flag: withdrawals paused.
pub const MARKET_PAUSE_WITHDRAWALS: u8 = 1 << 2;
/// Market flag: reduce-only (no new deposits or borrows increase exposure).
pub const MARKET_REDUCE_ONLY: u8 = 1 << 3;
/// Market flag: listed but not yet activated. A new market is no collateral (asset weights 0)
/// and cannot be borrowed from until a timelocked parameter change applies; only
/// `params_apply_market` clears it (the admin's `admin_set_flags` cannot).
pub const MARKET_QUARANTINED: u8 = 1 << 4;

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
    /// Smallest liquidation penalty `π_min`, bps (at a health ratio of 1; `liquidation_penalty_bps`
    /// is the full penalty, at `r_full` and below).
    pub liquidation_penalty_min_bps: u16,
    /// A queued parameter change, applied by anyone after its `eta`.
    pub pending: PendingMarketChange,
    /// A maintenance-weight tightening in progress.
    pub shift: WeightShift,
    /// Liquidations of this market (as either side) are paused until this time (guardian).
    pub liquidation_paused_until: i64,
    /// Withdrawals from this market are paused until this time (guardian; ends by itself).
    pub withdrawals_paused_until: i64,
    /// Native units of collateral seized for the insurance fund (or forfeited by an insolvent
    /// account) and still held in the vault: the insurance fund's claim on it, moved by
    /// `market_collect_fees` and drawn first by `bad_debt_resolve`. Liquidations record it
    /// instead of transferring, which saves a token CPI each (marginfi's outstanding fees).
    pub insurance_pending: u64,
    /// Native units of collateral seized for the treasury and still held in the vault; moved to
    /// the treasury vault by `market_collect_fees`.
    pub treasury_pending: u64,
    /// Ticker set at listing ([`crate::params::symbol_bytes`]: printable ASCII, zero-padded), so
    /// wallets, the CLI and the TypeScript client name markets from the chain alone (Mango v4's
    /// `Bank::name`, Drift's `SpotMarket::name`).
    pub symbol: [u8; 16],
    /// The oracle-manipulation guards in force (issue 12: divergence, net borrows, deposit
    /// weight scaling).
    pub guards: RiskGuards,
    /// Start of the current net-borrow window (unix time, a multiple of its length).
    pub net_borrow_window_start: i64,
    /// Native units borrowed net of repayments in the current window (never below zero:
    /// repayments only make room for borrows of the same window). Valued at the borrow's price
    /// against the limit, so repaying reads no price.
    pub net_borrowed_in_window: u64,
    /// Room for future fields.
    pub reserved: [u8; 208],
}

/// A market's oracle-manipulation guards (stored form of the matching [`MarketParams`] fields).
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RiskGuards {
    /// Net-borrow limit per window, micro-USD (`u64::MAX`: none).
    pub net_borrow_limit_micro_usd: u64,
    /// Total deposit value, micro-USD, above which the init asset weight scales down.
    pub deposit_weight_scale_start_micro_usd: u64,
    /// Net-borrow window, seconds.
    pub net_borrow_window_secs: u32,
    /// Largest spot/EMA divergence for risk-increasing actions, bps.
    pub max_ema_divergence_bps: u16,
    /// Explicit padding.
    pub _pad: [u8; 2],
}

const _: () = assert!(core::mem::size_of::<RiskGuards>() == 24);

impl RiskGuards {
    /// The guards of `p`.
    pub fn of(p: &MarketParams) -> RiskGuards {
        RiskGuards {
            net_borrow_limit_micro_usd: p.net_borrow_limit_micro_usd,
            deposit_weight_scale_start_micro_usd: p.deposit_weight_scale_start_micro_usd,
            net_borrow_window_secs: p.net_borrow_window_secs,
            max_ema_divergence_bps: p.max_ema_divergence_bps,
            _pad: [0; 2],
        }
    }

    /// `p` with these guards.
    pub fn into_params(self, p: MarketParams) -> MarketParams {
        MarketParams {
            max_ema_divergence_bps: self.max_ema_divergence_bps,
            net_borrow_window_secs: self.net_borrow_window_secs,
            net_borrow_limit_micro_usd: self.net_borrow_limit_micro_usd,
            deposit_weight_scale_start_micro_usd: self.deposit_weight_scale_start_micro_usd,
            ..p
        }
    }
}

/// A queued change of a market's parameters, oracle and feed.
#[zero_copy]
#[derive(Debug, Default)]
pub struct PendingMarketChange {
    /// Unix time from which `params_apply_market` may apply it.
    pub eta: i64,
    /// Deposit cap.
    pub deposit_cap: u64,
    /// Borrow cap.
    pub borrow_cap: u64,
    /// Weights, bps: asset init, asset maint, liab init, liab maint.
    pub weights_bps: [u32; 4],
    /// Oracle age for borrow and withdraw.
    pub max_age_secs: u32,
    /// Oracle age for liquidation.
    pub max_age_liquidation_secs: u32,
    /// Rates, bps: base, slope1, slope2.
    pub rates_bps: [u32; 3],
    /// Penalty, bps.
    pub liquidation_penalty_bps: u16,
    /// Minimum penalty, bps.
    pub liquidation_penalty_min_bps: u16,
    /// Confidence limit, bps.
    pub max_conf_bps: u16,
    /// Kink, bps.
    pub optimal_utilization_bps: u16,
    /// 1 when a change is queued.
    pub active: u8,
    /// Oracle kind after the change.
    pub oracle_kind: u8,
    /// Oracle account after the change.
    pub oracle: Pubkey,
    /// Pull feed id after the change.
    pub feed_id: [u8; 32],
    /// Explicit padding.
    pub _pad: [u8; 2],
    /// Oracle-manipulation guards after the change.
    pub guards: RiskGuards,
}

const _: () = assert!(core::mem::size_of::<PendingMarketChange>() == 160);

impl PendingMarketChange {
    /// The queued risk parameters.
    pub fn params(&self) -> MarketParams {
        self.guards.into_params(MarketParams {
            asset_weight_init_bps: self.weights_bps[0],
            asset_weight_maint_bps: self.weights_bps[1],
            liab_weight_init_bps: self.weights_bps[2],
            liab_weight_maint_bps: self.weights_bps[3],
            liquidation_penalty_bps: self.liquidation_penalty_bps,
            liquidation_penalty_min_bps: self.liquidation_penalty_min_bps,
            max_conf_bps: self.max_conf_bps,
            max_age_secs: self.max_age_secs,
            max_age_liquidation_secs: self.max_age_liquidation_secs,
            deposit_cap: self.deposit_cap,
            borrow_cap: self.borrow_cap,
            optimal_utilization_bps: self.optimal_utilization_bps,
            base_rate_bps: self.rates_bps[0],
            slope1_bps: self.rates_bps[1],
            slope2_bps: self.rates_bps[2],
            ..MarketParams::default()
        })
    }

    /// Queues `p` with an oracle for `eta`.
    pub fn set(
        &mut self,
        p: &MarketParams,
        oracle_kind: u8,
        oracle: Pubkey,
        feed_id: [u8; 32],
        eta: i64,
    ) {
        *self = PendingMarketChange {
            eta,
            deposit_cap: p.deposit_cap,
            borrow_cap: p.borrow_cap,
            weights_bps: [
                p.asset_weight_init_bps,
                p.asset_weight_maint_bps,
                p.liab_weight_init_bps,
                p.liab_weight_maint_bps,
            ],
            max_age_secs: p.max_age_secs,
            max_age_liquidation_secs: p.max_age_liquidation_secs,
            rates_bps: [p.base_rate_bps, p.slope1_bps, p.slope2_bps],
            liquidation_penalty_bps: p.liquidation_penalty_bps,
            liquidation_penalty_min_bps: p.liquidation_penalty_min_bps,
            max_conf_bps: p.max_conf_bps,
            optimal_utilization_bps: p.optimal_utilization_bps,
            active: 1,
            oracle_kind,
            oracle,
            feed_id,
            _pad: [0; 2],
            guards: RiskGuards::of(p),
        };
    }
}

/// A linear move of the maintenance weights from `from_*` to the stored weights between
/// `start_ts` and `end_ts`, so a tightening never liquidates accounts en masse at one instant
/// (Mango v4's maint weight shift).
#[zero_copy]
#[derive(Debug, Default)]
pub struct WeightShift {
    /// Start of the shift.
    pub start_ts: i64,
    /// End of the shift; from then on the stored weights apply.
    pub end_ts: i64,
    /// Maint asset weight at the start.
    pub from_asset_maint: WrappedI80F48,
    /// Maint liability weight at the start.
    pub from_liab_maint: WrappedI80F48,
    /// 1 while a shift is configured.
    pub active: u8,
    /// Explicit padding.
    pub _pad0: u8,
    /// Penalty in force when the shift started, bps: until the shift ends the penalty is the
    /// smaller of it and the stored one, so `(1 + π) · wA_maint < 1` holds at every weight the
    /// shift passes through (κ > 0 mid-shift).
    pub from_penalty_bps: u16,
    /// Explicit padding.
    pub _pad: [u8; 4],
}

const _: () = assert!(core::mem::size_of::<WeightShift>() == 56);

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
            with_ema: true,
        })
    }

    /// Whether a maintenance-weight shift is still running at `now`.
    pub fn shifting(&self, now: i64) -> bool {
        self.shift.active != 0 && now < self.shift.end_ts
    }

    /// Liquidation penalty `π` in force at `now`, bps: the stored one, or during a shift the
    /// smaller of the penalty the shift started from and the stored one. Both satisfy
    /// `(1 + π) · wA < 1` at their own endpoint weight and the asset weight only falls during a
    /// shift, so the smaller one satisfies it at every weight in between (κ > 0 throughout).
    pub fn penalty_bps_at(&self, now: i64) -> u16 {
        if self.shifting(now) {
            self.liquidation_penalty_bps
                .min(self.shift.from_penalty_bps)
        } else {
            self.liquidation_penalty_bps
        }
    }

    /// [`Market::penalty_bps_at`] as a fraction.
    pub fn penalty_at(&self, now: i64) -> MathResult<I80F48> {
        crate::math::bps(self.penalty_bps_at(now) as u64)
    }

    /// The penalty curve in force at `now`: the full penalty [`Market::penalty_at`] and the
    /// minimum, never above it (a shift that lowers the full penalty lowers the curve's top).
    pub fn penalty_curve_at(&self, now: i64) -> MathResult<PenaltyCurve> {
        Ok(PenaltyCurve::from_bps(self.penalty_curve_bps_at(now)))
    }

    /// [`Market::penalty_curve_at`] in bps, `[min, max]`: what a resolved position keeps, so
    /// only the collateral liquidated pays for the conversion.
    pub fn penalty_curve_bps_at(&self, now: i64) -> [u16; 2] {
        let max_bps = self.penalty_bps_at(now);
        [self.liquidation_penalty_min_bps.min(max_bps), max_bps]
    }

    /// Whether withdrawals from this market are paused at `now` (flag or a guardian's timed
    /// pause).
    pub fn withdrawals_paused(&self, now: i64) -> bool {
        self.has_flag(MARKET_PAUSE_WITHDRAWALS) || now < self.withdrawals_paused_until
    }

    /// Weights in force at `now`: during a shift the maintenance weights move linearly from the
    /// old values to the stored ones.
    pub fn weights(&self, now: i64) -> Weights {
        let target_a = self.asset_weight_maint.get();
        let target_l = self.liab_weight_maint.get();
        let (asset_maint, liab_maint) = if self.shifting(now) {
            let span = self.shift.end_ts.saturating_sub(self.shift.start_ts).max(1);
            let done = now.saturating_sub(self.shift.start_ts).clamp(0, span);
            let t = I80F48::from_num(done)
                .checked_div(I80F48::from_num(span))
                .unwrap_or(I80F48::ONE);
            let lerp = |from: I80F48, to: I80F48| {
                from.checked_add(to.saturating_sub(from).saturating_mul(t))
                    .unwrap_or(to)
            };
            (
                lerp(self.shift.from_asset_maint.get(), target_a),
                lerp(self.shift.from_liab_maint.get(), target_l),
            )
        } else {
            (target_a, target_l)
        };
        Weights {
            asset_init: self.asset_weight_init.get(),
            asset_maint,
            liab_init: self.liab_weight_init.get(),
            liab_maint,
        }
    }

    /// The risk parameters in force (stored weights, not the interpolated ones).
    pub fn params(&self) -> MathResult<MarketParams> {
        let bps = |w: WrappedI80F48| -> MathResult<u32> {
            let v = w.get().safe_mul(crate::math::fx(BPS))?.round();
            v.checked_to_num::<u32>().or_math_err()
        };
        Ok(self.guards.into_params(MarketParams {
            asset_weight_init_bps: bps(self.asset_weight_init)?,
            asset_weight_maint_bps: bps(self.asset_weight_maint)?,
            liab_weight_init_bps: bps(self.liab_weight_init)?,
            liab_weight_maint_bps: bps(self.liab_weight_maint)?,
            liquidation_penalty_bps: self.liquidation_penalty_bps,
            liquidation_penalty_min_bps: self.liquidation_penalty_min_bps,
            max_conf_bps: self.max_conf_bps,
            max_age_secs: self.max_age_secs,
            max_age_liquidation_secs: self.max_age_liquidation_secs,
            deposit_cap: self.deposit_cap,
            borrow_cap: self.borrow_cap,
            optimal_utilization_bps: u16::try_from(bps(self.optimal_utilization)?).or_math_err()?,
            base_rate_bps: bps(self.base_rate)?,
            slope1_bps: bps(self.slope1)?,
            slope2_bps: bps(self.slope2)?,
            ..MarketParams::default()
        }))
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

    /// Deposit and borrow indices at `now`: the stored ones when nothing accrues (no time passed,
    /// or nothing borrowed: the common case inside an instruction that accrued the market
    /// already), otherwise [`Market::accrued`]'s.
    pub fn indices_at(&self, now: i64) -> MathResult<(I80F48, I80F48)> {
        if now <= self.last_accrual_ts || self.total_borrow_shares.get() <= I80F48::ZERO {
            return Ok((self.deposit_index.get(), self.borrow_index.get()));
        }
        let a = self.accrued(now)?;
        Ok((a.deposit_index, a.borrow_index))
    }

    /// Accrues interest to `now` and stores the new indices. Nothing to compute when no time
    /// passed since the last accrual (the rate and utilization are then reported as zero).
    pub fn accrue_to(&mut self, now: i64) -> MathResult<Accrued> {
        if now <= self.last_accrual_ts {
            return Ok(Accrued {
                deposit_index: self.deposit_index.get(),
                borrow_index: self.borrow_index.get(),
                borrow_rate: I80F48::ZERO,
                utilization: I80F48::ZERO,
            });
        }
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

    /// Native units the vault holds for the insurance fund and the treasury beyond what
    /// depositors can claim.
    pub fn protocol_pending(&self) -> MathResult<u64> {
        self.insurance_pending.safe_add(self.treasury_pending)
    }

    /// Total borrows in native units (ceiled).
    pub fn total_borrows(&self) -> MathResult<u64> {
        crate::math::shares::debt_balance(self.total_borrow_shares.get(), self.borrow_index.get())
    }

    /// Applies a change of total shares. Totals are the exact sum of every position's shares, so
    /// a total below zero means the books disagree: an error, never a silent clamp.
    pub fn apply_share_deltas(
        &mut self,
        deposit_delta: I80F48,
        borrow_delta: I80F48,
    ) -> MathResult<()> {
        let d = self.total_deposit_shares.get().safe_add(deposit_delta)?;
        let b = self.total_borrow_shares.get().safe_add(borrow_delta)?;
        if d < I80F48::ZERO || b < I80F48::ZERO {
            return Err(crate::math::math_err());
        }
        self.total_deposit_shares = d.into();
        self.total_borrow_shares = b.into();
        Ok(())
    }

    /// Records a borrow of `amount` native units priced at `price` (USD per whole token) at
    /// `now` against the net-borrow limit: a window that ended starts afresh (aligned to its
    /// length), then the window's net borrows plus `amount`, valued rounding up, must not
    /// exceed the limit. Returns the window's end when refused, so the caller can say when it
    /// resets.
    pub fn record_borrow(
        &mut self,
        amount: u64,
        price: I80F48,
        now: i64,
    ) -> MathResult<core::result::Result<(), i64>> {
        let window = self.guards.net_borrow_window_secs.max(1) as i64;
        if now >= self.net_borrow_window_start.saturating_add(window) {
            // Unsigned arithmetic: SBPF v0 has no signed division (a clock before the epoch
            // starts the window at zero).
            let t = u64::try_from(now).unwrap_or(0);
            let start = t.safe_sub(t % window as u64)?;
            self.net_borrow_window_start = i64::try_from(start).or_math_err()?;
            self.net_borrowed_in_window = 0;
        }
        let net = self.net_borrowed_in_window.saturating_add(amount);
        if self.guards.net_borrow_limit_micro_usd != u64::MAX {
            let value = crate::math::token_value_ceil(net, price, self.decimals)?;
            let limit =
                I80F48::from_num(self.guards.net_borrow_limit_micro_usd).div_int(1_000_000)?;
            if value > limit {
                return Ok(Err(self.net_borrow_window_start.saturating_add(window)));
            }
        }
        self.net_borrowed_in_window = net;
        Ok(Ok(()))
    }

    /// Records a repayment of `amount` native units: it makes room for borrows in the same
    /// window (never below zero; a repayment after the window ended frees nothing, the next
    /// window starts at zero anyway).
    pub fn record_repay(&mut self, amount: u64, now: i64) {
        let window = self.guards.net_borrow_window_secs.max(1) as i64;
        if now < self.net_borrow_window_start.saturating_add(window) {
            self.net_borrowed_in_window = self.net_borrowed_in_window.saturating_sub(amount);
        }
    }

    /// The init asset weight after deposit-weight scaling: `weight · start / total` once the
    /// market's total deposits, valued at `price` (the init valuation price), exceed the
    /// threshold, so one market's inflated deposits cannot back unbounded borrowing (the weight
    /// rounds down, against the borrower).
    pub fn scaled_init_asset_weight(
        &self,
        weight: I80F48,
        deposit_index: I80F48,
        price: I80F48,
    ) -> MathResult<I80F48> {
        let start_micro = self.guards.deposit_weight_scale_start_micro_usd;
        if start_micro == u64::MAX || weight <= I80F48::ZERO {
            return Ok(weight);
        }
        let total =
            crate::math::shares::deposit_balance(self.total_deposit_shares.get(), deposit_index)?;
        let total_value = crate::math::token_value(total, price, self.decimals)?;
        let start = I80F48::from_num(start_micro).div_int(1_000_000)?;
        if total_value <= start {
            return Ok(weight);
        }
        weight.safe_mul(start)?.safe_div(total_value)
    }

    /// The ticker, as listed.
    pub fn symbol(&self) -> &str {
        crate::params::symbol_str(&self.symbol)
    }

    /// Whether a flag bit is set.
    pub fn has_flag(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::fx;
    use bytemuck::Zeroable;

    #[test]
    fn share_totals_never_go_below_zero() {
        let mut m = Market::zeroed();
        m.apply_share_deltas(I80F48::from_num(5), I80F48::from_num(3))
            .unwrap();
        assert!(m
            .apply_share_deltas(I80F48::from_num(-6), I80F48::ZERO)
            .is_err());
        assert!(m
            .apply_share_deltas(I80F48::ZERO, I80F48::from_num(-3.5))
            .is_err());
        assert_eq!(m.total_deposit_shares.get(), I80F48::from_num(5));
        m.apply_share_deltas(I80F48::from_num(-5), I80F48::from_num(-3))
            .unwrap();
        assert_eq!(m.total_borrow_shares.get(), I80F48::ZERO);
    }

    /// The net-borrow window by hand: 1 000 USD an hour of a 6-decimal token at 1 USD.
    #[test]
    fn net_borrows_reset_with_their_window_and_repays_make_room() {
        let mut m = Market::zeroed();
        m.decimals = 6;
        m.guards.net_borrow_limit_micro_usd = 1_000_000_000;
        m.guards.net_borrow_window_secs = 3_600;
        let one = I80F48::ONE;
        assert_eq!(m.record_borrow(800_000_000, one, 7_300).unwrap(), Ok(()));
        assert_eq!(m.net_borrow_window_start, 7_200, "aligned to the hour");
        assert_eq!(
            m.record_borrow(300_000_000, one, 7_400).unwrap(),
            Err(10_800)
        );
        assert_eq!(
            m.net_borrowed_in_window, 800_000_000,
            "a refusal records nothing"
        );
        m.record_repay(200_000_000, 7_500);
        assert_eq!(m.record_borrow(300_000_000, one, 7_600).unwrap(), Ok(()));
        m.record_repay(5_000_000_000, 7_700);
        assert_eq!(m.net_borrowed_in_window, 0, "never below zero");
        assert_eq!(m.record_borrow(1_000_000_000, one, 7_800).unwrap(), Ok(()));
        // A repayment after the window ended frees nothing; the next borrow starts afresh.
        m.record_repay(1_000_000_000, 10_800);
        assert_eq!(m.net_borrowed_in_window, 1_000_000_000);
        assert_eq!(m.record_borrow(1_000_000_000, one, 10_800).unwrap(), Ok(()));
        assert_eq!(m.net_borrow_window_start, 10_800);
        // Valued at the borrow's price: the same units at 2 USD exceed the limit.
        assert_eq!(m.record_borrow(1, fx(2), 10_801).unwrap(), Err(14_400));
        m.guards.net_borrow_limit_micro_usd = u64::MAX;
        assert_eq!(m.record_borrow(u64::MAX, fx(2), 10_802).unwrap(), Ok(()));
    }

    /// Deposit-weight scaling by hand: 0.8 above 1 000 USD of deposits worth 2 000 is 0.4.
    #[test]
    fn init_asset_weight_scales_with_total_deposits() {
        let mut m = Market::zeroed();
        m.decimals = 6;
        m.total_deposit_shares = fx(2_000_000_000).into();
        m.guards.deposit_weight_scale_start_micro_usd = u64::MAX;
        let w = I80F48::from_num(0.8);
        assert_eq!(
            m.scaled_init_asset_weight(w, I80F48::ONE, I80F48::ONE)
                .unwrap(),
            w
        );
        m.guards.deposit_weight_scale_start_micro_usd = 1_000_000_000;
        let scaled = m
            .scaled_init_asset_weight(w, I80F48::ONE, I80F48::ONE)
            .unwrap();
        assert!((scaled - I80F48::from_num(0.4)).abs() < I80F48::from_num(1e-12));
        // Below the threshold nothing changes.
        assert_eq!(
            m.scaled_init_asset_weight(w, I80F48::ONE, I80F48::from_num(0.5))
                .unwrap(),
            w
        );
    }

    #[test]
    fn penalty_mid_shift_is_the_smaller_one() {
        let mut m = Market::zeroed();
        m.liquidation_penalty_bps = 2_400;
        m.shift = WeightShift {
            start_ts: 100,
            end_ts: 200,
            from_penalty_bps: 500,
            active: 1,
            ..WeightShift::default()
        };
        assert_eq!(m.penalty_bps_at(150), 500);
        assert_eq!(m.penalty_bps_at(200), 2_400);
        m.shift.from_penalty_bps = 3_000;
        assert_eq!(m.penalty_bps_at(150), 2_400);
    }
}
