//! Writes real Pyth `PriceUpdateV2` account bytes (Anchor discriminator and Borsh layout of
//! pyth-solana-receiver-sdk), so the in-process bank holds oracle accounts in the exact format the
//! program reads on a cluster. Nothing in the program knows about this module.

use anchor_lang::AccountSerialize;
use anyhow::Result;
use pyth_solana_receiver_sdk::price_update::{PriceFeedMessage, PriceUpdateV2, VerificationLevel};
use solana_sdk::pubkey::Pubkey;

/// One pull-oracle price.
#[derive(Clone, Copy, Debug)]
pub struct PullPrice {
    /// Feed id.
    pub feed_id: [u8; 32],
    /// Price mantissa.
    pub price: i64,
    /// Confidence mantissa.
    pub conf: u64,
    /// Exponent.
    pub expo: i32,
    /// Unix publish time.
    pub publish_time: i64,
    /// `None` Full, `Some(n)` Partial with n signatures.
    pub partial_signatures: Option<u8>,
    /// EMA price and confidence mantissas (same exponent); `None`: equal to the spot's, as a
    /// steady feed has them.
    pub ema: Option<(i64, u64)>,
}

/// Serialized `PriceUpdateV2` account data.
pub fn price_update_v2(p: &PullPrice) -> Result<Vec<u8>> {
    let update = PriceUpdateV2 {
        write_authority: Pubkey::default(),
        verification_level: match p.partial_signatures {
            None => VerificationLevel::Full,
            Some(n) => VerificationLevel::Partial { num_signatures: n },
        },
        price_message: PriceFeedMessage {
            feed_id: p.feed_id,
            price: p.price,
            conf: p.conf,
            exponent: p.expo,
            publish_time: p.publish_time,
            prev_publish_time: p.publish_time.saturating_sub(1),
            ema_price: p.ema.map_or(p.price, |(e, _)| e),
            ema_conf: p.ema.map_or(p.conf, |(_, c)| c),
        },
        posted_slot: 0,
    };
    let mut data = Vec::with_capacity(PriceUpdateV2::LEN);
    update.try_serialize(&mut data)?;
    data.resize(PriceUpdateV2::LEN, 0);
    Ok(data)
}

/// A decimal price (e.g. `"101.25"`) as a mantissa at `expo` (≤ 0).
pub fn mantissa(decimal: &str, expo: i32) -> Result<i64> {
    if expo > 0 {
        anyhow::bail!("exponent {expo} is positive; prices here use expo <= 0");
    }
    let places = u8::try_from(expo.unsigned_abs())?;
    Ok(i64::try_from(crate::units::parse_amount(decimal, places)?)?)
}

/// The same `PriceUpdateV2` account data published again at `publish_time` (same price and
/// confidence): what an in-process run writes when it moves the clock but not the market.
pub fn republished(data: &[u8], publish_time: i64) -> Result<Vec<u8>> {
    use anchor_lang::AccountDeserialize;
    let mut update = PriceUpdateV2::try_deserialize(&mut &data[..])?;
    update.price_message.prev_publish_time = update.price_message.publish_time;
    update.price_message.publish_time = publish_time;
    let mut out = Vec::with_capacity(PriceUpdateV2::LEN);
    update.try_serialize(&mut out)?;
    out.resize(PriceUpdateV2::LEN, 0);
    Ok(out)
}
