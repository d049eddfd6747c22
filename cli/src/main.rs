//! `scalpel`: the Scalpel command-line tool.
//!
//! Subcommands are grouped by topic (`scalpel oracle inspect …`); each group is an enum of its
//! own so new groups (`demo`, `scenario`, `keeper`, `quote`, `admin`, `localnet`) slot in as new variants of
//! [`Command`].

mod account_cmd;
mod admin_cmd;
mod cluster;
mod demo_cmd;
mod keeper_cmd;
mod keygen_cmd;
mod localnet_cmd;
mod oracle_inspect;
mod quote_cmd;
mod scenario_cmd;
mod sim_cmd;
mod sim_plots;
mod stdout_guard;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Scalpel: cross-margin accounts priced by Pyth with exact partial liquidation.
#[derive(Debug, Parser)]
#[command(name = "scalpel", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Top-level command groups.
#[derive(Debug, Subcommand)]
enum Command {
    /// Pyth oracle accounts as Scalpel reads them.
    #[command(subcommand)]
    Oracle(OracleCommand),
    /// Replay declarative what-if scenarios against the real program, in-process.
    #[command(subcommand)]
    Scenario(ScenarioCommand),
    /// The guided tour: markets, leveraged traders, a falling price, the keeper liquidating only
    /// what each account needs. In-process, no setup.
    Demo(demo_cmd::DemoArgs),
    /// The liquidator bot against a cluster.
    Keeper(keeper_cmd::KeeperArgs),
    /// Governance configuration as code against a cluster.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// An account's health, liquidation prices and the exact liquidation plan the program
    /// would accept now.
    Quote(quote_cmd::QuoteArgs),
    /// A trader's margin account against a cluster: create, deposit, withdraw, borrow, repay,
    /// close, show.
    Account(account_cmd::AccountArgs),
    /// A local Solana node serving the program in-process (JSON-RPC on 8899, PubSub on 8900),
    /// with the migration's markets; `price`, `warp` and `fund` operate a running one.
    Localnet(localnet_cmd::LocalnetArgs),
    /// Write a new wallet keypair file (as `solana-keygen new -o FILE`) and print its address.
    Keygen(keygen_cmd::KeygenArgs),
    /// Monte Carlo of a real crash: Scalpel against binary and close-factor liquidation on the
    /// same paths and accounts, cascades included, cross-checked against the program.
    Sim(sim_cmd::SimArgs),
}

/// `scalpel admin …`
#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create the protocol and markets if missing, queue the differences otherwise.
    Apply(admin_cmd::ApplyArgs),
    /// Print the live parameters and pending changes.
    Show(admin_cmd::ShowArgs),
}

/// `scalpel scenario …`
#[derive(Debug, Subcommand)]
enum ScenarioCommand {
    /// Run a scenario file (TOML or JSON) and print each step's result.
    Run(scenario_cmd::RunArgs),
}

/// `scalpel oracle …`
#[derive(Debug, Subcommand)]
enum OracleCommand {
    /// Decode a Pyth price account (raw bytes or a `solana account --output json` dump) and
    /// say whether Scalpel would accept its price, and why not.
    Inspect(oracle_inspect::InspectArgs),
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Oracle(OracleCommand::Inspect(args)) => oracle_inspect::run(&args),
        Command::Scenario(ScenarioCommand::Run(args)) => scenario_cmd::execute(&args),
        Command::Demo(args) => demo_cmd::execute(&args),
        Command::Keeper(args) => keeper_cmd::execute(&args),
        Command::Admin(AdminCommand::Apply(args)) => admin_cmd::apply(&args),
        Command::Admin(AdminCommand::Show(args)) => admin_cmd::show(&args),
        Command::Quote(args) => quote_cmd::execute(&args),
        Command::Account(args) => account_cmd::execute(&args),
        Command::Localnet(args) => localnet_cmd::execute(&args),
        Command::Keygen(args) => keygen_cmd::execute(&args),
        Command::Sim(args) => sim_cmd::execute(&args),
    }
}

fn main() -> ExitCode {
    // The in-process bank logs every instruction at debug level unless told otherwise.
    if std::env::var_os("RUST_LOG").is_none() {
        std::env::set_var("RUST_LOG", "error");
    }
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
