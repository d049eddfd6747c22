//! Pyth pull oracle `PriceUpdateV2` accounts. The program reads the account's Borsh layout at
//! its fixed offsets (a few hundred compute units less per position than deserializing it);
//! `decode_with_sdk` reads it with pyth-solana-receiver-sdk and the tests check both agree on
//! every fixture and on random bytes.

use super::{RawDetail, RawPrice};
use crate::constants::PYTH_RECEIVER;
use crate::errors::ScalpelError;
use anchor_lang::prelude::Pubkey;
use anchor_lang::{AccountDeserialize, Discriminator};
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
///
/// Layout (Borsh, after the 8-byte discriminator): write authority (32), verification level (enum
/// tag: 0 Partial followed by a `u8` signature count, 1 Full), then the price message: feed id
/// (32), price `i64`, conf `u64`, exponent `i32`, publish time `i64`, previous publish time,
/// EMA price, EMA conf, and the posted slot `u64` after it.
pub fn decode_any_verification(owner: &Pubkey, data: &[u8]) -> Result<RawPrice, ScalpelError> {
    if *owner != PYTH_RECEIVER {
        return Err(ScalpelError::OracleWrongOwner);
    }
    let bad = ScalpelError::OracleInvalidAccount;
    if data.get(..8) != Some(PriceUpdateV2::DISCRIMINATOR) {
        return Err(bad);
    }
    let (partial_signatures, message) = match data.get(40) {
        Some(0) => (Some(*data.get(41).ok_or(bad)?), 42),
        Some(1) => (None, 41),
        _ => return Err(bad),
    };
    let bytes = |at: usize, n: usize| data.get(message + at..message + at + n).ok_or(bad);
    let word =
        |at: usize| -> Result<[u8; 8], ScalpelError> { bytes(at, 8)?.try_into().map_err(|_| bad) };
    let feed_id: [u8; 32] = bytes(0, 32)?.try_into().map_err(|_| bad)?;
    let exponent: [u8; 4] = bytes(48, 4)?.try_into().map_err(|_| bad)?;
    Ok(RawPrice {
        price: i64::from_le_bytes(word(32)?),
        conf: u64::from_le_bytes(word(40)?),
        expo: i32::from_le_bytes(exponent),
        publish_time: i64::from_le_bytes(word(52)?),
        ema_price: i64::from_le_bytes(word(68)?),
        ema_conf: u64::from_le_bytes(word(76)?),
        detail: RawDetail::Pull {
            partial_signatures,
            feed_id,
            posted_slot: u64::from_le_bytes(word(84)?),
        },
    })
}

/// [`decode_any_verification`] through pyth-solana-receiver-sdk's deserializer: the reference
/// the fixed-offset reader is tested against.
pub fn decode_with_sdk(owner: &Pubkey, data: &[u8]) -> Result<RawPrice, ScalpelError> {
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
        ema_price: m.ema_price,
        ema_conf: m.ema_conf,
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The fixed-offset reader and the SDK's deserializer agree on every input: the right
        /// discriminator with any tag, length and contents, and arbitrary bytes.
        #[test]
        fn reader_agrees_with_the_sdk(
            tag in 0u8..4,
            body in proptest::collection::vec(any::<u8>(), 0..140),
            garbage in proptest::collection::vec(any::<u8>(), 0..160),
            keep_discriminator in any::<bool>(),
        ) {
            let mut data = PriceUpdateV2::DISCRIMINATOR.to_vec();
            data.extend_from_slice(&body);
            if data.len() > 40 {
                data[40] = tag;
            }
            if !keep_discriminator {
                data = garbage;
            }
            prop_assert_eq!(
                decode_any_verification(&PYTH_RECEIVER, &data),
                decode_with_sdk(&PYTH_RECEIVER, &data)
            );
        }
    }
}
