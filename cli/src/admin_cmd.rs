//! `scalpel admin apply FILE` and `scalpel admin show`: configuration as code against a cluster.

use anyhow::{bail, Result};
use clap::Args;
use scalpel_client::admin::{plan, unsigned_transactions, AdminConfig};
use scalpel_client::rpc::{read_keypair, RpcChain};
use scalpel_client::Chain;
use solana_sdk::{pubkey::Pubkey, signature::Signer};
use std::path::PathBuf;
use std::str::FromStr;

/// Arguments of `admin apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Migration file (e.g. migrations/devnet.toml).
    pub file: PathBuf,
    /// JSON-RPC endpoint of the cluster.
    #[arg(long)]
    pub rpc: String,
    /// Admin keypair (Solana CLI JSON). With --print-only, pass --admin instead.
    #[arg(long)]
    pub keypair: Option<PathBuf>,
    /// Admin public key, for --print-only without the key.
    #[arg(long)]
    pub admin: Option<String>,
    /// Print the unsigned transactions (base64) for a multisig instead of signing and sending.
    #[arg(long)]
    pub print_only: bool,
}

/// Arguments of `admin show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// JSON-RPC endpoint of the cluster.
    #[arg(long)]
    pub rpc: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `admin apply`.
pub fn apply(args: &ApplyArgs) -> Result<()> {
    let config = AdminConfig::load(&args.file)?;
    let keypair = args.keypair.as_deref().map(read_keypair).transpose()?;
    let admin = match (&keypair, &args.admin) {
        (Some(k), _) => k.pubkey(),
        (None, Some(a)) => Pubkey::from_str(a)?,
        (None, None) => {
            bail!("pass --keypair FILE (the admin key), or --admin PUBKEY with --print-only")
        }
    };
    if !args.print_only && keypair.is_none() {
        bail!("sending needs the admin's --keypair; use --print-only to produce transactions for a multisig");
    }
    let chain = RpcChain::new(&args.rpc);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let actions = plan(&chain, &config, &admin).await?;
        if actions.is_empty() {
            println!(
                "{}: the cluster already matches {}; nothing to do",
                chain.url(),
                args.file.display()
            );
            return Ok(());
        }
        if args.print_only {
            let blockhash = chain.latest_blockhash().await?;
            for (a, tx) in actions
                .iter()
                .zip(unsigned_transactions(&actions, &admin, blockhash)?)
            {
                println!("# {}\n{tx}", a.description);
            }
            return Ok(());
        }
        let Some(key) = keypair else {
            bail!("missing keypair")
        };
        for (i, a) in actions.iter().enumerate() {
            eprint!("[{}/{}] {} … ", i + 1, actions.len(), a.description);
            match chain
                .send(std::slice::from_ref(&a.instruction), &[&key])
                .await?
            {
                Ok(_) => eprintln!("done"),
                Err(f) => bail!(
                    "{} was refused: {} (nothing after it was sent)",
                    a.description,
                    f.name
                ),
            }
        }
        Ok(())
    })
}

/// Runs `admin show`.
pub fn show(args: &ShowArgs) -> Result<()> {
    let chain = RpcChain::new(&args.rpc);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let live = scalpel_client::admin::live(&chain)
            .await
            .map_err(|e| anyhow::anyhow!("{e:#} (cluster {})", chain.url()))?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&live)?);
        } else {
            print!("{}", scalpel_client::admin::render(&live));
        }
        Ok(())
    })
}
