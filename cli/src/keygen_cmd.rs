//! `scalpel keygen FILE`: a new wallet keypair in the Solana CLI's file format (what
//! `solana-keygen new -o FILE` writes), for machines without the Solana CLI.

use anyhow::{bail, Context, Result};
use clap::Args;
use solana_sdk::signature::{write_keypair_file, Keypair, Signer};
use std::path::PathBuf;

/// Arguments of `keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write the keypair (a JSON array of 64 bytes).
    pub file: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
}

/// Writes the keypair and prints its address.
pub fn execute(args: &KeygenArgs) -> Result<()> {
    if args.file.exists() && !args.force {
        bail!(
            "{} exists: pass --force to replace it (its funds would be lost with it)",
            args.file.display()
        );
    }
    let key = Keypair::new();
    write_keypair_file(&key, &args.file)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("writing {}", args.file.display()))?;
    println!("{}", key.pubkey());
    Ok(())
}
