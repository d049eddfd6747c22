//! `scalpel localnet`: a local Solana node for everyone without an SBF toolchain. It starts the
//! in-process bank (Scalpel natively, or its SBF build when `SBF_OUT_DIR` is set), creates the
//! protocol and markets of a migration file, serves JSON-RPC and PubSub like
//! `solana-test-validator`, and logs one line per transaction until Ctrl-C. The operator
//! subcommands (`price`, `warp`, `fund`) talk to a running one. docs/LOCALNET.md has the rest.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use scalpel_client::admin::AdminConfig;
use scalpel_client::localnet::{genesis, Localnet, LocalnetConfig, Remote, DEFAULT_RPC_PORT};
use serde_json::{json, Value};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signer;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

/// Arguments of `localnet`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct LocalnetArgs {
    #[command(subcommand)]
    command: Option<Operate>,
    #[command(flatten)]
    serve: ServeArgs,
}

/// Serving options.
#[derive(Debug, Args)]
struct ServeArgs {
    /// JSON-RPC port on 127.0.0.1; PubSub listens on the next one.
    #[arg(long, default_value_t = DEFAULT_RPC_PORT)]
    port: u16,
    /// Migration whose protocol and markets are created at start (default: the built-in
    /// migrations/localnet.toml, the demo's).
    #[arg(long)]
    migration: Option<PathBuf>,
    /// Log lines (and the start banner) as JSON.
    #[arg(long)]
    json_logs: bool,
}

/// Operator subcommands, against a running localnet.
#[derive(Debug, Subcommand)]
enum Operate {
    /// Publish a fresh Pyth PriceUpdateV2 for a market's oracle at the current clock.
    Price(PriceArgs),
    /// Move the clock's unix time forward (every market's price is published again at the new
    /// time unless --stale).
    Warp(WarpArgs),
    /// Give an account SOL (an airdrop of lamports) or a market's token (minted to its
    /// associated token account, created if missing).
    Fund(FundArgs),
}

#[derive(Debug, Args)]
struct Target {
    /// The localnet's JSON-RPC endpoint.
    #[arg(long, default_value = "http://127.0.0.1:8899")]
    rpc: String,
    /// Print the answer as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct PriceArgs {
    /// Market symbol (as in the migration: SOL, ETH, USDC...).
    symbol: String,
    /// Price in USD (decimal).
    price: String,
    /// Confidence interval in USD (decimal).
    #[arg(long, default_value = "0")]
    conf: String,
    /// The feed's EMA price in USD (default: the price, a steady feed); a lagging EMA is what
    /// the program's oracle guards see during a pump or a crash.
    #[arg(long)]
    ema: Option<String>,
    /// The EMA's confidence in USD (default: --conf).
    #[arg(long, requires = "ema")]
    ema_conf: Option<String>,
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, Args)]
struct WarpArgs {
    /// Seconds to move the clock forward by.
    seconds: i64,
    /// Leave the published prices at their old time (to see them go stale).
    #[arg(long)]
    stale: bool,
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, Args)]
struct FundArgs {
    /// The wallet to fund.
    pubkey: Pubkey,
    /// `SOL` (lamports) or a market symbol.
    asset: String,
    /// Amount in UI units (decimal: `1.5` SOL, `1000` USDC).
    amount: String,
    /// With `SOL`: mint the SOL market's token instead of airdropping lamports.
    #[arg(long)]
    token: bool,
    #[command(flatten)]
    target: Target,
}

/// Runs `localnet` or one of its operator subcommands.
pub fn execute(args: &LocalnetArgs) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match &args.command {
        None => serve(&rt, &args.serve),
        Some(op) => rt.block_on(operate(op)),
    }
}

fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SCALPEL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("scalpel=info,error"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn load_migration(path: Option<&PathBuf>) -> Result<(AdminConfig, String)> {
    match path {
        Some(p) => Ok((AdminConfig::load(p)?, p.display().to_string())),
        None => Ok((
            toml::from_str(crate::demo_cmd::LOCALNET)
                .context("the built-in migrations/localnet.toml")?,
            "migrations/localnet.toml (built in)".to_string(),
        )),
    }
}

fn serve(rt: &tokio::runtime::Runtime, args: &ServeArgs) -> Result<()> {
    init_logs(args.json_logs);
    let (migration, origin) = load_migration(args.migration.as_ref())?;
    // The program's `msg!` lines print to standard output when it runs natively; they are not
    // the command's output.
    let guard = crate::stdout_guard::StdoutGuard::discard()?;
    let mut out = guard.out()?;
    rt.block_on(async {
        // Listening before the (seconds long) start so an early Ctrl-C is not lost.
        let mut stop = Shutdown::listen()?;
        let booted = tokio::select! {
            b = genesis::boot(&migration) => b
                .with_context(|| format!("creating the protocol and markets of {origin}"))?,
            _ = stop.wait() => return Ok(()),
        };
        let (chain, operator) = booted;
        let chain = Arc::new(chain);
        let config = LocalnetConfig {
            rpc_addr: SocketAddr::from((Ipv4Addr::LOCALHOST, args.port)),
            operator: Some(operator),
            ..LocalnetConfig::default()
        };
        let net = Localnet::start(chain.clone(), config)
            .await
            .with_context(|| {
                format!(
                    "is another localnet or solana-test-validator running? (ports {} and {})",
                    args.port,
                    args.port.saturating_add(1)
                )
            })?;
        let banner = banner(&net, &chain, &origin);
        if args.json_logs {
            writeln!(out, "{banner}")?;
        } else {
            write!(out, "{}", human(&banner))?;
        }
        out.flush()?;
        stop.wait().await;
        net.stop().await;
        tracing::info!(target: "scalpel::localnet", "stopped");
        Ok(())
    })
}

/// SIGINT (Ctrl-C) or SIGTERM.
struct Shutdown {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Shutdown {
    fn listen() -> Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt()).context("listening for Ctrl-C")?,
            terminate: signal(SignalKind::terminate()).context("listening for SIGTERM")?,
        })
    }

    async fn wait(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

fn banner(net: &Localnet, chain: &scalpel_client::LocalChain, origin: &str) -> Value {
    let markets: Vec<Value> = net
        .markets()
        .iter()
        .map(|m| {
            json!({
                "symbol": m.symbol,
                "decimals": m.decimals,
                "price": m.price,
                "mint": m.mint.to_string(),
                "market": m.market.to_string(),
                "oracle": m.oracle.to_string(),
                "vault": m.vault().to_string(),
            })
        })
        .collect();
    json!({
        "rpc": net.rpc_url(),
        "ws": net.ws_url(),
        "program_id": scalpel::ID.to_string(),
        "program": if chain.runs_sbf() { "sbf" } else { "native" },
        "faucet": chain.payer().pubkey().to_string(),
        "migration": origin,
        "markets": markets,
    })
}

fn s(v: &Value) -> String {
    v.as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string())
}

