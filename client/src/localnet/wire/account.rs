//! Accounts on the wire: `UiAccount` in the encoding asked for (base58, base64, base64+zstd;
//! `jsonParsed` parses SPL Token accounts and mints as a node does and falls back to base64 for
//! everything else), data slices, program-account filters, and SPL Token amounts.

use super::{internal, invalid_params, RpcResult};
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use serde_json::{json, Value};
use solana_account_decoder_client_types::{
    token::UiTokenAmount, ParsedAccount, UiAccount, UiAccountData, UiAccountEncoding,
    UiDataSliceConfig,
};
use solana_rpc_client_api::filter::RpcFilterType;
use solana_sdk::{account::Account, program_pack::Pack, pubkey::Pubkey};

/// Largest account data a node's RPC methods encode in base58 (its subscriptions have no limit).
pub const MAX_BASE58_BYTES: usize = 128;

/// Token-2022, whose accounts and mints start with SPL Token's layout.
pub const TOKEN_2022: Pubkey = solana_sdk::pubkey!("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb");

/// The two token programs whose accounts share the SPL Token base layout.
pub fn is_token_program(owner: &Pubkey) -> bool {
    *owner == spl_token::ID || *owner == TOKEN_2022
}

/// An SPL Token account's base fields (the first 165 bytes, Token-2022 extensions aside).
pub fn token_account(a: &Account) -> Option<spl_token::state::Account> {
    if !is_token_program(&a.owner) {
        return None;
    }
    let base = a.data.get(..spl_token::state::Account::LEN)?;
    // Token-2022 mints are longer than 165 bytes only with extensions; a 165-byte-or-longer mint
    // cannot unpack as an account (its state byte is out of range), so the two do not mix.
    spl_token::state::Account::unpack_from_slice(base)
        .ok()
        .filter(|t| t.state != spl_token::state::AccountState::Uninitialized)
}

/// An SPL Token mint's base fields.
pub fn token_mint(a: &Account) -> Option<spl_token::state::Mint> {
    if !is_token_program(&a.owner) || a.data.len() == spl_token::state::Account::LEN {
        return None;
    }
    let base = a.data.get(..spl_token::state::Mint::LEN)?;
    spl_token::state::Mint::unpack_from_slice(base)
        .ok()
        .filter(|m| m.is_initialized)
}

/// `amount` native units of a `decimals` token, as a node writes them.
pub fn token_amount(amount: u64, decimals: u8) -> UiTokenAmount {
    let full = crate::units::format_amount(amount, decimals);
    let trimmed = if decimals == 0 {
        full
    } else {
        full.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    UiTokenAmount {
        ui_amount: Some(amount as f64 / 10f64.powi(i32::from(decimals))),
        decimals,
        amount: amount.to_string(),
        ui_amount_string: trimmed,
    }
}

/// How to encode an account.
#[derive(Clone, Copy)]
pub struct Encoding<'a> {
    /// The encoding asked for.
    pub encoding: UiAccountEncoding,
    /// The data slice asked for.
    pub slice: Option<&'a UiDataSliceConfig>,
    /// Refuse base58 above this many bytes.
    pub max_base58: usize,
}

/// The data part of a `UiAccount`. `mint_decimals` reads a mint's decimals (for parsed token
/// accounts).
pub fn ui_account_data(
    a: &Account,
    how: Encoding<'_>,
    mint_decimals: &dyn Fn(&Pubkey) -> Option<u8>,
) -> RpcResult<UiAccountData> {
    let Encoding {
        encoding,
        slice,
        max_base58,
    } = how;
    let data = match slice {
        Some(s) => {
            let start = s.offset.min(a.data.len());
            let end = s.offset.saturating_add(s.length).min(a.data.len());
            &a.data[start..end]
        }
        None => &a.data[..],
    };
    let base58_limit = || {
        invalid_params(
            "Encoded binary (base 58) data should be less than 128 bytes, please use Base64 \
             encoding.",
        )
    };
    Ok(match encoding {
        UiAccountEncoding::Binary => {
            if data.len() > max_base58 {
                return Err(base58_limit());
            }
            UiAccountData::LegacyBinary(bs58::encode(data).into_string())
        }
        UiAccountEncoding::Base58 => {
            if data.len() > max_base58 {
                return Err(base58_limit());
            }
            UiAccountData::Binary(bs58::encode(data).into_string(), encoding)
        }
        UiAccountEncoding::JsonParsed => match (slice, parsed_token(a, mint_decimals)) {
            (None, Some(parsed)) => UiAccountData::Json(parsed),
            // A node falls back to base64 for accounts it cannot parse.
            _ => UiAccountData::Binary(B64.encode(data), UiAccountEncoding::Base64),
        },
        UiAccountEncoding::Base64 => {
            UiAccountData::Binary(B64.encode(data), UiAccountEncoding::Base64)
        }
        UiAccountEncoding::Base64Zstd => match zstd::encode_all(data, 0) {
            Ok(z) => UiAccountData::Binary(B64.encode(z), UiAccountEncoding::Base64Zstd),
            Err(_) => UiAccountData::Binary(B64.encode(data), UiAccountEncoding::Base64),
        },
    })
}

