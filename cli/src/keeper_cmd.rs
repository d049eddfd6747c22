//! `scalpel keeper`: the liquidator bot against a cluster. Each pass scans every margin account,
//! liquidates what is liquidatable (only as far as the program's target, and only when the
//! profit check passes), resolves bad debt, and logs a summary line with what it skipped and
//! why; RPC errors and single bad accounts never stop the loop.

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use scalpel::math::I80F48;
use scalpel_client::keeper::{Keeper, KeeperConfig, KeeperFile, Mode, PassSummary};
use scalpel_client::rpc::{read_keypair, RpcChain};
use scalpel_client::units::parse_usd;
use std::path::PathBuf;
use std::time::Duration;

/// `--mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// `liquidate`: repay from the bot's token accounts, receive the collateral there.
    Wallet,
    /// `liquidate_to_account`: the bot's margin account takes the debt and the collateral; no
    /// token inventory.
    Account,
}

impl From<ModeArg> for Mode {
    fn from(m: ModeArg) -> Self {
        match m {
            ModeArg::Wallet => Mode::Wallet,
            ModeArg::Account => Mode::Account,
        }
    }
}

/// Arguments of `keeper`.
#[derive(Debug, Args)]
pub struct KeeperArgs {
    /// JSON-RPC endpoint.
    #[arg(long)]
    pub rpc: String,
    /// The bot's keypair (Solana CLI JSON); it pays fees, and in wallet mode holds the
    /// liability tokens.
    #[arg(long)]
    pub keypair: PathBuf,
    /// The keeper's config file (TOML: mode, min profit, priority fee, swap costs by ticker;
    /// docs/keeper.example.toml). Flags override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// `wallet` (default) or `account`.
    #[arg(long, value_enum)]
    pub mode: Option<ModeArg>,
    /// Account mode: which of the bot's margin accounts settles (default 0). It must exist
    /// and hold collateral: `scalpel account create --index N`, `scalpel account deposit`.
    #[arg(long, value_name = "N")]
    pub account_index: Option<u16>,
    /// Send only liquidations whose estimated profit (bonus − fee − priority fee − swap cost)
    /// exceeds this, USD as a decimal (default 0).
    #[arg(long, value_name = "USD", value_parser = usd_arg)]
    pub min_profit_usd: Option<I80F48>,
    /// Compute-unit price in micro-lamports (priority fee; default 0).
    #[arg(long, value_name = "MICROLAMPORTS")]
    pub priority_fee: Option<u64>,
    /// SOL price for the fees when no market is SOL (default 200).
    #[arg(long, value_name = "USD", value_parser = usd_arg)]
    pub sol_price_usd: Option<I80F48>,
    /// Most passes an account that keeps failing sits out (default 32).
    #[arg(long, value_name = "PASSES")]
    pub max_backoff_passes: Option<u32>,
    /// Plan and simulate, send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// One pass, then exit (non-zero if the pass could not run).
    #[arg(long)]
    pub once: bool,
    /// Pause between passes.
    #[arg(long, default_value_t = 2_000)]
    pub interval_ms: u64,
    /// Log lines as JSON.
    #[arg(long)]
    pub json_logs: bool,
}

/// A USD flag: a non-negative decimal, exact (rounded up to the fixed-point step).
fn usd_arg(s: &str) -> std::result::Result<I80F48, String> {
    parse_usd(s).map_err(|e| format!("{e:#}"))
}

impl KeeperArgs {
    /// The defaults, then the config file, then the flags.
    pub fn keeper_config(&self) -> Result<KeeperConfig> {
        let mut cfg = KeeperConfig::default();
        if let Some(path) = &self.config {
            KeeperFile::load(path)?.apply(&mut cfg);
        }
        cfg.dry_run = self.dry_run;
        if let Some(m) = self.mode {
            cfg.mode = m.into();
        }
        if let Some(i) = self.account_index {
            cfg.account_index = i;
        }
        if let Some(v) = self.min_profit_usd {
            cfg.profit.min_profit_usd = v;
        }
        if let Some(v) = self.priority_fee {
            cfg.priority_fee_micro_lamports = v;
        }
        if let Some(v) = self.sol_price_usd {
            cfg.profit.sol_price_usd = v;
        }
        if let Some(v) = self.max_backoff_passes {
            cfg.max_backoff_passes = v;
        }
        cfg.profit.validate().context("keeper settings")?;
        Ok(cfg)
    }
}

/// Operator hints after a pass: what the bot could not fund.
fn hints(s: &PassSummary) {
    if s.skipped.insufficient_inventory > 0 {
        tracing::warn!(
            skipped = s.skipped.insufficient_inventory,
            "liquidatable accounts skipped: fund the bot with their liability tokens"
        );
    }
    if s.skipped.insufficient_account_health > 0 {
        tracing::warn!(
            skipped = s.skipped.insufficient_account_health,
            "liquidatable accounts skipped: the bot's margin account cannot carry them; deposit \
             more collateral into it"
        );
    }
}

