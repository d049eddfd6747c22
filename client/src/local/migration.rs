//! A migration file applied to the in-process bank: each `"local"` mint and Pyth oracle is
//! created in the bank, then the protocol and markets go through [`crate::admin::plan`] exactly
//! as `scalpel admin apply` sends them to a cluster. Used by the scenario engine (and so
//! `scalpel demo`) and by `scalpel localnet`.

use super::{oracle, LocalChain};
use crate::admin::{self, AdminConfig, LOCAL};
use crate::{pda, token, Chain};
use anyhow::{anyhow, bail, Context, Result};
use solana_sdk::{
    instruction::Instruction,
    pubkey::Pubkey,
    signature::{Keypair, Signer},
};

/// A market whose mint and oracle a migration created in the bank.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalMarket {
    /// Display symbol.
    pub symbol: String,
    /// Mint decimals.
    pub decimals: u8,
    /// The mint created.
    pub mint: Pubkey,
    /// The market PDA.
    pub market: Pubkey,
    /// The `PriceUpdateV2` account created.
    pub oracle: Pubkey,
    /// Its feed id.
    pub feed_id: [u8; 32],
    /// Listing order.
    pub index: u16,
    /// The price published at listing (decimal string, USD).
    pub price: String,
}

impl LocalMarket {
    /// The market's token vault.
    pub fn vault(&self) -> Pubkey {
        pda::vault(&self.market)
    }
}

/// The feed id given to the `index`-th local market: its index, then its symbol (so that two
/// local markets never share a feed).
pub fn local_feed_id(index: usize, symbol: &str) -> [u8; 32] {
    let mut feed_id = [0u8; 32];
    feed_id[..8].copy_from_slice(&(index as u64 + 1).to_le_bytes());
    let n = symbol.len().min(24);
    feed_id[8..8 + n].copy_from_slice(&symbol.as_bytes()[..n]);
    feed_id
}

/// Creates the migration's local mints (authority `mint_authority`) and oracles, then sends
/// `admin::plan`'s instructions signed by `admin`. A listing waits for the protocol's timelock:
/// see [`apply_due`].
pub async fn apply(
    chain: &LocalChain,
    admin: &Keypair,
    mint_authority: &Pubkey,
    cfg: &AdminConfig,
) -> Result<Vec<LocalMarket>> {
    let mut resolved = cfg.clone();
    let mut created = Vec::with_capacity(resolved.markets.len());
    for (i, m) in resolved.markets.iter_mut().enumerate() {
        if m.mint != LOCAL || m.oracle != LOCAL {
            bail!(
                "{}: in-process runs create their own mints and oracles (use \"local\")",
                m.symbol
            );
        }
        let decimals = m
            .decimals
            .ok_or_else(|| anyhow!("{}: a local market needs decimals", m.symbol))?;
        let price = m
            .price
            .clone()
            .ok_or_else(|| anyhow!("{}: a local market needs a price", m.symbol))?;
        let mint = token::create_mint(chain, admin, mint_authority, decimals).await?;
        let feed_id = local_feed_id(i, &m.symbol);
        let oracle_key = Pubkey::new_unique();
        oracle::write_price(
            chain,
            &oracle_key,
            feed_id,
            oracle::Quote::steady(&price, "0"),
        )
        .await
        .with_context(|| format!("{}: publishing its price", m.symbol))?;
        m.mint = mint.to_string();
        m.oracle = oracle_key.to_string();
        m.oracle_kind = "pull".into();
        m.feed_id = Some(hex::encode(feed_id));
        created.push(LocalMarket {
            symbol: m.symbol.clone(),
            decimals,
            mint,
            market: pda::market(&mint),
            oracle: oracle_key,
            feed_id,
            index: u16::try_from(i).context("too many markets")?,
            price,
        });
    }
    for a in admin::plan(chain, &resolved, &admin.pubkey()).await? {
        send(chain, &a.instruction, admin)
            .await
            .with_context(|| a.description.clone())?;
    }
    Ok(created)
}

/// Sends every queued change whose timelock has passed (a new listing's activation included);
/// returns their descriptions.
pub async fn apply_due(chain: &LocalChain, admin: &Keypair) -> Result<Vec<String>> {
    let mut done = Vec::new();
    for a in admin::due_applications(chain).await? {
        send(chain, &a.instruction, admin)
            .await
            .with_context(|| a.description.clone())?;
        done.push(a.description);
    }
    Ok(done)
}

async fn send(chain: &LocalChain, ix: &Instruction, admin: &Keypair) -> Result<()> {
    chain
        .send(std::slice::from_ref(ix), &[admin])
        .await?
        .map(|_| ())
        .map_err(|f| anyhow!("{}", f.name))
}
