//! Oracle prices in the bank. There is no Pyth on an in-process bank: its markets read real
//! `PriceUpdateV2` accounts owned by the Pyth receiver that are written here directly, published
//! at the bank's clock. One writer for the scenario engine, `scalpel localnet` and its operators.

use super::LocalChain;
use crate::pyth::{price_update_v2, republished, PullPrice};
use crate::units::{parse_amount, price_mantissa};
use crate::Chain;
use anyhow::{Context, Result};
use solana_sdk::{account::Account, pubkey::Pubkey};

/// Lamports an oracle account holds (rent-exempt for its size).
const ORACLE_LAMPORTS: u64 = 10_000_000;

/// A Pyth receiver account holding `data`.
pub fn oracle_account(data: Vec<u8>) -> Account {
    Account {
        lamports: ORACLE_LAMPORTS,
        data,
        owner: scalpel::constants::PYTH_RECEIVER,
        executable: false,
        rent_epoch: 0,
    }
}

/// A price to publish, as decimal strings in USD per whole token.
#[derive(Clone, Copy, Debug)]
pub struct Quote<'a> {
    /// Spot price.
    pub price: &'a str,
    /// Spot confidence.
    pub conf: &'a str,
    /// EMA price and confidence; `None`: equal to the spot's (a steady feed).
    pub ema: Option<(&'a str, &'a str)>,
}

impl<'a> Quote<'a> {
    /// A steady price: the EMA equals the spot.
    pub fn steady(price: &'a str, conf: &'a str) -> Self {
        Quote {
            price,
            conf,
            ema: None,
        }
    }
}

/// Publishes `q` for `feed_id` into `oracle`, fully verified, at the bank's current unix time;
/// returns what was written. Every figure shares one exponent, that of the most precise.
pub async fn write_price(
    chain: &LocalChain,
    oracle: &Pubkey,
    feed_id: [u8; 32],
    q: Quote<'_>,
) -> Result<PullPrice> {
    let (_, mut expo) = price_mantissa(q.price).with_context(|| format!("price {:?}", q.price))?;
    if let Some((ema, _)) = q.ema {
        let (_, e) = price_mantissa(ema).with_context(|| format!("ema {ema:?}"))?;
        expo = expo.min(e);
    }
    let places = u8::try_from(-expo).context("price exponent")?;
    let mantissa = |name: &str, v: &str| -> Result<i64> {
        let m = parse_amount(v, places).with_context(|| format!("{name} {v:?}"))?;
        i64::try_from(m).with_context(|| format!("{name} {v} is too large"))
    };
    let conf =
        |name: &str, v: &str| parse_amount(v, places).with_context(|| format!("{name} {v:?}"));
    let ema = match q.ema {
        Some((e, c)) => Some((mantissa("ema", e)?, conf("ema_conf", c)?)),
        None => None,
    };
    let p = PullPrice {
        feed_id,
        price: mantissa("price", q.price)?,
        conf: conf("confidence", q.conf)?,
        expo,
        publish_time: chain.clock().await?.unix_timestamp,
        partial_signatures: None,
        ema,
    };
    chain
        .set_account(oracle, oracle_account(price_update_v2(&p)?))
        .await;
    Ok(p)
}

/// Publishes every pull oracle in `oracles` again at the current time with its price unchanged
/// (what a live feed does while the clock moves on); accounts that are not `PriceUpdateV2`
/// are left alone. Returns how many were republished.
pub async fn republish(chain: &LocalChain, oracles: &[Pubkey]) -> Result<usize> {
    let now = chain.clock().await?.unix_timestamp;
    let mut n = 0;
    for oracle in oracles {
        let Some(a) = chain.account(oracle).await? else {
            continue;
        };
        if a.owner != scalpel::constants::PYTH_RECEIVER {
            continue;
        }
        let data = republished(&a.data, now)?;
        chain.set_account(oracle, Account { data, ..a }).await;
        n += 1;
    }
    Ok(n)
}
