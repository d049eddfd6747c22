//! The crash simulation behind `scalpel sim` (docs/SIMULATION.md): every liquidation design on
//! the same intraday paths of a real crash and the same account population, with cascades, and
//! a cross-check of the simulated Scalpel liquidations against the real program.
//!
//! Modules, each using only those above it:
//! `config`/`presets` (what a run is), `facts` (the crash's daily facts), `paths` (intraday
//! paths), `program` (the protocol built with the program's constructors), `oracle`
//! (publication), `population` (the accounts), `impact` (the market sales move), `policy` (the
//! four designs), `metrics`, `triggers` (which accounts a step can liquidate), `book` (the population as flat
//! balances), `engine` (one
//! policy on one path), `crosscheck` (the replay). This file runs them: paths in parallel, then
//! the replay.

pub mod book;
pub mod config;
pub mod crosscheck;
pub mod engine;
pub mod facts;
pub mod impact;
pub mod metrics;
pub mod oracle;
pub mod paths;
pub mod policy;
pub mod population;
pub mod presets;
pub mod program;
pub mod triggers;

#[cfg(test)]
mod tests;

use anyhow::{anyhow, Context, Result};
use config::SimConfig;
use crosscheck::CrossCheck;
use engine::{Prepared, ReplayCase, RunOptions};
use metrics::{RunMetrics, Stat};
use oracle::Tick;
use paths::PathModel;
use policy::Policy;
use population::Population;
use program::SimProgram;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Seed offsets, so each use of the seed draws its own stream.
const POPULATION_SEED: u64 = 0x9E37_79B9_7F4A_7C15;
const SAMPLE_SEED: u64 = 0x5151_5151_0000_0001;

/// Everything fixed before the paths are drawn.
pub struct Setup {
    /// The configuration.
    pub cfg: SimConfig,
    /// The crash's facts.
    pub facts: facts::EventFacts,
    /// The protocol.
    pub prog: SimProgram,
    /// The path generator.
    pub model: PathModel,
    /// The accounts.
    pub pop: Population,
    /// The opening publications.
    pub start: Vec<Tick>,
}

impl Setup {
    /// Validates `cfg`, reads the facts (relative to `base`, the configuration file's folder)
    /// and draws the population.
    pub fn new(cfg: SimConfig, base: Option<&std::path::Path>) -> Result<Setup> {
        cfg.validate()?;
        let facts = match &cfg.event.facts {
            None => facts::load(facts::BUNDLED, "data/crashes.csv", &cfg.event.name)?,
            Some(f) => {
                let path = base.map_or_else(|| f.into(), |b| b.join(f));
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read the facts file {}", path.display()))?;
                facts::load(&text, &path.display().to_string(), &cfg.event.name)?
            }
        };
        let prog = SimProgram::build(&cfg, &facts)?;
        let model = PathModel::new(
            &facts,
            cfg.event.step_minutes,
            cfg.event.correlation,
            cfg.event.vol_scale,
        );
        let start = prog
            .markets
            .iter()
            .map(|m| {
                let p = match m.asset {
                    Some(a) => facts.assets[a].days[0].open.unwrap_or(1.0),
                    None => 0.0,
                };
                oracle::publish(m, p, 0.0, 0, &cfg.oracle)
            })
            .collect::<Result<Vec<Tick>>>()?;
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ POPULATION_SEED);
        let pop = population::generate(&cfg.population, cfg.accounts, &prog, &start, &mut rng)?;
        Ok(Setup {
            cfg,
            facts,
            prog,
            model,
            pop,
            start,
        })
    }

    /// Path assets, leader first.
    pub fn assets(&self) -> Vec<String> {
        self.facts.assets.iter().map(|a| a.asset.clone()).collect()
    }
}

/// Every policy's measures on every path, and what the plots need.
pub struct MonteCarlo {
    /// `runs[policy][path]`, policies in [`Policy::ALL`] order.
    pub runs: Vec<Vec<RunMetrics>>,
    /// Path 0 without impact, per asset.
    pub path0: Vec<Vec<f64>>,
    /// Path 0's market prices per policy, per asset.
    pub path0_market: Vec<Vec<Vec<f64>>>,
    /// Recorded Scalpel sequences, all paths.
    pub cases: Vec<ReplayCase>,
    /// Health evaluations done.
    pub evaluations: u64,
    /// Wall time, seconds.
    pub seconds: f64,
}

