//! A fresh chain for `scalpel localnet`: a bank with the program, its clock at the wall clock's
//! time, and the protocol and markets of a migration file created through the same path as the
//! demo and the scenarios ([`crate::local::migration`]), listings activated.

use super::node::Operator;
use crate::admin::AdminConfig;
use crate::local::{migration, oracle};
use crate::{Chain, LocalChain};
use anyhow::{Context, Result};
use solana_sdk::signature::{Keypair, Signer};
use std::time::{SystemTime, UNIX_EPOCH};

/// Starts a bank and applies `cfg` to it; returns the chain and what the operator methods need.
pub async fn boot(cfg: &AdminConfig) -> Result<(LocalChain, Operator)> {
    let chain = LocalChain::start(vec![]).await;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("the system clock is before 1970")?
        .as_secs();
    chain.set_unix_time(i64::try_from(now)?).await?;
    let admin = chain.payer().insecure_clone();
    let mint_authority = Keypair::new();
    let markets = migration::apply(&chain, &admin, &mint_authority.pubkey(), cfg)
        .await
        .context("applying the migration")?;
    // A listing is quarantined until its timelock passes: wait it out so the markets are live.
    let timelock = cfg.protocol.params.params()?.timelock_secs;
    if timelock > 0 {
        chain.advance_time(i64::from(timelock)).await?;
        migration::apply_due(&chain, &admin)
            .await
            .context("activating the listings")?;
        let oracles: Vec<_> = markets.iter().map(|m| m.oracle).collect();
        oracle::republish(&chain, &oracles).await?;
    }
    // The protocol exists now (checked so a plan that silently did nothing is caught here).
    chain
        .account(&crate::pda::protocol())
        .await?
        .context("the migration created no protocol")?;
    Ok((
        chain,
        Operator {
            markets,
            mint_authority,
        },
    ))
}
