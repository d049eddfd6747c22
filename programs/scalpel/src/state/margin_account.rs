//! A trader's cross-margin account: up to `MAX_POSITIONS` signed share balances.

use crate::constants::MAX_POSITIONS;
use crate::errors::ScalpelError;
use crate::math::{shares, WrappedI80F48, I80F48};
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

/// A market's index and its share indices at the instruction's clock (what
/// [`MarginAccount::take_over`] converts amounts with).
#[derive(Clone, Copy, Debug)]
pub struct MarketIndices {
    /// The market's index.
    pub market_index: u16,
    /// Native tokens per deposit share.
    pub deposit_index: I80F48,
    /// Native tokens per borrow share.
    pub borrow_index: I80F48,
}

/// The share changes of a [`MarginAccount::take_over`].
#[derive(Clone, Copy, Debug)]
pub struct TakeOver {
    /// The asset position's (none when no collateral was received).
    pub asset: Option<shares::ShareChange>,
    /// The liability position's.
    pub liab: shares::ShareChange,
}

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

    /// The liquidator's side of `liquidate_to_account`: receives `collateral` native units of
    /// the asset market as a deposit (repaying a debt there first) and takes on `debt` native
    /// units of the liability market (drawing a deposit there first), opening the asset slot
    /// before the liability slot. Shared with the client, so it names the same health accounts
    /// the program will read. Returns the share changes for the markets' totals.
    pub fn take_over(
        &mut self,
        asset: &MarketIndices,
        collateral: u64,
        liab: &MarketIndices,
        debt: u64,
    ) -> Result<TakeOver> {
        let mut asset_change = None;
        if collateral > 0 {
            let slot = self.find_or_open(asset.market_index)?;
            let c = shares::deposit(
                self.positions[slot].shares(),
                collateral,
                asset.deposit_index,
                asset.borrow_index,
            )?;
            self.set_shares(slot, c.new_shares);
            asset_change = Some(c);
        }
        let slot = self.find_or_open(liab.market_index)?;
        let l = shares::take_debt(
            self.positions[slot].shares(),
            debt,
            liab.deposit_index,
            liab.borrow_index,
        )?;
        self.set_shares(slot, l.new_shares);
        Ok(TakeOver {
            asset: asset_change,
            liab: l,
        })
    }

    /// Clears the hysteresis flag when no debt is left: an account without debt is never being
    /// liquidated.
    pub fn clear_flag_without_debt(&mut self) {
        if !self.has_debt() {
            self.being_liquidated = 0;
        }
    }
}