/// Runs every policy on every path, in parallel over paths; `progress(done, total)` after each.
pub fn simulate(s: &Setup, progress: &(dyn Fn(usize, usize) + Sync)) -> Result<MonteCarlo> {
    let t0 = Instant::now();
    let prep = Prepared::new(&s.prog, &s.pop, &s.cfg, s.assets())?;
    let paths = s.cfg.paths;
    let per_path = s.cfg.crosscheck_samples.div_ceil(paths) + 1;
    let done = AtomicUsize::new(0);
    struct PathOut {
        metrics: Vec<RunMetrics>,
        path: Option<Vec<Vec<f64>>>,
        market: Vec<Vec<Vec<f64>>>,
        cases: Vec<ReplayCase>,
        evaluations: u64,
    }
    let outs: Vec<PathOut> = (0..paths)
        .into_par_iter()
        .map(|p| -> Result<PathOut> {
            let mut rng = ChaCha8Rng::seed_from_u64(s.cfg.seed);
            rng.set_stream(p as u64 + 1);
            let path = s.model.draw(&mut rng);
            let mut out = PathOut {
                metrics: Vec::new(),
                path: None,
                market: Vec::new(),
                cases: Vec::new(),
                evaluations: 0,
            };
            for policy in Policy::ALL {
                let r = engine::run(
                    &prep,
                    &path,
                    &RunOptions {
                        path: p,
                        policy,
                        keep_prices: p == 0,
                        samples: if policy == Policy::Scalpel {
                            per_path
                        } else {
                            0
                        },
                        sample_seed: s.cfg.seed ^ SAMPLE_SEED,
                    },
                )
                .with_context(|| format!("path {p}, policy {}", policy.name()))?;
                out.metrics.push(r.metrics);
                out.market.extend(r.market_prices);
                out.cases.extend(r.cases);
                out.evaluations += r.evaluations;
            }
            if p == 0 {
                out.path = Some(path.prices);
            }
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, paths);
            Ok(out)
        })
        .collect::<Result<Vec<PathOut>>>()?;
    let mut mc = MonteCarlo {
        runs: vec![Vec::with_capacity(paths); Policy::ALL.len()],
        path0: Vec::new(),
        path0_market: Vec::new(),
        cases: Vec::new(),
        evaluations: 0,
        seconds: 0.0,
    };
    for o in outs {
        for (k, m) in o.metrics.into_iter().enumerate() {
            mc.runs[k].push(m);
        }
        if let Some(p) = o.path {
            mc.path0 = p;
            mc.path0_market = o.market;
        }
        mc.cases.extend(o.cases);
        mc.evaluations += o.evaluations;
    }
    mc.seconds = t0.elapsed().as_secs_f64();
    Ok(mc)
}

/// Recorded sequences to replay: shuffled with the seed, taken until `target` pairs.
pub fn select_cases(mut cases: Vec<ReplayCase>, target: usize, seed: u64) -> Vec<ReplayCase> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ SAMPLE_SEED);
    cases.sort_by_key(|c| (c.path, c.step, c.account));
    cases.shuffle(&mut rng);
    let mut pairs = 0;
    let mut out = Vec::new();
    for c in cases {
        if pairs >= target {
            break;
        }
        pairs += c.fills.len();
        out.push(c);
    }
    out
}

/// Replays `cases` against the program in an in-process bank.
pub fn crosscheck(s: &Setup, cases: &[ReplayCase]) -> Result<CrossCheck> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(crosscheck::replay(&s.prog, &s.cfg, cases))
}

/// One measure of one policy over the paths.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// The measure.
    pub metric: String,
    /// Its distribution.
    #[serde(flatten)]
    pub stat: Stat,
}

/// One policy's measures.
#[derive(Clone, Debug, Serialize)]
pub struct PolicyReport {
    /// The policy.
    pub policy: Policy,
    /// Measures, in report order.
    pub rows: Vec<Row>,
}

/// How fast it ran.
#[derive(Clone, Debug, Serialize)]
pub struct Speed {
    /// Monte Carlo wall time, seconds.
    pub seconds: f64,
    /// Cross-check wall time, seconds.
    pub crosscheck_seconds: f64,
    /// Accounts × steps × paths × policies simulated.
    pub account_steps: f64,
    /// `account_steps` per second of wall time.
    pub account_steps_per_second: f64,
    /// Health evaluations the triggers left to do.
    pub evaluations: u64,
    /// Worker threads.
    pub threads: usize,
}

