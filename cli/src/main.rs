//! `scalpel`: the Scalpel command-line tool.
//!
//! Subcommands are grouped by topic (`scalpel oracle inspect …`); each group is an enum of its
//! own so new groups (`demo`, `scenario`, `keeper`, `quote`, `admin`) slot in as new variants of
//! [`Command`].

mod oracle_inspect;

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
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
