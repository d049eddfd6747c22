//! Typed events, one per state change, so indexers and bots need not diff accounts.

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
    /// Market index.
    pub market_index: u16,
    /// Oracle account.
    pub oracle: Pubkey,
    /// Oracle kind byte.
    pub oracle_kind: u8,
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
    /// Init health after (I80F48 bits), for risk-increasing actions; 0 otherwise.
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
