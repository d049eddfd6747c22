//! A trader's cross-margin account: up to `MAX_POSITIONS` signed share balances.

use crate::constants::MAX_POSITIONS;
use crate::errors::ScalpelError;
use crate::math::{WrappedI80F48, I80F48};
use anchor_lang::prelude::*;

/// One slot: signed shares of one market (positive deposit, negative debt).
#[zero_copy]
#[derive(Debug, Default)]
pub struct Position {
    /// Signed shares.
    pub shares: WrappedI80F48,
    /// Market index (`Market::market_index`).
    pub market_index: u16,
    /// 1 when the slot is in use.
    pub active: u8,
    /// Explicit padding.
    pub _pad: [u8; 13],
}

const _: () = assert!(core::mem::size_of::<Position>() == 32);

impl Position {
    /// Whether the slot holds a position.
    pub fn is_active(&self) -> bool {
        self.active != 0
    }
    /// The signed shares.
    pub fn shares(&self) -> I80F48 {
        self.shares.get()
    }
}

/// A margin account (PDA `["margin", owner, index as u16 LE]`).
#[account(zero_copy)]
#[derive(Debug)]
pub struct MarginAccount {
    /// The trader who may deposit, withdraw, borrow, repay and close.
    pub owner: Pubkey,
    /// Position slots, in the order health accounts must be passed.
    pub positions: [Position; MAX_POSITIONS],
    /// Slot of the last liquidation of this account.
    pub last_liquidation_slot: u64,
    /// Number of liquidations this account went through.
    pub liquidation_count: u32,
    /// The `index` in the PDA seeds.
    pub account_index: u16,
    /// Layout version.
    pub version: u8,
    /// PDA bump.
    pub bump: u8,
    /// 1 while a liquidation is in progress (hysteresis, SPEC section 4).
    pub being_liquidated: u8,
    /// Explicit padding.
    pub _pad: [u8; 7],
    /// Room for future fields.
    pub reserved: [u8; 128],
}

const _: () = assert!(core::mem::size_of::<MarginAccount>() == 440);
const _: () = assert!(core::mem::align_of::<MarginAccount>() == 8);

impl MarginAccount {
    /// Account size including the 8-byte discriminator.
    pub const SPACE: usize = 8 + core::mem::size_of::<MarginAccount>();

    /// Slot index of the position in `market_index`, if any.
    pub fn find(&self, market_index: u16) -> Option<usize> {
        self.positions
            .iter()
            .position(|p| p.is_active() && p.market_index == market_index)
    }

    /// Slot of `market_index`, activating the first free slot if needed.
    pub fn find_or_open(&mut self, market_index: u16) -> core::result::Result<usize, ScalpelError> {
        if let Some(i) = self.find(market_index) {
            return Ok(i);
        }
        let i = self
            .positions
            .iter()
            .position(|p| !p.is_active())
            .ok_or(ScalpelError::NoFreePositionSlot)?;
        self.positions[i] = Position {
            shares: WrappedI80F48::default(),
            market_index,
            active: 1,
            _pad: [0; 13],
        };
        Ok(i)
    }

    /// Sets a slot's shares, freeing the slot when they reach zero.
    pub fn set_shares(&mut self, slot: usize, shares: I80F48) {
        if let Some(p) = self.positions.get_mut(slot) {
            if shares == I80F48::ZERO {
                *p = Position::default();
            } else {
                p.shares = shares.into();
            }
        }
    }

    /// Active positions in slot order.
    pub fn active_positions(&self) -> impl Iterator<Item = &Position> {
        self.positions.iter().filter(|p| p.is_active())
    }

    /// Whether every slot is empty.
    pub fn is_empty(&self) -> bool {
        self.active_positions().next().is_none()
    }

    /// Whether any position is a debt.
    pub fn has_debt(&self) -> bool {
        self.active_positions().any(|p| p.shares() < I80F48::ZERO)
    }

    /// Clears the hysteresis flag when no debt is left: an account without debt is never being
    /// liquidated.
    pub fn clear_flag_without_debt(&mut self) {
        if !self.has_debt() {
            self.being_liquidated = 0;
        }
    }
}
