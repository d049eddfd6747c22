//! `scalpel sim [FILE] [--preset NAME] [--paths N] [--accounts N] [--seed S] [--json]
//! [--out DIR]`: the crash simulation (docs/SIMULATION.md). Prints the policies side by side
//! (mean, p95 and p99 over paths), the cross-check count and the speed; `--json` prints the whole
//! report instead; `--out` also writes `report.json`, `summary.md` and the SVG plots.

use anyhow::{Context, Result};
use clap::Args;
use scalpel_client::sim::{self, config::SimConfig, SimReport};
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `sim`.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// A simulation file (TOML) overriding the preset; its own `preset` key, if any, picks the
    /// base (docs/SIMULATION.md lists every key).
    pub file: Option<PathBuf>,
    /// The crash: ftx_2022, may_2021 or mar_2020.
    #[arg(long, default_value = "ftx_2022")]
    pub preset: String,
    /// Monte Carlo paths (every policy runs on each).
    #[arg(long)]
    pub paths: Option<usize>,
    /// Accounts in the population.
    #[arg(long)]
    pub accounts: Option<usize>,
    /// Seed of every random draw.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Scalpel liquidations replayed against the program (default 60).
    #[arg(long)]
    pub crosscheck: Option<usize>,
    /// Print the whole report as one JSON document.
    #[arg(long)]
    pub json: bool,
    /// Write report.json, summary.md and the plots (SVG) into this folder.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also show the program's own log lines from the cross-check's replay, on stderr.
    #[arg(short, long)]
    pub verbose: bool,
}

/// The configuration the arguments describe.
pub fn config(args: &SimArgs) -> Result<(SimConfig, Option<PathBuf>)> {
    let (mut cfg, base) = SimConfig::load(&args.preset, args.file.as_deref())?;
    if let Some(p) = args.paths {
        cfg.paths = p;
    }
    if let Some(a) = args.accounts {
        cfg.accounts = a;
    }
    if let Some(s) = args.seed {
        cfg.seed = s;
    }
    if let Some(c) = args.crosscheck {
        cfg.crosscheck_samples = c;
    }
    Ok((cfg, base))
}

/// Runs the simulation.
pub fn execute(args: &SimArgs) -> Result<()> {
    let (cfg, base) = config(args)?;
    // The replay runs the program in this process, which prints its log lines on standard
    // output: to stderr with --verbose, nowhere otherwise.
    let guard = if args.verbose {
        crate::stdout_guard::StdoutGuard::redirect()?
    } else {
        crate::stdout_guard::StdoutGuard::discard()?
    };
    // indicatif draws on stderr only when it is a terminal (hidden otherwise).
    let bar = if args.json {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(cfg.paths as u64).with_style(
            indicatif::ProgressStyle::with_template("simulating {bar:30} {pos}/{len} paths")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        )
    };
    let progress = |done: usize, _total: usize| bar.set_position(done as u64);
    let result = sim::run(cfg, base.as_deref(), &progress);
    bar.finish_and_clear();
    let mut out = guard.out()?;
    drop(guard);
    let (setup, mc, report) = result?;
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the output folder {}", dir.display()))?;
        std::fs::write(
            dir.join("report.json"),
            serde_json::to_string_pretty(&report)?,
        )?;
        std::fs::write(dir.join("summary.md"), markdown(&report))?;
        crate::sim_plots::write_all(dir, &setup, &mc, &report)
            .with_context(|| format!("writing the plots into {}", dir.display()))?;
    }
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        print_human(&mut out, &report)?;
        if let Some(dir) = &args.out {
            writeln!(
                out,
                "report, summary and plots written to {}",
                dir.display()
            )?;
        }
    }
    Ok(())
}

/// A value for a table cell: USD compactly, percentages with two decimals, counts whole.
pub fn cell(metric: &str, v: f64) -> String {
    if metric.contains("(USD)") {
        let a = v.abs();
        if a >= 1e9 {
            format!("{:.2}B", v / 1e9)
        } else if a >= 1e6 {
            format!("{:.2}M", v / 1e6)
        } else if a >= 1e3 {
            format!("{:.1}k", v / 1e3)
        } else {
            format!("{v:.2}")
        }
    } else if metric.contains('%') {
        format!("{v:.2}")
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// The table as rows of cells: each measure's mean, p95 and p99 per policy.
pub fn table(r: &SimReport) -> (Vec<String>, Vec<Vec<String>>) {
    let mut head = vec!["measure".to_string(), "".to_string()];
    head.extend(r.policies.iter().map(|p| p.policy.name().to_string()));
    let mut rows = Vec::new();
    let n = r.policies.first().map_or(0, |p| p.rows.len());
    for k in 0..n {
        let metric = &r.policies[0].rows[k].metric;
        for (stat, pick) in [("mean", 0usize), ("p95", 1), ("p99", 2)] {
            let mut row = vec![
                if pick == 0 {
                    metric.clone()
                } else {
                    String::new()
                },
                stat.to_string(),
            ];
            for p in &r.policies {
                let s = p.rows[k].stat;
                row.push(cell(metric, [s.mean, s.p95, s.p99][pick]));
            }
            rows.push(row);
        }
    }
    (head, rows)
}

fn header(r: &SimReport) -> String {
    format!(
        "{} ({}): {} accounts ({:.1}M USD collateral, {:.1}M USD debt), {} paths of {} steps of {} min",
        r.config.event.name,
        r.assets.join(", "),
        r.population.accounts,
        r.population.collateral_usd / 1e6,
        r.population.debt_usd / 1e6,
        r.config.paths,
        r.steps,
        r.config.event.step_minutes,
    )
}

fn crosscheck_line(r: &SimReport) -> String {
    let c = &r.crosscheck;
    format!(
        "cross-check: {} of {} replayed Scalpel liquidations ({} sequences) repaid and seized exactly what the simulation planned",
        c.agreed, c.replayed, c.cases
    )
}

fn speed_line(r: &SimReport) -> String {
    let s = &r.speed;
    format!(
        "speed: {:.1} s for {:.3e} account-steps ({:.3e}/s, {} health evaluations, {} threads); cross-check {:.1} s",
        s.seconds, s.account_steps, s.account_steps_per_second, s.evaluations, s.threads, s.crosscheck_seconds
    )
}

fn print_human(out: &mut impl Write, r: &SimReport) -> std::io::Result<()> {
    writeln!(out, "{}", header(r))?;
    let (head, rows) = table(r);
    let mut widths: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (i, c) in row.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: &[String]| -> String {
        cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| {
                if i == 0 {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    writeln!(out, "  {}", line(&head))?;
    for row in &rows {
        writeln!(out, "  {}", line(row))?;
    }
    writeln!(out, "{}", crosscheck_line(r))?;
    for n in r.crosscheck.notes.iter().take(10) {
        writeln!(out, "  {n}")?;
    }
    writeln!(out, "{}", speed_line(r))
}

/// The table as Markdown (what docs/SIMULATION.md quotes).
pub fn markdown(r: &SimReport) -> String {
    let (head, rows) = table(r);
    let mut s = format!("{}\n\n", header(r));
    s.push_str(&format!("| {} |\n", head.join(" | ")));
    s.push_str(&format!(
        "|{}|\n",
        head.iter()
            .enumerate()
            .map(|(i, _)| if i < 2 { "---" } else { "---:" })
            .collect::<Vec<_>>()
            .join("|")
    ));
    for row in rows {
        s.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    s.push_str(&format!(
        "\n{}.\n\n{}.\n",
        crosscheck_line(r),
        speed_line(r)
    ));
    s
}
