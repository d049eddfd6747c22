//! Legacy Pyth push price accounts, read with pyth-sdk-solana.

use super::{RawDetail, RawPrice};
use crate::constants::{PYTH_LEGACY_DEVNET, PYTH_LEGACY_MAINNET};
use crate::errors::ScalpelError;
use anchor_lang::prelude::Pubkey;
use pyth_sdk_solana::state::{load_price_account, PriceStatus, SolanaPriceAccount};

/// Size of a legacy price account.
pub const PRICE_ACCOUNT_LEN: usize = core::mem::size_of::<SolanaPriceAccount>();

const OFF_PTYPE: usize = 16;
const OFF_AGG_STATUS: usize = 224;
const OFF_COMPS: usize = 240;
const COMP_LEN: usize = 96;
const COMPS: usize = 32;

/// Whether `owner` is a Pyth legacy oracle program (mainnet or devnet).
pub fn is_legacy_owner(owner: &Pubkey) -> bool {
    *owner == PYTH_LEGACY_MAINNET || *owner == PYTH_LEGACY_DEVNET
}

/// Enum bytes of the account are in range, so the SDK's `Pod` cast reads only valid values.
fn enums_valid(data: &[u8]) -> bool {
    let status_ok = |at: usize| {
        data.get(at)
            .is_some_and(|s| *s <= PriceStatus::Ignored as u8)
    };
    let corp_ok = |at: usize| data.get(at).is_some_and(|c| *c == 0);
    if data.get(OFF_PTYPE).is_none_or(|t| *t > 1) {
        return false;
    }
    if !status_ok(OFF_AGG_STATUS) || !corp_ok(OFF_AGG_STATUS + 1) {
        return false;
    }
    (0..COMPS).all(|i| {
        let base = OFF_COMPS + i * COMP_LEN;
        // PriceComp { publisher: 32, agg: PriceInfo(32), latest: PriceInfo(32) }; status at +16.
        status_ok(base + 48) && corp_ok(base + 49) && status_ok(base + 80) && corp_ok(base + 81)
    })
}

/// Decodes a legacy price account: owner, magic, version, account type, then the SDK's price
/// (which is the previous price and timestamp when status is not Trading).
pub fn decode(owner: &Pubkey, data: &[u8]) -> Result<RawPrice, ScalpelError> {
    if !is_legacy_owner(owner) {
        return Err(ScalpelError::OracleWrongOwner);
    }
    if data.len() < PRICE_ACCOUNT_LEN || !enums_valid(data) {
        return Err(ScalpelError::OracleInvalidAccount);
    }
    // The SDK casts in place and needs 8-byte alignment; copy when the buffer lacks it.
    let body = &data[..PRICE_ACCOUNT_LEN];
    let aligned_copy: Vec<u64>;
    let bytes: &[u8] = if (body.as_ptr() as usize)
        .is_multiple_of(core::mem::align_of::<SolanaPriceAccount>())
    {
        body
    } else {
        let mut words = vec![0u64; PRICE_ACCOUNT_LEN.div_ceil(8)];
        bytemuck::cast_slice_mut::<u64, u8>(&mut words)[..PRICE_ACCOUNT_LEN].copy_from_slice(body);
        aligned_copy = words;
        &bytemuck::cast_slice::<u64, u8>(&aligned_copy)[..PRICE_ACCOUNT_LEN]
    };
    let account =
        load_price_account::<32, ()>(bytes).map_err(|_| ScalpelError::OracleInvalidAccount)?;
    let status = account.agg.status;
    let feed = account.to_price_feed(&Pubkey::default());
    let p = feed.get_price_unchecked();
    let ema = feed.get_ema_price_unchecked();
    // The EMA shares the aggregate's exponent in every published account; a different one is
    // not a price this program can compare.
    if ema.expo != p.expo {
        return Err(ScalpelError::OracleInvalidAccount);
    }
    Ok(RawPrice {
        price: p.price,
        conf: p.conf,
        expo: p.expo,
        publish_time: p.publish_time,
        ema_price: ema.price,
        ema_conf: ema.conf,
        detail: RawDetail::Legacy {
            status: status as u8,
            used_previous: status != PriceStatus::Trading,
        },
    })
}