/// A whole `UiAccount`.
pub fn ui_account(
    a: &Account,
    how: Encoding<'_>,
    mint_decimals: &dyn Fn(&Pubkey) -> Option<u8>,
) -> RpcResult<Value> {
    serde_json::to_value(UiAccount {
        lamports: a.lamports,
        data: ui_account_data(a, how, mint_decimals)?,
        owner: a.owner.to_string(),
        executable: a.executable,
        rent_epoch: a.rent_epoch,
        space: Some(a.data.len() as u64),
    })
    .map_err(internal)
}

fn program_name(owner: &Pubkey) -> &'static str {
    if *owner == spl_token::ID {
        "spl-token"
    } else {
        "spl-token-2022"
    }
}

/// SPL Token accounts and mints parsed as solana-account-decoder does.
fn parsed_token(
    a: &Account,
    mint_decimals: &dyn Fn(&Pubkey) -> Option<u8>,
) -> Option<ParsedAccount> {
    let optional = |k: Option<Pubkey>| match k {
        Some(k) => Value::String(k.to_string()),
        None => Value::Null,
    };
    let parsed = if let Some(t) = token_account(a) {
        let decimals = mint_decimals(&t.mint)?;
        let mut info = json!({
            "isNative": t.is_native.is_some(),
            "mint": t.mint.to_string(),
            "owner": t.owner.to_string(),
            "state": if t.is_frozen() { "frozen" } else { "initialized" },
            "tokenAmount": token_amount(t.amount, decimals),
        });
        if let Some(d) = Option::<Pubkey>::from(t.delegate) {
            info["delegate"] = json!(d.to_string());
            info["delegatedAmount"] = json!(token_amount(t.delegated_amount, decimals));
        }
        if let Some(c) = Option::<Pubkey>::from(t.close_authority) {
            info["closeAuthority"] = json!(c.to_string());
        }
        if let Some(reserve) = Option::<u64>::from(t.is_native) {
            info["rentExemptReserve"] = json!(token_amount(reserve, decimals));
        }
        json!({ "type": "account", "info": info })
    } else if let Some(m) = token_mint(a) {
        json!({ "type": "mint", "info": {
            "mintAuthority": optional(m.mint_authority.into()),
            "supply": m.supply.to_string(),
            "decimals": m.decimals,
            "isInitialized": m.is_initialized,
            "freezeAuthority": optional(m.freeze_authority.into()),
        }})
    } else {
        return None;
    };
    Some(ParsedAccount {
        program: program_name(&a.owner).to_string(),
        parsed,
        space: a.data.len() as u64,
    })
}

/// Checks `getProgramAccounts` filters as a node does (at most 4, each well formed).
pub fn verify_filters(filters: &[RpcFilterType]) -> RpcResult<()> {
    if filters.len() > 4 {
        return Err(invalid_params("Too many filters provided; max 4"));
    }
    for f in filters {
        f.verify()
            .map_err(|e| invalid_params(format!("Invalid param: {e:?}")))?;
    }
    Ok(())
}

/// Whether `a` passes `filter`.
pub fn filter_allows(filter: &RpcFilterType, a: &Account) -> bool {
    match filter {
        RpcFilterType::DataSize(size) => a.data.len() as u64 == *size,
        RpcFilterType::Memcmp(m) => m.bytes_match(&a.data),
        RpcFilterType::TokenAccountState => token_account(a).is_some(),
    }
}
