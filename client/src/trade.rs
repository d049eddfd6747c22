//! What a trader's instruction would do before it is sent: the account's health and each
//! collateral's liquidation price after a deposit, withdrawal, borrow or repay, and the largest
//! amount the program would accept now. Everything is computed with the program's own
//! functions (`shares::*`, `position_input`, `compute_health`, `liquidation_price`) on the
//! positions the program would hold afterwards, so a preview that says "accepted" is what the
//! instruction does at the same prices and clock.

use crate::health::{resolve_positions, ResolvedInput};
use anyhow::{anyhow, Result};
use scalpel::health_accounts::{position_input, PriceAge};
use scalpel::math::{compute_health, liquidation_price, shares, Health, HealthPosition, I80F48};
use scalpel::state::{MarginAccount, Market, Protocol};
use solana_sdk::{account::Account, pubkey::Pubkey};
use std::collections::HashMap;

/// A trader's balance change in one market (native units; `u64::MAX` is "all" for withdraw
/// and repay, as the program reads it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trade {
    /// Add collateral (repays a debt in the market first).
    Deposit(u64),
    /// Take collateral out.
    Withdraw(u64),
    /// Take on debt.
    Borrow(u64),
    /// Pay debt back.
    Repay(u64),
}

/// The chain state a preview reads: everything is already fetched, so previews are pure.
pub struct Book<'a> {
    /// The protocol account (health parameters).
    pub protocol: &'a Protocol,
    /// Every market, by index.
    pub markets: &'a [(Pubkey, Market)],
    /// Oracle accounts of those markets.
    pub oracles: &'a HashMap<Pubkey, Account>,
    /// The chain's unix time.
    pub now: i64,
}

/// One position after the trade, with the price at which it would make the account
/// liquidatable (every other price fixed).
#[derive(Clone, Debug)]
pub struct PositionAfter {
    /// Market index.
    pub market_index: u16,
    /// Deposit (native units) after the trade.
    pub deposit: u64,
    /// Debt (native units) after the trade.
    pub debt: u64,
    /// Oracle price now, USD per whole token.
    pub price: I80F48,
    /// Oracle price at which maintenance health reaches zero, if any.
    pub liquidation_price: Option<I80F48>,
}

/// The account before and after a trade.
#[derive(Clone, Debug)]
pub struct Preview {
    /// Health now, with the prices a risk-increasing instruction reads.
    pub before: Health,
    /// Health after the trade.
    pub after: Health,
    /// Positions after the trade, in slot order.
    pub positions: Vec<PositionAfter>,
    /// Native units that actually move (a repay or withdraw of "all" resolves to the balance).
    pub amount: u64,
}

impl Preview {
    /// Whether the program's init-health rule accepts the result (borrow and withdraw must leave
    /// `health_init ≥ 0`; an account without debt always passes).
    pub fn health_ok(&self) -> bool {
        self.after.liab_init <= I80F48::ZERO || self.after.init >= I80F48::ZERO
    }
}

/// Why a trade cannot be previewed (the program would refuse it for the same reason).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TradeRefusal {
    /// Withdrawing more than the deposit, or from a debt.
    InsufficientDeposit,
    /// Borrowing where the account holds a deposit.
    BorrowAgainstOwnDeposit,
    /// All 8 slots are taken by other markets.
    NoFreePositionSlot,
    /// Nothing to repay in that market.
    NoDebt,
}

impl std::fmt::Display for TradeRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TradeRefusal::InsufficientDeposit => "InsufficientDeposit",
            TradeRefusal::BorrowAgainstOwnDeposit => "BorrowAgainstOwnDeposit",
            TradeRefusal::NoFreePositionSlot => "NoFreePositionSlot",
            TradeRefusal::NoDebt => "NoDebt",
        })
    }
}

