//! Off-chain health: resolves an account's positions from chain data and runs the program's own
//! `position_input` and `compute_health`, so the bot and CLI see exactly what the program sees.

use crate::{decode, Chain};
use anchor_lang::{AnchorDeserialize, Discriminator};
use anyhow::{anyhow, Context, Result};
use scalpel::health_accounts::{position_input, position_price, PositionPrice, PriceAge};
use scalpel::instructions::HealthView;
use scalpel::math::{compute_health, Health, HealthPosition, I80F48};
use scalpel::state::{MarginAccount, Market, Protocol};
use solana_sdk::{account::Account, pubkey::Pubkey};
use std::collections::HashMap;

/// Every market of the program, by index.
pub async fn markets(chain: &dyn Chain) -> Result<Vec<(Pubkey, Market)>> {
    let mut out = Vec::new();
    for (k, a) in chain.program_accounts(Market::DISCRIMINATOR).await? {
        out.push((k, decode::market(&a.data)?));
    }
    out.sort_by_key(|(_, m)| m.market_index);
    Ok(out)
}

/// The health pairs `(market, oracle)` for the positions the account will have: its active
/// positions in slot order, with `open` placed in the first free slot if it is not already held
/// and `close` dropped. Mirrors the program's slot allocation.
pub fn pairs_after(
    account: &MarginAccount,
    markets: &[(Pubkey, Market)],
    open: Option<u16>,
    close: Option<u16>,
) -> Result<Vec<(Pubkey, Pubkey)>> {
    let mut slots: Vec<Option<u16>> = account
        .positions
        .iter()
        .map(|p| p.is_active().then_some(p.market_index))
        .collect();
    if let Some(idx) = open {
        if !slots.contains(&Some(idx)) {
            let free = slots
                .iter()
                .position(|s| s.is_none())
                .ok_or_else(|| anyhow!("no free position slot"))?;
            slots[free] = Some(idx);
        }
    }
    if let Some(idx) = close {
        for s in slots.iter_mut() {
            if *s == Some(idx) {
                *s = None;
            }
        }
    }
    slots
        .into_iter()
        .flatten()
        .map(|idx| {
            markets
                .iter()
                .find(|(_, m)| m.market_index == idx)
                .map(|(k, m)| (*k, m.oracle))
                .ok_or_else(|| anyhow!("market index {idx} not found"))
        })
        .collect()
}

/// The liquidator account after a `liquidate_to_account` that hands it `collateral` of market
/// `asset` and `debt` of market `liab` at the chain's `now`: the program's own
/// `MarginAccount::take_over` applied to a copy, with the markets' indices accrued to `now`.
pub fn taken_over(
    account: &MarginAccount,
    markets: &[(Pubkey, Market)],
    (asset, collateral): (u16, u64),
    (liab, debt): (u16, u64),
    now: i64,
) -> Result<MarginAccount> {
    let indices = |index: u16| -> Result<scalpel::state::MarketIndices> {
        let m = markets
            .iter()
            .find(|(_, m)| m.market_index == index)
            .map(|(_, m)| m)
            .ok_or_else(|| anyhow!("market index {index} not found"))?;
        let (deposit_index, borrow_index) = m.indices_at(now).map_err(|e| anyhow!("{e}"))?;
        Ok(scalpel::state::MarketIndices {
            market_index: index,
            deposit_index,
            borrow_index,
        })
    };
    let mut after = *account;
    after
        .take_over(&indices(asset)?, collateral, &indices(liab)?, debt)
        .map_err(|e| anyhow!("{e}"))?;
    Ok(after)
}

/// The liquidator account's health pairs after a `liquidate_to_account` ([`taken_over`]), so
/// the slots match the program's.
pub fn pairs_after_take_over(
    account: &MarginAccount,
    markets: &[(Pubkey, Market)],
    asset: (u16, u64),
    liab: (u16, u64),
    now: i64,
) -> Result<Vec<(Pubkey, Pubkey)>> {
    pairs_after(
        &taken_over(account, markets, asset, liab, now)?,
        markets,
        None,
        None,
    )
}

