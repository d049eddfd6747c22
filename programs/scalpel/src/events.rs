//! Typed events, one per state change, so indexers and bots need not diff accounts.

use crate::params::{GuardianAction, MarketParams, ProtocolParams};
use anchor_lang::prelude::*;

/// The protocol was created.
#[event]
pub struct ProtocolInitialized {
    /// Admin key.
    pub admin: Pubkey,
    /// Guardian key.
    pub guardian: Pubkey,
}

/// A market was listed.
#[event]
pub struct MarketAdded {
    /// Market PDA.
    pub market: Pubkey,
    /// Token mint.
    pub mint: Pubkey,
    /// Ticker (zero-padded ASCII).
    pub symbol: [u8; 16],
    /// Market index.
    pub market_index: u16,
    /// Oracle account.
    pub oracle: Pubkey,
    /// Oracle kind byte.
    pub oracle_kind: u8,
    /// Earliest time the listed parameters can be applied (`params_apply_market`), ending the
    /// quarantine.
    pub activates_at: i64,
}

/// A margin account was created.
#[event]
pub struct AccountCreated {
    /// Margin account PDA.
    pub account: Pubkey,
    /// Owner.
    pub owner: Pubkey,
    /// PDA index.
    pub account_index: u16,
}

/// A margin account was closed and its rent returned.
#[event]
pub struct AccountClosed {
    /// Margin account PDA.
    pub account: Pubkey,
    /// Owner.
    pub owner: Pubkey,
}

/// Tokens entered or left a margin account.
#[event]
pub struct BalanceChanged {
    /// Margin account.
    pub account: Pubkey,
    /// Market.
    pub market: Pubkey,
    /// 0 deposit, 1 withdraw, 2 borrow, 3 repay.
    pub kind: u8,
    /// Native amount moved.
    pub amount: u64,
    /// Position's signed shares after, as I80F48 bits.
    pub shares_after: i128,
    /// Init health after (I80F48 bits) of a borrow, or of a withdrawal that leaves debt; 0 for
    /// deposits, repays and withdrawals from an account without debt (no price is read then).
    pub health_init_after: i128,
}

/// A market's interest was accrued.
#[event]
pub struct MarketAccrued {
    /// Market.
    pub market: Pubkey,
    /// Deposit index (I80F48 bits).
    pub deposit_index: i128,
    /// Borrow index (I80F48 bits).
    pub borrow_index: i128,
    /// Annual borrow rate (I80F48 bits).
    pub borrow_rate: i128,
    /// Utilization (I80F48 bits).
    pub utilization: i128,
}

/// [`LiquidationEvent::mode`] of `liquidate`: the liquidator paid and received tokens.
pub const LIQUIDATION_MODE_WALLET: u8 = 0;
/// [`LiquidationEvent::mode`] of `liquidate_to_account`: the liquidator's margin account took
/// the debt and the collateral.
pub const LIQUIDATION_MODE_ACCOUNT: u8 = 1;

/// One pair of an account was liquidated (SPEC section 5, "Post-checks").
#[event]
pub struct LiquidationEvent {
    /// Liquidated margin account.
    pub liquidatee: Pubkey,
    /// Liquidator wallet.
    pub liquidator: Pubkey,
    /// How the liquidator settled: [`LIQUIDATION_MODE_WALLET`] (token transfers, `liquidate`)
    /// or [`LIQUIDATION_MODE_ACCOUNT`] (positions in its margin account,
    /// `liquidate_to_account`).
    pub mode: u8,
    /// The liquidator's margin account in account mode (the default key in wallet mode).
    pub liquidator_account: Pubkey,
    /// Market whose collateral was seized (`i`).
    pub asset_market: Pubkey,
    /// Market whose debt was repaid (`j`).
    pub liab_market: Pubkey,
    /// `p_i`, USD per whole token (I80F48 bits).
    pub asset_price: i128,
    /// `p_j`, USD per whole token (I80F48 bits).
    pub liab_price: i128,
    /// `x`, native units of `j` repaid.
    pub repaid: u64,
    /// `S`, native units of `i` seized.
    pub seized: u64,
    /// Part of `S` to the liquidator.
    pub to_liquidator: u64,
    /// Part of `S` to `i`'s insurance fund (held in `i`'s vault until collected).
    pub to_insurance: u64,
    /// Part of `S` to `i`'s treasury (held in `i`'s vault until collected).
    pub to_treasury: u64,
    /// `health_maint` before (I80F48 bits).
    pub maint_before: i128,
    /// `health_end` before (I80F48 bits).
    pub end_before: i128,
    /// `health_maint` after (I80F48 bits).
    pub maint_after: i128,
    /// `health_end` after (I80F48 bits).
    pub end_after: i128,
    /// The asset market's full penalty `π` in force, bps.
    pub penalty_bps: u16,
    /// The penalty the account's health gave on the market's curve, before the surplus cap
    /// (I80F48 bits; equal to `penalty_bps` when the penalty is flat).
    pub penalty: i128,
    /// Effective penalty `π_e` after the surplus cap (I80F48 bits).
    pub penalty_effective: i128,
    /// Liquidation buffer `b`, bps.
    pub buffer_bps: u16,
    /// Whether the account is still being liquidated (`health_end < 0` after).
    pub being_liquidated: bool,
    /// Slot of the liquidation.
    pub slot: u64,
}

