//! `scalpel admin apply FILE` and `scalpel admin show`: configuration as code against a cluster.

use anyhow::{bail, Result};
use clap::Args;
use scalpel::state::{Market, Protocol};
use scalpel_client::admin::{plan, unsigned_transactions, AdminConfig};
use scalpel_client::rpc::{read_keypair, RpcChain};
use scalpel_client::{decode, health, pda, Chain};
use serde_json::json;
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
        let Some(p) = chain.account(&pda::protocol()).await? else {
            bail!(
                "no Scalpel protocol at {} on {}: run `scalpel admin apply` first",
                pda::protocol(),
                chain.url()
            );
        };
        let p: Protocol = decode::protocol(&p.data)?;
        let markets = health::markets(&chain).await?;
        let report = show_json(&p, &markets)?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            println!(
                "{}",
                serde_json::to_string_pretty(&report)?.replace(['{', '}', '"', ','], "")
            );
        }
        Ok(())
    })
}

/// The live parameters and pending changes as JSON.
pub fn show_json(p: &Protocol, markets: &[(Pubkey, Market)]) -> Result<serde_json::Value> {
    let params = p.params().map_err(|e| anyhow::anyhow!("{e}"))?;
    let pending = (p.pending.active != 0)
        .then(|| json!({"eta": p.pending.eta, "params": format!("{:?}", p.pending.params())}));
    let ms: Vec<_> = markets
        .iter()
        .map(|(k, m)| {
            json!({
                "index": m.market_index,
                "market": k.to_string(),
                "mint": m.mint.to_string(),
                "oracle": m.oracle.to_string(),
                "params": format!("{:?}", m.params().ok()),
                "flags": m.flags,
                "pending": (m.pending.active != 0).then(|| json!({"eta": m.pending.eta, "params": format!("{:?}", m.pending.params()), "oracle": m.pending.oracle.to_string()})),
                "shift_end": (m.shift.active != 0).then_some(m.shift.end_ts),
                "liquidation_paused_until": m.liquidation_paused_until,
            })
        })
        .collect();
    Ok(json!({
        "admin": p.admin.to_string(),
        "pending_admin": p.pending_admin.to_string(),
        "guardian": p.guardian.to_string(),
        "params": format!("{params:?}"),
        "pause_flags": p.pause_flags,
        "pending": pending,
        "markets": ms,
    }))
}
