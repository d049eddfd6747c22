//! Program-derived addresses, derived exactly as the program's seeds say.

use scalpel::constants::*;
use solana_sdk::pubkey::Pubkey;

/// The protocol singleton.
pub fn protocol() -> Pubkey {
    Pubkey::find_program_address(&[PROTOCOL_SEED], &scalpel::ID).0
}

/// The market of `mint`.
pub fn market(mint: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[MARKET_SEED, mint.as_ref()], &scalpel::ID).0
}

/// A market's liquidity vault.
pub fn vault(market: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[VAULT_SEED, market.as_ref()], &scalpel::ID).0
}

/// A market's insurance vault.
pub fn insurance_vault(market: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[INSURANCE_SEED, market.as_ref()], &scalpel::ID).0
}

/// A market's treasury vault.
pub fn treasury_vault(market: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[TREASURY_SEED, market.as_ref()], &scalpel::ID).0
}

/// The margin account `index` of `owner`.
pub fn margin_account(owner: &Pubkey, index: u16) -> Pubkey {
    Pubkey::find_program_address(
        &[MARGIN_SEED, owner.as_ref(), &index.to_le_bytes()],
        &scalpel::ID,
    )
    .0
}