/// The population at opening.
#[derive(Clone, Debug, Serialize)]
pub struct PopulationReport {
    /// Accounts.
    pub accounts: usize,
    /// Collateral, USD.
    pub collateral_usd: f64,
    /// Debt, USD.
    pub debt_usd: f64,
    /// Accounts per kind.
    pub kinds: Vec<(String, usize)>,
}

/// The whole result of `scalpel sim`.
#[derive(Clone, Debug, Serialize)]
pub struct SimReport {
    /// The configuration run.
    pub config: SimConfig,
    /// Path assets, leader first.
    pub assets: Vec<String>,
    /// Steps per path.
    pub steps: usize,
    /// Daily volatility used per asset and day.
    pub daily_vol: Vec<Vec<f64>>,
    /// Gap rules applied to the facts.
    pub filled: Vec<String>,
    /// The population.
    pub population: PopulationReport,
    /// Per policy.
    pub policies: Vec<PolicyReport>,
    /// The replay against the program.
    pub crosscheck: CrossCheck,
    /// Speed.
    pub speed: Speed,
}

/// The report of a finished Monte Carlo and its cross-check.
pub fn report(s: &Setup, mc: &MonteCarlo, cc: CrossCheck, crosscheck_seconds: f64) -> SimReport {
    let assets = s.assets();
    let policies = Policy::ALL
        .iter()
        .zip(&mc.runs)
        .map(|(&policy, runs)| {
            let table: Vec<Vec<(String, f64)>> =
                runs.iter().map(|m| metrics::rows(m, &assets)).collect();
            let names: Vec<String> = table
                .first()
                .map(|r| r.iter().map(|(n, _)| n.clone()).collect())
                .unwrap_or_default();
            let rows = names
                .into_iter()
                .enumerate()
                .map(|(k, metric)| Row {
                    metric,
                    stat: Stat::of(&table.iter().map(|r| r[k].1).collect::<Vec<f64>>()),
                })
                .collect();
            PolicyReport { policy, rows }
        })
        .collect();
    let account_steps =
        (s.pop.accounts.len() * s.model.steps() * s.cfg.paths * Policy::ALL.len()) as f64;
    let mut kinds: Vec<(String, usize)> = s
        .cfg
        .population
        .mix
        .iter()
        .map(|m| (m.name.clone(), 0))
        .collect();
    for a in &s.pop.accounts {
        kinds[a.kind].1 += 1;
    }
    SimReport {
        config: s.cfg.clone(),
        assets,
        steps: s.model.steps(),
        daily_vol: s.model.assets.iter().map(|a| a.daily_vol.clone()).collect(),
        filled: s
            .facts
            .assets
            .iter()
            .flat_map(|a| a.filled.iter().map(move |f| format!("{} {f}", a.asset)))
            .collect(),
        population: PopulationReport {
            accounts: s.pop.accounts.len(),
            collateral_usd: s.pop.collateral_usd,
            debt_usd: s.pop.debt_usd,
            kinds,
        },
        policies,
        crosscheck: cc,
        speed: Speed {
            seconds: mc.seconds,
            crosscheck_seconds,
            account_steps,
            account_steps_per_second: account_steps / mc.seconds.max(1e-9),
            evaluations: mc.evaluations,
            threads: rayon::current_num_threads(),
        },
    }
}

/// Setup, Monte Carlo and cross-check in one call (what `scalpel sim` runs).
pub fn run(
    cfg: SimConfig,
    base: Option<&std::path::Path>,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<(Setup, MonteCarlo, SimReport)> {
    let s = Setup::new(cfg, base)?;
    let mc = simulate(&s, progress)?;
    let cases = select_cases(mc.cases.clone(), s.cfg.crosscheck_samples, s.cfg.seed);
    let t0 = Instant::now();
    let cc =
        crosscheck(&s, &cases).map_err(|e| anyhow!("cross-check against the program: {e:#}"))?;
    let r = report(&s, &mc, cc, t0.elapsed().as_secs_f64());
    Ok((s, mc, r))
}