impl<'a> Book<'a> {
    fn market(&self, index: u16) -> Result<&'a Market> {
        self.markets
            .iter()
            .find(|(_, m)| m.market_index == index)
            .map(|(_, m)| m)
            .ok_or_else(|| anyhow!("market index {index} not found"))
    }

    /// The account's positions with the prices `age` reads.
    fn resolve(&self, account: &MarginAccount, age: PriceAge) -> Result<Vec<ResolvedInput>> {
        resolve_positions(account, self.markets, self.oracles, self.now, age)
    }

    fn health(&self, inputs: &[HealthPosition]) -> Result<Health> {
        let params = self.protocol.health_params().map_err(|e| anyhow!("{e}"))?;
        compute_health(inputs, &params).map_err(|e| anyhow!("{e}"))
    }

    /// The account after `trade` in market `index`, or the program's refusal.
    pub fn preview(
        &self,
        account: &MarginAccount,
        index: u16,
        trade: Trade,
    ) -> Result<std::result::Result<Preview, TradeRefusal>> {
        let market = self.market(index)?;
        // Without debt the program reads no price for a withdrawal (stale feeds never lock a
        // lender's funds): value failing deposits at zero then, as a liquidation would.
        let resolved = match self.resolve(account, PriceAge::RiskIncreasing) {
            Ok(r) => r,
            Err(_) if !account.has_debt() && !matches!(trade, Trade::Borrow(_)) => {
                self.resolve(account, PriceAge::View)?
            }
            Err(e) => return Err(e),
        };
        let mut inputs: Vec<HealthPosition> = resolved.iter().map(|r| r.input).collect();
        let before = self.health(&inputs)?;
        let slot = resolved.iter().position(|r| r.market_index == index);
        let held = slot.map_or(I80F48::ZERO, |s| resolved[s].shares);
        let (deposit_index, borrow_index) =
            market.indices_at(self.now).map_err(|e| anyhow!("{e}"))?;
        let math = |e: scalpel::math::MathError| anyhow!("{e}");
        let (new_shares, amount) = match trade {
            Trade::Deposit(x) => {
                let c = shares::deposit(held, x, deposit_index, borrow_index).map_err(math)?;
                (c.new_shares, x)
            }
            Trade::Withdraw(x) => {
                if held <= I80F48::ZERO {
                    return Ok(Err(TradeRefusal::InsufficientDeposit));
                }
                let all = shares::deposit_balance(held, deposit_index).map_err(math)?;
                let x = if x == u64::MAX { all } else { x };
                match shares::withdraw(held, x, deposit_index).map_err(math)? {
                    Some(c) => (c.new_shares, x),
                    None => return Ok(Err(TradeRefusal::InsufficientDeposit)),
                }
            }
            Trade::Borrow(x) => match shares::borrow(held, x, borrow_index).map_err(math)? {
                Some(c) => (c.new_shares, x),
                None => return Ok(Err(TradeRefusal::BorrowAgainstOwnDeposit)),
            },
            Trade::Repay(x) => {
                if held >= I80F48::ZERO {
                    return Ok(Err(TradeRefusal::NoDebt));
                }
                let c = shares::repay(held, x, borrow_index).map_err(math)?;
                (c.new_shares, c.amount)
            }
        };
        // The position after, priced like the rest (a new position is read under the same age).
        let price = match slot {
            Some(s) => resolved[s].price.price,
            None => {
                let oracle = self
                    .oracles
                    .get(&market.oracle)
                    .ok_or_else(|| anyhow!("oracle {} missing", market.oracle))?;
                scalpel::health_accounts::position_price(
                    market,
                    new_shares,
                    &oracle.owner,
                    &oracle.data,
                    self.now,
                    PriceAge::RiskIncreasing,
                )
                .map_err(|e| anyhow!("the {} oracle: {}", market.symbol(), e.name()))?
                .price
            }
        };
        let input =
            position_input(market, new_shares, &price, self.now).map_err(|e| anyhow!("{e}"))?;
        let mut indices: Vec<u16> = resolved.iter().map(|r| r.market_index).collect();
        match slot {
            Some(s) if new_shares == I80F48::ZERO => {
                inputs.remove(s);
                indices.remove(s);
            }
            Some(s) => inputs[s] = input,
            None if new_shares == I80F48::ZERO => {}
            None => {
                if inputs.len() >= scalpel::constants::MAX_POSITIONS {
                    return Ok(Err(TradeRefusal::NoFreePositionSlot));
                }
                inputs.push(input);
                indices.push(index);
            }
        }
        let after = self.health(&inputs)?;
        let positions = inputs
            .iter()
            .zip(&indices)
            .map(|(p, &market_index)| PositionAfter {
                market_index,
                deposit: p.deposit,
                debt: p.debt,
                price: p.price,
                liquidation_price: liquidation_price(&after, p),
            })
            .collect();
        Ok(Ok(Preview {
            before,
            after,
            positions,
            amount,
        }))
    }

    /// The largest `Borrow` or `Withdraw` amount in market `index` that leaves init health ≥ 0,
    /// at most `limit` (what the vault and caps allow): found by bisection over the program's
    /// own health, so it is exact at these prices. Zero if nothing can be taken.
    pub fn max_amount(
        &self,
        account: &MarginAccount,
        index: u16,
        make: fn(u64) -> Trade,
        limit: u64,
    ) -> Result<u64> {
        let accepted = |x: u64| -> Result<bool> {
            Ok(match self.preview(account, index, make(x))? {
                Ok(p) => p.health_ok(),
                Err(_) => false,
            })
        };
        if limit == 0 || !accepted(0)? {
            return Ok(0);
        }
        if accepted(limit)? {
            return Ok(limit);
        }
        let (mut lo, mut hi) = (0u64, limit);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if accepted(mid)? {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }
}
