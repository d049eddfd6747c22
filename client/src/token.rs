//! SPL Token setup through real token-program instructions: mints, token accounts, minting.

use crate::Chain;
use anyhow::{anyhow, Result};
use solana_sdk::{
    program_pack::Pack,
    pubkey::Pubkey,
    rent::Rent,
    signature::{Keypair, Signer},
};
use solana_system_interface::instruction as system_instruction;

/// Creates a mint with `decimals`, authority `authority`.
pub async fn create_mint(
    chain: &dyn Chain,
    payer: &Keypair,
    authority: &Pubkey,
    decimals: u8,
) -> Result<Pubkey> {
    let mint = Keypair::new();
    let rent = Rent::default().minimum_balance(spl_token::state::Mint::LEN);
    let ixs = [
        system_instruction::create_account(
            &payer.pubkey(),
            &mint.pubkey(),
            rent,
            spl_token::state::Mint::LEN as u64,
            &spl_token::ID,
        ),
        spl_token::instruction::initialize_mint2(
            &spl_token::ID,
            &mint.pubkey(),
            authority,
            None,
            decimals,
        )?,
    ];
    chain
        .send(&ixs, &[payer, &mint])
        .await?
        .map_err(|e| anyhow!("create mint: {e}"))?;
    Ok(mint.pubkey())
}

/// Creates a token account of `mint` owned by `owner`.
pub async fn create_token_account(
    chain: &dyn Chain,
    payer: &Keypair,
    mint: &Pubkey,
    owner: &Pubkey,
) -> Result<Pubkey> {
    let account = Keypair::new();
    let rent = Rent::default().minimum_balance(spl_token::state::Account::LEN);
    let ixs = [
        system_instruction::create_account(
            &payer.pubkey(),
            &account.pubkey(),
            rent,
            spl_token::state::Account::LEN as u64,
            &spl_token::ID,
        ),
        spl_token::instruction::initialize_account3(
            &spl_token::ID,
            &account.pubkey(),
            mint,
            owner,
        )?,
    ];
    chain
        .send(&ixs, &[payer, &account])
        .await?
        .map_err(|e| anyhow!("create token account: {e}"))?;
    Ok(account.pubkey())
}

/// Mints `amount` to `to`, signed by the mint authority.
pub async fn mint_to(
    chain: &dyn Chain,
    payer: &Keypair,
    authority: &Keypair,
    mint: &Pubkey,
    to: &Pubkey,
    amount: u64,
) -> Result<()> {
    let ix = spl_token::instruction::mint_to(
        &spl_token::ID,
        mint,
        to,
        &authority.pubkey(),
        &[],
        amount,
    )?;
    chain
        .send(&[ix], &[payer, authority])
        .await?
        .map_err(|e| anyhow!("mint_to: {e}"))?;
    Ok(())
}

/// Token balance of a token account (0 if it does not exist).
pub async fn balance(chain: &dyn Chain, account: &Pubkey) -> Result<u64> {
    match chain.account(account).await? {
        Some(a) => Ok(spl_token::state::Account::unpack(&a.data)?.amount),
        None => Ok(0),
    }
}

/// The associated-token-account program.
pub const ATA_PROGRAM: Pubkey = spl_associated_token_account_client::program::ID;

/// The owner's associated token account of `mint` (where wallets keep tokens, where the trader
/// commands pay from and receive into, and where the keeper holds its inventory).
pub fn ata(owner: &Pubkey, mint: &Pubkey) -> Pubkey {
    spl_associated_token_account_client::address::get_associated_token_address(owner, mint)
}

/// Creates `owner`'s associated token account of `mint` if it does not exist (a no-op when it
/// does), paid by `payer`.
pub fn create_ata_idempotent(
    payer: &Pubkey,
    owner: &Pubkey,
    mint: &Pubkey,
) -> solana_sdk::instruction::Instruction {
    spl_associated_token_account_client::instruction::create_associated_token_account_idempotent(
        payer,
        owner,
        mint,
        &spl_token::ID,
    )
}