/// Runs the loop.
pub fn execute(args: &KeeperArgs) -> Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SCALPEL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Colours only on a terminal: piped logs stay greppable (`skip_reasons=unprofitable=1`).
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if args.json_logs {
        builder.json().init();
    } else {
        builder.init();
    }
    let cfg = args.keeper_config()?;
    let key = read_keypair(&args.keypair)?;
    let chain = RpcChain::new(&args.rpc);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let keeper = Keeper::new(&chain, &key, cfg);
        let cfg = keeper.config();
        tracing::info!(
            mode = %cfg.mode,
            min_profit_usd = %cfg.profit.min_profit_usd,
            priority_fee = cfg.priority_fee_micro_lamports,
            default_swap_cost_bps = cfg.profit.default_swap_cost_bps,
            dry_run = cfg.dry_run,
            "keeper starting"
        );
        match scalpel_client::health::markets(&chain).await {
            Ok(markets) => {
                for s in cfg.profit.unknown_symbols(&markets) {
                    tracing::warn!(symbol = %s, "swap_cost_bps names no market on this cluster");
                }
            }
            Err(e) => tracing::warn!(error = %e, rpc = %chain.url(), "could not read the markets"),
        }
        match cfg.mode {
            // Account mode settles in the bot's margin account: it must exist (the bot does not
            // create it: empty, it could carry no liquidation) and needs no token accounts.
            Mode::Account => {
                let account = keeper.check_liquidator_account().await?;
                if !account
                    .active_positions()
                    .any(|p| p.shares() > I80F48::ZERO)
                {
                    let index = cfg.account_index;
                    tracing::warn!(
                        account = %keeper.liquidator_account(),
                        "the bot's margin account holds no collateral, so it can carry no \
                         liquidation: deposit some (`scalpel account deposit USDC 1000 --index \
                         {index} --keypair BOT.json`)"
                    );
                }
                tracing::info!(
                    account = %keeper.liquidator_account(),
                    positions = account.active_positions().count(),
                    "settling in the bot's margin account"
                );
            }
            Mode::Wallet if !cfg.dry_run => match keeper.ensure_token_accounts().await {
                Ok(n) if n > 0 => tracing::info!(created = n, "created the bot's token accounts"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not create the bot's token accounts"),
            },
            Mode::Wallet => {}
        }
        loop {
            match keeper.pass().await {
                Ok(s) => hints(&s),
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        keeper: KeeperArgs,
    }

    fn parse(extra: &[&str]) -> KeeperArgs {
        let mut argv = vec!["keeper", "--rpc", "http://x", "--keypair", "k.json"];
        argv.extend_from_slice(extra);
        Cli::parse_from(argv).keeper
    }

    #[test]
    fn flags_override_the_config_file() {
        let dir = std::env::temp_dir().join(format!("scalpel-keeper-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keeper.toml");
        std::fs::write(
            &path,
            "mode = \"account\"\nmin_profit_usd = 2.5\npriority_fee = 7\n[swap_cost_bps]\nSOL = 9\n",
        )
        .unwrap();
        let p = path.to_str().unwrap();
        let cfg = parse(&["--config", p]).keeper_config().unwrap();
        assert_eq!(cfg.mode, Mode::Account);
        assert_eq!(cfg.profit.min_profit_usd, I80F48::from_num(2.5));
        assert_eq!(cfg.priority_fee_micro_lamports, 7);
        assert_eq!(cfg.profit.swap_cost_bps["SOL"], 9);
        let cfg = parse(&[
            "--config",
            p,
            "--mode",
            "wallet",
            "--min-profit-usd",
            "0",
            "--priority-fee",
            "100",
            "--account-index",
            "3",
        ])
        .keeper_config()
        .unwrap();
        assert_eq!(cfg.mode, Mode::Wallet);
        assert_eq!(cfg.profit.min_profit_usd, I80F48::ZERO);
        assert_eq!(cfg.priority_fee_micro_lamports, 100);
        assert_eq!(cfg.account_index, 3);
        let cfg = parse(&["--min-profit-usd", "1.25", "--sol-price-usd", "90"])
            .keeper_config()
            .unwrap();
        assert_eq!(cfg.profit.min_profit_usd, I80F48::from_num(1.25));
        assert_eq!(cfg.profit.sol_price_usd, I80F48::from_num(90));
        let mut argv = vec!["keeper", "--rpc", "http://x", "--keypair", "k.json"];
        argv.extend(["--min-profit-usd", "-1"]);
        assert!(
            Cli::try_parse_from(&argv).is_err(),
            "a negative threshold is refused"
        );
        // No file: the defaults.
        let cfg = parse(&[]).keeper_config().unwrap();
        assert_eq!(cfg.mode, Mode::Wallet);
        assert_eq!(cfg.profit.min_profit_usd, I80F48::ZERO);
        std::fs::write(&path, "min_profit = 1\n").unwrap();
        let err = parse(&["--config", p]).keeper_config().unwrap_err();
        assert!(format!("{err:#}").contains("unknown field"), "{err:#}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