fn human(b: &Value) -> String {
    let program = if b["program"] == "sbf" {
        "SBF build from SBF_OUT_DIR"
    } else {
        "native (set SBF_OUT_DIR to run the SBF build)"
    };
    let mut o = String::new();
    o.push_str("Scalpel localnet\n");
    o.push_str(&format!("  JSON-RPC  {}\n", s(&b["rpc"])));
    o.push_str(&format!("  PubSub    {}\n", s(&b["ws"])));
    o.push_str(&format!(
        "  program   {} ({program})\n",
        s(&b["program_id"])
    ));
    o.push_str(&format!(
        "  admin     {} (the protocol's admin and the faucet)\n",
        s(&b["faucet"])
    ));
    o.push_str(&format!("  markets   from {}\n", s(&b["migration"])));
    for m in b["markets"].as_array().into_iter().flatten() {
        o.push_str(&format!(
            "    {:<6} price {} USD, {} decimals\n      mint   {}\n      oracle {}\n      vault  {}\n",
            s(&m["symbol"]),
            s(&m["price"]),
            m["decimals"],
            s(&m["mint"]),
            s(&m["oracle"]),
            s(&m["vault"]),
        ));
    }
    o.push_str(
        "Operate it from another terminal: scalpel localnet price SOL 80 | warp 3600 | fund <PUBKEY> SOL 10\n",
    );
    o.push_str("Ctrl-C stops it (nothing is kept).\n");
    o
}

async fn operate(op: &Operate) -> Result<()> {
    let (target, answer) = match op {
        Operate::Price(a) => (
            &a.target,
            match &a.ema {
                None => {
                    Remote::new(&a.target.rpc)
                        .set_price(&a.symbol, &a.price, &a.conf)
                        .await?
                }
                Some(ema) => {
                    Remote::new(&a.target.rpc)
                        .set_price_with_ema(
                            &a.symbol,
                            &a.price,
                            &a.conf,
                            ema,
                            a.ema_conf.as_deref().unwrap_or(&a.conf),
                        )
                        .await?
                }
            },
        ),
        Operate::Warp(a) => (
            &a.target,
            Remote::new(&a.target.rpc).warp(a.seconds, a.stale).await?,
        ),
        Operate::Fund(a) => (
            &a.target,
            Remote::new(&a.target.rpc)
                .fund(&a.pubkey, &a.asset, &a.amount, a.token)
                .await?,
        ),
    };
    if target.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
        return Ok(());
    }
    match op {
        Operate::Price(_) => println!(
            "{} now {} ± {} USD (oracle {}, published at unix time {})",
            s(&answer["symbol"]),
            s(&answer["price"]),
            s(&answer["conf"]),
            s(&answer["oracle"]),
            answer["publishTime"]
        ),
        Operate::Warp(_) => {
            let republished: Vec<String> = answer["republished"]
                .as_array()
                .into_iter()
                .flatten()
                .map(s)
                .collect();
            println!(
                "clock at unix time {}; prices published again: {}",
                answer["unixTimestamp"],
                if republished.is_empty() {
                    "none".to_string()
                } else {
                    republished.join(", ")
                }
            );
        }
        Operate::Fund(a) => match answer.get("tokenAccount") {
            Some(t) => println!(
                "minted {} {} to {} (token account {}, balance {}); signature {}",
                a.amount,
                s(&answer["asset"]),
                a.pubkey,
                s(t),
                s(&answer["balance"]),
                s(&answer["signature"])
            ),
            None => println!(
                "airdropped {} SOL to {} (balance {} lamports); signature {}\n(a market named \
                 SOL has its own token: add --token to mint it)",
                a.amount,
                a.pubkey,
                answer["balance"],
                s(&answer["signature"])
            ),
        },
    }
    Ok(())
}
