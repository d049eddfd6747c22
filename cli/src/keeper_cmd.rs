//! `scalpel keeper`: the liquidator bot against a cluster. Each pass scans every margin account,
//! liquidates what is liquidatable (only as far as the program's target), resolves bad debt, and
//! logs a summary line; RPC errors and single bad accounts never stop the loop.

use anyhow::Result;
use clap::Args;
use scalpel_client::keeper::{Keeper, KeeperConfig};
use scalpel_client::rpc::{read_keypair, RpcChain};
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `keeper`.
#[derive(Debug, Args)]
pub struct KeeperArgs {
    /// JSON-RPC endpoint.
    #[arg(long)]
    pub rpc: String,
    /// The bot's keypair (Solana CLI JSON); it pays fees and holds the liability tokens.
    #[arg(long)]
    pub keypair: PathBuf,
    /// Plan and simulate, send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// One pass, then exit (non-zero if the pass could not run).
    #[arg(long)]
    pub once: bool,
    /// Pause between passes.
    #[arg(long, default_value_t = 2_000)]
    pub interval_ms: u64,
    /// Compute-unit price in micro-lamports (priority fee).
    #[arg(long, default_value_t = 0)]
    pub priority_fee: u64,
    /// Log lines as JSON.
    #[arg(long)]
    pub json_logs: bool,
}

/// Runs the loop.
pub fn execute(args: &KeeperArgs) -> Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SCALPEL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if args.json_logs {
        builder.json().init();
    } else {
        builder.init();
    }
    let key = read_keypair(&args.keypair)?;
    let chain = RpcChain::new(&args.rpc);
    let cfg = KeeperConfig {
        dry_run: args.dry_run,
        priority_fee_micro_lamports: args.priority_fee,
        ..KeeperConfig::default()
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let keeper = Keeper::new(&chain, &key, cfg);
        if !args.dry_run {
            match keeper.ensure_token_accounts().await {
                Ok(n) if n > 0 => tracing::info!(created = n, "created the bot's token accounts"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not create the bot's token accounts"),
            }
        }
        loop {
            match keeper.pass().await {
                Ok(s) => {
                    if s.skipped_no_funds > 0 {
                        tracing::warn!(skipped = s.skipped_no_funds, "liquidatable accounts skipped: fund the bot with their liability tokens");
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, rpc = %chain.url(), "pass failed");
                    if args.once {
                        return Err(e);
                    }
                }
            }
            if args.once {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(args.interval_ms)).await;
        }
    })
}
