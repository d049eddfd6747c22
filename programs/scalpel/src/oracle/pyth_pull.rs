//! Pyth pull oracle `PriceUpdateV2` accounts, read with pyth-solana-receiver-sdk.

use super::{RawDetail, RawPrice};
use crate::constants::PYTH_RECEIVER;
use crate::errors::ScalpelError;
use anchor_lang::prelude::Pubkey;
use anchor_lang::AccountDeserialize;
use pyth_solana_receiver_sdk::price_update::{PriceUpdateV2, VerificationLevel};

/// Decodes a `PriceUpdateV2`: owner, Anchor discriminator and layout, then Full verification.
/// The feed id is returned in the detail for the caller to compare with the market's.
pub fn decode(owner: &Pubkey, data: &[u8]) -> Result<RawPrice, ScalpelError> {
    let raw = decode_any_verification(owner, data)?;
    match raw.detail {
        RawDetail::Pull {
            partial_signatures: None,
            ..
        } => Ok(raw),
        _ => Err(ScalpelError::OracleNotFullyVerified),
    }
}

/// Like [`decode`] but returns Partial updates too, for inspection tools that show what the
/// account says before saying why Scalpel refuses it.
pub fn decode_any_verification(owner: &Pubkey, data: &[u8]) -> Result<RawPrice, ScalpelError> {
    if *owner != PYTH_RECEIVER {
        return Err(ScalpelError::OracleWrongOwner);
    }
    let mut slice = data;
    let update = PriceUpdateV2::try_deserialize(&mut slice)
        .map_err(|_| ScalpelError::OracleInvalidAccount)?;
    let m = &update.price_message;
    Ok(RawPrice {
        price: m.price,
        conf: m.conf,
        expo: m.exponent,
        publish_time: m.publish_time,
        detail: RawDetail::Pull {
            partial_signatures: match update.verification_level {
                VerificationLevel::Full => None,
                VerificationLevel::Partial { num_signatures } => Some(num_signatures),
            },
            feed_id: m.feed_id,
            posted_slot: update.posted_slot,
        },
    })
}
