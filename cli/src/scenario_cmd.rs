//! `scalpel scenario run FILE [--json]`: runs a scenario file against the program in-process and
//! prints each step's result as a readable table (or one JSON document).

use anyhow::Result;
use clap::Args;
use scalpel_client::scenario::{run, Scenario};
use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `scenario run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario file (`.toml` or `.json`; schema in docs/SCENARIOS.md).
    pub file: PathBuf,
    /// Print one JSON document `{"steps": [...]}` instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Also show the program's own log lines (`Program log: Instruction: …`), on stderr.
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

/// Runs the file.
pub fn execute(args: &RunArgs) -> Result<()> {
    let scenario = Scenario::load(&args.file)?;
    run_and_print(
        &scenario,
        &args.file.display().to_string(),
        args.json,
        args.verbose,
    )
}

/// Runs a loaded scenario and prints it (shared with `scalpel demo`). The program runs in this
/// process and prints its log lines on standard output: they go to stderr with `verbose`,
/// nowhere otherwise. The step progress is drawn only on a terminal.
pub fn run_and_print(scenario: &Scenario, name: &str, json: bool, verbose: bool) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let guard = if verbose {
        crate::stdout_guard::StdoutGuard::redirect()?
    } else {
        crate::stdout_guard::StdoutGuard::discard()?
    };
    // indicatif draws on stderr only when it is a terminal (hidden otherwise).
    let bar = if json {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(0).with_style(
            indicatif::ProgressStyle::with_template("{msg} {bar:30} {pos}/{len} steps")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        )
    };
    bar.set_message(format!("running {name}"));
    let report = rt.block_on(run(scenario, |i, n| {
        bar.set_length(n as u64);
        bar.set_position(i as u64 + 1);
    }));
    bar.finish_and_clear();
    let mut out = guard.out()?;
    drop(guard);
    let report = report?;
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        print_human(&mut out, name, &report)?;
    }
    Ok(())
}

fn s(v: &Value) -> String {
    match v {
        Value::String(x) => x.clone(),
        Value::Null => "∞".into(),
        other => other.to_string(),
    }
}

fn row(cells: &[String], widths: &[usize]) -> String {
    cells
        .iter()
        .zip(widths)
        .map(|(c, w)| format!("{c:>w$}"))
        .collect::<Vec<_>>()
        .join("  ")
}

fn table(out: &mut impl Write, head: &[&str], rows: &[Vec<String>]) -> std::io::Result<()> {
    let mut widths: Vec<usize> = head.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let h: Vec<String> = head.iter().map(|x| x.to_string()).collect();
    writeln!(out, "    {}", row(&h, &widths))?;
    for r in rows {
        writeln!(out, "    {}", row(r, &widths))?;
    }
    Ok(())
}

/// `{init, maint, end, ratio}` on one line, or why it could not be computed.
fn health_line(h: &Value) -> String {
    match h.get("error") {
        Some(e) => format!("unpriced: {}", s(e)),
        None => format!(
            "init {} / maint {} / end {} USD, ratio {}",
            s(&h["init"]),
            s(&h["maint"]),
            s(&h["end"]),
            s(&h["ratio"])
        ),
    }
}

/// A market's parameters (as `set_params` reports them) on one line.
fn params_line(p: &Value) -> String {
    let c = &p["interest"];
    format!(
        "asset weights {}/{}, liab weights {}/{}, penalty {} bps, conf ≤ {} bps, ages {}/{} s, caps {}/{}, interest kink {} base {} slopes {}/{}",
        s(&p["asset_weight_init"]),
        s(&p["asset_weight_maint"]),
        s(&p["liab_weight_init"]),
        s(&p["liab_weight_maint"]),
        s(&p["liquidation_penalty_bps"]),
        s(&p["max_conf_bps"]),
        s(&p["max_age_secs"]),
        s(&p["max_age_liquidation_secs"]),
        s(&p["deposit_cap"]),
        s(&p["borrow_cap"]),
        s(&c["optimal_utilization"]),
        s(&c["base_rate"]),
        s(&c["slope1"]),
        s(&c["slope2"]),
    )
}

fn print_human(out: &mut impl Write, name: &str, report: &Value) -> std::io::Result<()> {
    writeln!(out, "scenario {name}")?;
    let empty = Vec::new();
    for (i, st) in report["steps"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .enumerate()
    {
        let kind = s(&st["kind"]);
        let ok = st["ok"].as_bool().unwrap_or(false);
        let status = if ok {
            "ok".to_string()
        } else {
            format!("REFUSED: {}", s(&st["error"]))
        };
        match kind.as_str() {
            "set_price" => writeln!(
                out,
                "\n{:>2}. set_price {} = {} USD",
                i + 1,
                s(&st["symbol"]),
                s(&st["price"])
            )?,
            "advance_time" => writeln!(
                out,
                "\n{:>2}. advance_time {} s (now {})",
                i + 1,
                s(&st["seconds"]),
                s(&st["unix_time"])
            )?,
            "liquidate" => {
                writeln!(
                    out,
                    "\n{:>2}. liquidate {} ({} collateral, {} debt): {status}",
                    i + 1,
                    s(&st["account"]),
                    s(&st["asset"]),
                    s(&st["liab"])
                )?;
                let hb = &st["health_before"];
                let ha = &st["health_after"];
                if hb.is_object() {
                    let mut rows = vec![vec![
                        "before".into(),
                        s(&hb["maint"]),
                        s(&hb["end"]),
                        s(&hb["ratio"]),
                    ]];
                    if ha.is_object() {
                        rows.push(vec![
                            "after".into(),
                            s(&ha["maint"]),
                            s(&ha["end"]),
                            s(&ha["ratio"]),
                        ]);
                    }
                    table(out, &["health", "maint USD", "end USD", "ratio"], &rows)?;
                }
                if ok {
                    writeln!(out)?;
                    table(
                        out,
                        &[
                            "repaid",
                            "seized",
                            "to liquidator",
                            "to insurance",
                            "to treasury",
                            "π_e",
                        ],
                        &[vec![
                            format!("{} {}", s(&st["repaid"]), s(&st["liab"])),
                            format!("{} {}", s(&st["seized"]), s(&st["asset"])),
                            s(&st["to_liquidator"]),
                            s(&st["to_insurance"]),
                            s(&st["to_treasury"]),
                            s(&st["penalty_effective"]),
                        ]],
                    )?;
                }
                let alt = &st["alternatives"];
                if alt.is_object() {
                    writeln!(out)?;
                    let mut rows = Vec::new();
                    if ok {
                        rows.push(vec![
                            "Scalpel (partial)".into(),
                            s(&st["repaid"]),
                            s(&st["seized"]),
                        ]);
                    }
                    rows.push(vec![
                        "full liquidation".into(),
                        s(&alt["full"]["repaid"]),
                        s(&alt["full"]["seized"]),
                    ]);
                    rows.push(vec![
                        "50% close factor".into(),
                        s(&alt["close_factor_50"]["repaid"]),
                        s(&alt["close_factor_50"]["seized"]),
                    ]);
                    table(out, &["design", "repaid", "seized"], &rows)?;
                }
            }
            "bad_debt_resolve" => {
                writeln!(
                    out,
                    "\n{:>2}. bad_debt_resolve {} in {}: {status}",
                    i + 1,
                    s(&st["account"]),
                    s(&st["market"])
                )?;
                if ok {
                    table(
                        out,
                        &[
                            "debt",
                            "covered by insurance",
                            "socialized",
                            "deficit",
                            "deposit index",
                        ],
                        &[vec![
                            s(&st["debt"]),
                            s(&st["covered"]),
                            s(&st["socialized"]),
                            s(&st["deficit"]),
                            s(&st["deposit_index"]),
                        ]],
                    )?;
                }
            }
            "snapshot" => {
                writeln!(out, "\n{:>2}. snapshot", i + 1)?;
                let mut rows = Vec::new();
                for a in st["accounts"].as_array().unwrap_or(&empty) {
                    let balances = a["balances"]
                        .as_object()
                        .map(|m| {
                            m.iter()
                                .map(|(k, v)| format!("{} {k}", s(v)))
                                .collect::<Vec<_>>()
                                .join(", ")
                        })
                        .unwrap_or_default();
                    let h = &a["health"];
                    let (maint, end, ratio) = match h.get("error") {
                        Some(e) => (format!("unpriced: {}", s(e)), "-".into(), "-".into()),
                        None => (s(&h["maint"]), s(&h["end"]), s(&h["ratio"])),
                    };
                    rows.push(vec![
                        s(&a["name"]),
                        if balances.is_empty() {
                            "-".into()
                        } else {
                            balances
                        },
                        maint,
                        end,
                        ratio,
                        if a["being_liquidated"].as_bool().unwrap_or(false) {
                            "yes".into()
                        } else {
                            "no".into()
                        },
                    ]);
                }
                table(
                    out,
                    &[
                        "account",
                        "balances",
                        "maint USD",
                        "end USD",
                        "ratio",
                        "liquidating",
                    ],
                    &rows,
                )?;
                writeln!(out)?;
                let rows: Vec<Vec<String>> = st["markets"]
                    .as_array()
                    .unwrap_or(&empty)
                    .iter()
                    .map(|m| {
                        vec![
                            s(&m["symbol"]),
                            s(&m["vault"]),
                            s(&m["insurance"]),
                            s(&m["treasury"]),
                            s(&m["deposit_index"]),
                            s(&m["borrow_index"]),
                            s(&m["deficit"]),
                        ]
                    })
                    .collect();
                table(
                    out,
                    &[
                        "market",
                        "vault",
                        "insurance",
                        "treasury",
                        "deposit idx",
                        "borrow idx",
                        "deficit",
                    ],
                    &rows,
                )?;
            }
            "say" => writeln!(out, "\n== {}", s(&st["text"]))?,
            "deposit" | "withdraw" | "borrow" | "repay" => {
                let market = s(&st["market"]);
                let done = if ok {
                    format!("ok ({} {market})", s(&st["moved"]))
                } else {
                    status
                };
                let flag = if st["being_liquidated"].as_bool().unwrap_or(false) {
                    ", being liquidated"
                } else {
                    ""
                };
                writeln!(
                    out,
                    "\n{:>2}. {kind} {} {} {market}: {done}; balance {} {market}, health {}{flag}",
                    i + 1,
                    s(&st["account"]),
                    s(&st["amount"]),
                    s(&st["balance_after"]),
                    health_line(&st["health_after"]),
                )?
            }
            "set_params" => {
                let when = if ok {
                    let shift = match st["shift_end"].as_i64() {
                        Some(end) => format!(
                            "; maint weights shift until {end}, penalty {} bps until then",
                            s(&st["penalty_bps_in_force"])
                        ),
                        None => String::new(),
                    };
                    format!(
                        "ok, queued at {}, applied at {}{shift}",
                        s(&st["queued_at"]),
                        s(&st["applied_at"])
                    )
                } else {
                    status
                };
                writeln!(
                    out,
                    "\n{:>2}. set_params {}: {when}",
                    i + 1,
                    s(&st["market"])
                )?;
                writeln!(out, "    {}", params_line(&st["params"]))?;
            }
            "keeper" => {
                let sm = &st["summary"];
                writeln!(
                    out,
                    "\n{:>2}. keeper pass: {} accounts scanned, {} liquidatable, {} liquidations, {} bad debts resolved; repaid {} USD, liquidator bonus {} USD",
                    i + 1,
                    s(&sm["scanned"]),
                    s(&sm["liquidatable"]),
                    s(&sm["liquidations"]),
                    s(&sm["bad_debt_resolved"]),
                    s(&sm["repaid_usd"]),
                    s(&sm["bonus_usd"])
                )?;
                let rows: Vec<Vec<String>> = st["liquidations"]
                    .as_array()
                    .unwrap_or(&empty)
                    .iter()
                    .map(|l| {
                        vec![
                            s(&l["account"]),
                            format!("{} {}", s(&l["repaid"]), s(&l["liab"])),
                            format!("{} {}", s(&l["seized"]), s(&l["asset"])),
                            s(&l["to_liquidator"]),
                            s(&l["to_insurance"]),
                            s(&l["to_treasury"]),
                            s(&l["end_after"]),
                            match l.get("full") {
                                Some(f) => format!("{} / {}", s(&f["repaid"]), s(&f["seized"])),
                                None => "-".into(),
                            },
                        ]
                    })
                    .collect();
                if !rows.is_empty() {
                    table(
                        out,
                        &[
                            "account",
                            "repaid",
                            "seized",
                            "to liquidator",
                            "to insurance",
                            "to treasury",
                            "end after",
                            "full liquidation: repaid / seized",
                        ],
                        &rows,
                    )?;
                }
            }
            other => writeln!(out, "\n{:>2}. {other}: {status}", i + 1)?,
        }
    }
    Ok(())
}
