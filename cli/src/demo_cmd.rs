//! `scalpel demo`: the newcomer's tour, entirely in-process with no setup. It runs the built-in
//! story (`scenarios/demo.toml`) through the real program and the real keeper, and narrates it.

use anyhow::Result;
use clap::Args;
use scalpel_client::scenario::Scenario;

/// The built-in story.
pub const DEMO: &str = include_str!("../../scenarios/demo.toml");
/// The protocol and markets it runs on.
pub const LOCALNET: &str = include_str!("../../migrations/localnet.toml");

/// Arguments of `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Print one JSON document instead of the narration.
    #[arg(long)]
    pub json: bool,
    /// Also show the program's own log lines, on stderr.
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

/// Runs the demo.
pub fn execute(args: &DemoArgs) -> Result<()> {
    let mut scenario: Scenario = toml::from_str(DEMO)?;
    scenario.migration_config = Some(toml::from_str(LOCALNET)?);
    if !args.json {
        println!(
            "Scalpel demo: cross-margin accounts priced by Pyth, liquidated only as far as needed."
        );
        println!(
            "Everything below runs as real transactions against the Scalpel program in-process."
        );
    }
    crate::scenario_cmd::run_and_print(&scenario, "scenarios/demo.toml", args.json, args.verbose)
}