/// One position resolved off-chain exactly as the program resolves it.
#[derive(Clone, Copy, Debug)]
pub struct ResolvedInput {
    /// Market index.
    pub market_index: u16,
    /// Market account.
    pub market: Pubkey,
    /// Signed shares held (positive deposit, negative debt).
    pub shares: I80F48,
    /// The price used, and the check its oracle failed if it did (maintenance reads only).
    pub price: PositionPrice,
    /// Health input (balances, price, weights).
    pub input: HealthPosition,
    /// The market's liquidation penalty curve in force.
    pub penalty: scalpel::math::liquidation::PenaltyCurve,
}

impl ResolvedInput {
    /// Whether its oracle passed every check (a liquidated pair needs that on both sides).
    pub fn priced(&self) -> bool {
        self.price.failed.is_none()
    }
}

/// Resolves every active position of `account` from markets and oracle accounts already read,
/// with the program's `position_price` and `position_input` (no I/O: the keeper resolves
/// thousands of accounts from one batch of reads).
pub fn resolve_positions(
    account: &MarginAccount,
    markets: &[(Pubkey, Market)],
    oracles: &HashMap<Pubkey, Account>,
    now: i64,
    age: PriceAge,
) -> Result<Vec<ResolvedInput>> {
    account
        .active_positions()
        .map(|p| {
            let (key, market) = markets
                .iter()
                .find(|(_, m)| m.market_index == p.market_index)
                .ok_or_else(|| anyhow!("market index {} not found", p.market_index))?;
            let oracle = oracles
                .get(&market.oracle)
                .ok_or_else(|| anyhow!("oracle {} missing", market.oracle))?;
            let price = position_price(market, p.shares(), &oracle.owner, &oracle.data, now, age)
                .map_err(|e| anyhow!(e.name()))?;
            Ok(ResolvedInput {
                market_index: p.market_index,
                market: *key,
                shares: p.shares(),
                price,
                input: position_input(market, p.shares(), &price.price, now)
                    .map_err(|e| anyhow!("{e}"))?,
                penalty: market.penalty_curve_at(now).map_err(|e| anyhow!("{e}"))?,
            })
        })
        .collect()
}

/// The markets of `account`'s deposit positions (positive shares), in slot order: the extra
/// accounts `bad_debt_resolve` and `account_close` take.
pub fn deposit_markets(account: &MarginAccount, markets: &[(Pubkey, Market)]) -> Vec<Pubkey> {
    account
        .active_positions()
        .filter(|p| p.shares() > I80F48::ZERO)
        .filter_map(|p| {
            markets
                .iter()
                .find(|(_, m)| m.market_index == p.market_index)
                .map(|(k, _)| *k)
        })
        .collect()
}

/// Every oracle account of `markets`, in one batched read.
pub async fn oracles(
    chain: &dyn Chain,
    markets: &[(Pubkey, Market)],
) -> Result<HashMap<Pubkey, Account>> {
    let keys: Vec<Pubkey> = markets.iter().map(|(_, m)| m.oracle).collect();
    let accounts = chain.accounts(&keys).await?;
    Ok(keys
        .into_iter()
        .zip(accounts)
        .filter_map(|(k, a)| a.map(|a| (k, a)))
        .collect())
}

/// [`resolve_positions`] at the chain's clock, reading the oracles first.
pub async fn account_inputs(
    chain: &dyn Chain,
    account: &MarginAccount,
    markets: &[(Pubkey, Market)],
    age: PriceAge,
) -> Result<Vec<ResolvedInput>> {
    let now = chain.clock().await?.unix_timestamp;
    let oracles = oracles(chain, markets).await?;
    resolve_positions(account, markets, &oracles, now, age)
}

/// Health computed off-chain with the program's functions, at the chain's clock.
pub async fn account_health(
    chain: &dyn Chain,
    protocol: &Protocol,
    account: &MarginAccount,
    markets: &[(Pubkey, Market)],
    age: PriceAge,
) -> Result<Health> {
    let inputs: Vec<HealthPosition> = account_inputs(chain, account, markets, age)
        .await?
        .into_iter()
        .map(|r| r.input)
        .collect();
    compute_health(
        &inputs,
        &protocol.health_params().map_err(|e| anyhow!("{e}"))?,
    )
    .map_err(|e| anyhow!("{e}"))
}

/// Decodes `health_view` return data.
pub fn decode_view(data: &[u8]) -> Result<HealthView> {
    HealthView::deserialize(&mut &data[..]).context("decoding health_view return data")
}

/// An I80F48 from `health_view` bits.
pub fn fixed(bits: i128) -> I80F48 {
    I80F48::from_bits(bits)
}