/// An insolvent account's debt was covered by insurance and socialized.
#[event]
pub struct BadDebtResolved {
    /// The account.
    pub account: Pubkey,
    /// Market of the debt.
    pub market: Pubkey,
    /// Debt cleared, native units.
    pub debt: u64,
    /// Paid from the insurance vault into the vault.
    pub covered: u64,
    /// Taken from depositors by lowering the deposit index.
    pub socialized: u64,
    /// The market's unresolved deficit after (no depositors to socialize to).
    pub deficit: u64,
    /// Deposit index after (I80F48 bits).
    pub deposit_index: i128,
}

/// Someone added tokens to a market's insurance vault.
#[event]
pub struct InsuranceFunded {
    /// Market.
    pub market: Pubkey,
    /// Funder wallet.
    pub funder: Pubkey,
    /// Native amount.
    pub amount: u64,
}

/// The admin proposed a successor.
#[event]
pub struct AdminProposed {
    /// Current admin.
    pub admin: Pubkey,
    /// Proposed admin (must sign `admin_accept`).
    pub proposed: Pubkey,
}

/// The proposed admin accepted.
#[event]
pub struct AdminChanged {
    /// Previous admin.
    pub old: Pubkey,
    /// New admin.
    pub new: Pubkey,
}

/// The admin set a new guardian.
#[event]
pub struct GuardianChanged {
    /// Previous guardian.
    pub old: Pubkey,
    /// New guardian.
    pub new: Pubkey,
}

/// A protocol-parameter change was queued.
#[event]
pub struct ProtocolParamsQueued {
    /// Parameters in force.
    pub old: ProtocolParams,
    /// Parameters queued.
    pub new: ProtocolParams,
    /// Earliest apply time.
    pub eta: i64,
}

/// A queued protocol-parameter change was applied.
#[event]
pub struct ProtocolParamsApplied {
    /// Previous parameters.
    pub old: ProtocolParams,
    /// Parameters now in force.
    pub new: ProtocolParams,
}

/// A market-parameter change was queued.
#[event]
pub struct MarketParamsQueued {
    /// Market.
    pub market: Pubkey,
    /// Parameters in force.
    pub old: MarketParams,
    /// Parameters queued.
    pub new: MarketParams,
    /// Oracle in force.
    pub old_oracle: Pubkey,
    /// Oracle queued.
    pub new_oracle: Pubkey,
    /// Earliest apply time.
    pub eta: i64,
}

/// A queued market-parameter change was applied.
#[event]
pub struct MarketParamsApplied {
    /// Market.
    pub market: Pubkey,
    /// Previous parameters.
    pub old: MarketParams,
    /// Parameters now stored.
    pub new: MarketParams,
    /// Previous oracle.
    pub old_oracle: Pubkey,
    /// Oracle now read.
    pub new_oracle: Pubkey,
    /// End of the maintenance-weight shift this started (0: none, applied at once).
    pub shift_end: i64,
}

/// A queued change was cancelled.
#[event]
pub struct ParamsCancelled {
    /// The market, or `None` for the protocol.
    pub market: Option<Pubkey>,
    /// Who cancelled (admin or guardian).
    pub by: Pubkey,
    /// The eta the change had.
    pub eta: i64,
}

/// The guardian (or admin) tightened something at once.
#[event]
pub struct GuardianTightened {
    /// The market, or `None` for protocol-wide actions.
    pub market: Option<Pubkey>,
    /// Signer.
    pub by: Pubkey,
    /// The action.
    pub action: GuardianAction,
    /// Flags before (protocol or market).
    pub old_flags: u8,
    /// Flags after.
    pub new_flags: u8,
}

/// The admin set pause flags directly (e.g. to lift a guardian pause).
#[event]
pub struct FlagsSet {
    /// The market, or `None` for the protocol.
    pub market: Option<Pubkey>,
    /// Flags before.
    pub old: u8,
    /// Flags after.
    pub new: u8,
}

/// The admin withdrew from a market's treasury vault.
#[event]
pub struct TreasuryWithdrawn {
    /// Market.
    pub market: Pubkey,
    /// Destination token account.
    pub destination: Pubkey,
    /// Native amount.
    pub amount: u64,
}

/// A deposit of an insolvent account went to its market's insurance fund (as
/// `insurance_pending`) before the account's debt was forgiven (`bad_debt_resolve`).
#[event]
pub struct DepositForfeited {
    /// The margin account.
    pub account: Pubkey,
    /// The deposit's market.
    pub market: Pubkey,
    /// Native units taken from the account for the insurance fund.
    pub amount: u64,
}

/// The insurance and treasury shares held in a market's vault moved to their own vaults
/// (`market_collect_fees`).
#[event]
pub struct FeesCollected {
    /// Market.
    pub market: Pubkey,
    /// Native units moved to the insurance vault.
    pub to_insurance: u64,
    /// Native units moved to the treasury vault.
    pub to_treasury: u64,
    /// Insurance share still held in the vault (the vault ran short).
    pub insurance_pending: u64,
    /// Treasury share still held in the vault.
    pub treasury_pending: u64,
}
