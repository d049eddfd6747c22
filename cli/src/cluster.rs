//! Where a command talks to and who signs, by the Solana CLI's conventions: `--rpc` and
//! `--keypair` when given, else the Solana CLI's config file (`solana config set …`), else
//! `http://127.0.0.1:8899` (a `scalpel localnet`) and `~/.config/solana/id.json`.

use anyhow::{bail, Context, Result};
use clap::Args;
use scalpel_client::rpc::{read_keypair, RpcChain};
use scalpel_client::Chain;
use solana_sdk::signature::Keypair;
use std::path::PathBuf;

/// The local cluster `scalpel localnet` serves.
pub const LOCALNET_RPC: &str = "http://127.0.0.1:8899";

/// Cluster and signer options shared by the commands that send transactions.
#[derive(Debug, Args, Clone)]
pub struct ClusterArgs {
    /// JSON-RPC endpoint [default: the Solana CLI config's, else http://127.0.0.1:8899].
    #[arg(long, value_name = "URL", global = true)]
    pub rpc: Option<String>,
    /// Signer keypair file [default: the Solana CLI config's, else ~/.config/solana/id.json].
    #[arg(long, value_name = "FILE", global = true)]
    pub keypair: Option<PathBuf>,
    /// Solana CLI config file to read the defaults from.
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
}

/// The fields of the Solana CLI's `config.yml` that Scalpel reads (`solana config get`).
#[derive(Debug, Default, serde::Deserialize)]
struct SolanaConfig {
    #[serde(default)]
    json_rpc_url: String,
    #[serde(default)]
    keypair_path: String,
}

/// Where `solana config` keeps its file.
fn default_config_path() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config/solana/cli/config.yml"))
}

impl ClusterArgs {
    /// The Solana CLI config, if a file exists (an explicit `--config` must exist).
    fn solana_config(&self) -> Result<Option<SolanaConfig>> {
        let (path, explicit) = match &self.config {
            Some(p) => (Some(p.clone()), true),
            None => (default_config_path(), false),
        };
        let Some(path) = path else { return Ok(None) };
        if !path.exists() {
            if explicit {
                bail!("no Solana CLI config at {}", path.display());
            }
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading the Solana CLI config {}", path.display()))?;
        serde_norway::from_str(&text).map(Some).with_context(|| {
            format!(
                "the Solana CLI config {} is not valid YAML (fix it with `solana config set`)",
                path.display()
            )
        })
    }

    /// The RPC URL to use.
    pub fn rpc_url(&self) -> Result<String> {
        if let Some(url) = &self.rpc {
            return Ok(url.clone());
        }
        Ok(self
            .solana_config()?
            .map(|c| c.json_rpc_url)
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| LOCALNET_RPC.to_string()))
    }

    /// The signer's keypair file.
    pub fn keypair_path(&self) -> Result<PathBuf> {
        if let Some(p) = &self.keypair {
            return Ok(p.clone());
        }
        if let Some(c) = self.solana_config()? {
            if !c.keypair_path.is_empty() {
                return Ok(PathBuf::from(c.keypair_path));
            }
        }
        let home = std::env::var_os("HOME").context("HOME is not set: pass --keypair FILE")?;
        Ok(PathBuf::from(home).join(".config/solana/id.json"))
    }

    /// The signer.
    pub fn signer(&self) -> Result<Keypair> {
        let path = self.keypair_path()?;
        read_keypair(&path).with_context(|| {
            format!(
                "no usable keypair at {} (create one with `solana-keygen new -o {}` or pass \
                 --keypair FILE)",
                path.display(),
                path.display()
            )
        })
    }

    /// A client for the cluster, checked reachable with one cheap call so that an unreachable
    /// endpoint is named as such.
    pub async fn connect(&self) -> Result<RpcChain> {
        let url = self.rpc_url()?;
        let chain = RpcChain::new(&url);
        if let Err(e) = chain.latest_blockhash().await {
            let hint = if url == LOCALNET_RPC {
                "start one with `scalpel localnet`, or pass --rpc URL"
            } else {
                "check the URL, or pass --rpc URL"
            };
            bail!("cannot reach the cluster at {url}: {e}\n({hint})");
        }
        Ok(chain)
    }
}
