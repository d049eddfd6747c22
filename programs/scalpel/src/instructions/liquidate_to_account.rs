//! Liquidation without upfront capital: the same plan as `liquidate` (one implementation,
//! `liquidation_flow`), settled in the liquidator's own margin account instead of tokens. Its
//! account takes on the repaid debt `x` in `j` (drawing a deposit it holds there first) and
//! receives its share of the seized collateral as a deposit in `i`; the insurance and treasury
//! shares stay pending in `i`'s vault as in `liquidate`. The liquidator's account must end with
//! `health_init ≥ 0`, and no token moves, so the vault's liquidity cannot block it (Mango v4
//! and marginfi settle liquidations this way).

use super::liquidation_flow::{apply_to_liquidatee, finish, plan_pair, Liquidator, Pair};
use super::LiquidateArgs;
use crate::errors::ScalpelError;
use crate::events::LIQUIDATION_MODE_ACCOUNT;
use crate::health_accounts::{check_after_risk_increase, RiskIncrease};
use crate::state::{MarginAccount, Market, MarketIndices, Protocol};
use anchor_lang::prelude::*;

/// Accounts of `liquidate_to_account`. Remaining accounts: the liquidatee's health pairs
/// (current, slot order), then the liquidator account's health pairs as they will be after the
/// liquidation (slot order; `MarginAccount::take_over` opens the asset slot, then the
/// liability slot).
#[derive(Accounts)]
pub struct LiquidateToAccount<'info> {
    /// Protocol (buffer, split, dust threshold, `r_full`).
    pub protocol: AccountLoader<'info, Protocol>,
    /// Account liquidated.
    #[account(mut)]
    pub liquidatee: AccountLoader<'info, MarginAccount>,
    /// Market `i`, whose collateral is seized.
    #[account(mut)]
    pub asset_market: AccountLoader<'info, Market>,
    /// Market `j`, whose debt is repaid.
    #[account(mut)]
    pub liab_market: AccountLoader<'info, Market>,
    /// The liquidator: owns `liquidator_account`, not the liquidatee.
    pub liquidator: Signer<'info>,
    /// The liquidator's margin account, which takes the debt and the collateral.
    #[account(mut, constraint = liquidator_account.load()?.owner == liquidator.key()
        @ ScalpelError::NotAccountOwner)]
    pub liquidator_account: AccountLoader<'info, MarginAccount>,
}

impl LiquidateToAccount<'_> {
    /// Distinct markets, not the liquidatee's owner, a liquidator account in good standing.
    pub fn validate(&self) -> Result<()> {
        if self.asset_market.key() == self.liab_market.key() {
            return err!(ScalpelError::LiquidationSameMarket);
        }
        if self.liquidatee.load()?.owner == self.liquidator.key() {
            return err!(ScalpelError::SelfLiquidation);
        }
        if self.liquidator_account.load()?.being_liquidated != 0 {
            return err!(ScalpelError::LiquidatorBeingLiquidated);
        }
        Ok(())
    }
}

/// Plans, moves the liquidatee's shares, hands the debt and the collateral to the
/// liquidator's account, checks its init health, then the shared post-checks.
#[access_control(ctx.accounts.validate())]
pub fn handler<'info>(
    ctx: Context<'_, '_, 'info, 'info, LiquidateToAccount<'info>>,
    args: LiquidateArgs,
) -> Result<()> {
    let a = &ctx.accounts;
    let pair = Pair {
        protocol: &a.protocol,
        liquidatee: &a.liquidatee,
        asset_market: &a.asset_market,
        liab_market: &a.liab_market,
    };
    let theirs = 2 * a.liquidatee.load()?.active_positions().count();
    if ctx.remaining_accounts.len() < theirs {
        return err!(ScalpelError::HealthAccountsMismatch);
    }
    let (liquidatee_pairs, liquidator_pairs) = ctx.remaining_accounts.split_at(theirs);
    let planned = plan_pair(&pair, liquidatee_pairs, args.max_repay)?;
    let after = apply_to_liquidatee(&pair, &planned)?;
    {
        let mut acc = a.liquidator_account.load_mut()?;
        let mut am = a.asset_market.load_mut()?;
        let mut lm = a.liab_market.load_mut()?;
        let indices = |m: &Market| MarketIndices {
            market_index: m.market_index,
            deposit_index: m.deposit_index.get(),
            borrow_index: m.borrow_index.get(),
        };
        let t = acc.take_over(
            &indices(&am),
            planned.plan.to_liquidator,
            &indices(&lm),
            planned.plan.repay,
        )?;
        if let Some(c) = t.asset {
            am.apply_share_deltas(c.deposit_shares_delta, c.borrow_shares_delta)?;
        }
        lm.apply_share_deltas(t.liab.deposit_shares_delta, t.liab.borrow_shares_delta)?;
    }
    // The liquidator's account carries what it took on: init health at strict prices.
    {
        let protocol = *a.protocol.load()?;
        let mut acc = a.liquidator_account.load_mut()?;
        check_after_risk_increase(
            &protocol,
            &mut acc,
            liquidator_pairs,
            planned.clock.unix_timestamp,
            RiskIncrease::TakeOver,
        )?;
    }
    finish(
        &pair,
        &planned,
        after,
        &Liquidator {
            wallet: a.liquidator.key(),
            mode: LIQUIDATION_MODE_ACCOUNT,
            account: a.liquidator_account.key(),
        },
    )
}
