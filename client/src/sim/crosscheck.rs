//! The cross-check: recorded Scalpel liquidations replayed as real transactions against the
//! program in-process (the scenario runner's bank: real SPL Token, real `PriceUpdateV2`
//! accounts). Each case's account is opened through real `deposit` and `borrow` instructions at
//! prices that make the borrow acceptable, the case's publications are then written exactly
//! (mantissa, exponent, confidence), and each of its pairs is liquidated with the `max_repay` the
//! simulation passed. The `LiquidationEvent`'s repaid, seized and three parts must equal the
//! simulation's plan to the native unit.

use super::config::SimConfig;
use super::engine::ReplayCase;
use super::oracle::Tick;
use super::program::SimProgram;
use crate::scenario::{AccountSpec, BalanceStep, MarketSpec, Runner, Scenario, Step};
use crate::units::format_amount;
use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// What the replay found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CrossCheck {
    /// Liquidations (pairs) replayed.
    pub replayed: usize,
    /// Of those, the ones whose event matched the simulation in every amount.
    pub agreed: usize,
    /// Sequences replayed.
    pub cases: usize,
    /// Sequences whose account the program would not open (listed in `notes`).
    pub not_opened: usize,
    /// Disagreements and refusals, described.
    pub notes: Vec<String>,
}

/// A price as the decimal string that `set_price` turns back into exactly this mantissa and
/// exponent.
fn decimal(mantissa: i64, expo: i32) -> String {
    let places = u8::try_from(expo.unsigned_abs()).unwrap_or(8);
    format_amount(mantissa.max(0) as u64, places)
}

fn set_price(symbol: &str, t: &Tick, conf: bool) -> Step {
    Step::SetPrice {
        symbol: symbol.to_string(),
        price: decimal(t.mantissa, t.expo),
        conf: Some(if conf {
            format_amount(t.conf, u8::try_from(t.expo.unsigned_abs()).unwrap_or(8))
        } else {
            "0".into()
        }),
        ema: None,
        ema_conf: None,
    }
}

fn balance(account: &str, symbol: &str, native: u64, decimals: u8) -> BalanceStep {
    BalanceStep {
        account: account.to_string(),
        market: symbol.to_string(),
        amount: format_amount(native, decimals),
    }
}

fn ok(v: &Value) -> bool {
    v["ok"].as_bool() == Some(true)
}

/// The bank's scenario: the simulation's protocol and markets, a lender holding enough of every
/// token for the cases' borrows, and one empty account per case.
fn scenario(prog: &SimProgram, cfg: &SimConfig, cases: &[ReplayCase]) -> Scenario {
    let mut lend: BTreeMap<usize, u64> = BTreeMap::new();
    for c in cases {
        for &(m, _, debt) in &c.balances {
            let e = lend.entry(m).or_default();
            *e = e.saturating_add(debt);
        }
    }
    let lender = AccountSpec {
        name: "lender".into(),
        deposits: lend
            .iter()
            .filter(|(_, v)| **v > 0)
            .map(|(&m, &v)| {
                let d = prog.markets[m].decimals;
                let one = 10u64.saturating_pow(u32::from(d));
                (
                    prog.markets[m].symbol.clone(),
                    format_amount(v.saturating_add(one), d),
                )
            })
            .collect(),
        borrows: BTreeMap::new(),
    };
    let mut accounts = vec![lender];
    accounts.extend((0..cases.len()).map(|i| AccountSpec {
        name: format!("case{i}"),
        deposits: BTreeMap::new(),
        borrows: BTreeMap::new(),
    }));
    Scenario {
        protocol: cfg.protocol.clone(),
        migration: None,
        migration_config: None,
        insurance: BTreeMap::new(),
        markets: cfg
            .markets
            .iter()
            .map(|c| MarketSpec {
                symbol: c.symbol.clone(),
                decimals: c.decimals,
                price: c.price.clone().unwrap_or_else(|| "100".into()),
                conf: "0".into(),
                insurance: None,
                params: c.params.clone(),
            })
            .collect(),
        accounts,
        steps: Vec::new(),
    }
}

/// Replays `cases` and compares.
pub async fn replay(
    prog: &SimProgram,
    cfg: &SimConfig,
    cases: &[ReplayCase],
) -> Result<CrossCheck> {
    let mut out = CrossCheck::default();
    if cases.is_empty() {
        return Ok(out);
    }
    let runner = Runner::setup(&scenario(prog, cfg, cases))
        .await
        .context("setting up the replay bank")?;
    let sym = |m: usize| prog.markets[m].symbol.as_str();
    for (k, c) in cases.iter().enumerate() {
        let name = format!("case{k}");
        let at = format!("path {} step {} account {}", c.path, c.step, c.account);
        // Open at prices that make the borrow acceptable: deposits dear, debts cheap.
        for (m, t) in c.ticks.iter().enumerate() {
            let held = c.balances.iter().find(|b| b.0 == m);
            let factor = match held {
                Some(&(_, d, _)) if d > 0 => 100,
                Some(&(_, _, b)) if b > 0 => -100,
                _ => 1,
            };
            let mantissa = match factor {
                100 => t.mantissa.saturating_mul(100),
                -100 => (t.mantissa / 100).max(1),
                _ => t.mantissa,
            };
            let safe = Tick { mantissa, ..*t };
            runner.step(&set_price(sym(m), &safe, false)).await?;
        }
        let mut opened = true;
        for borrow in [false, true] {
            for &(m, dep, debt) in &c.balances {
                let d = prog.markets[m].decimals;
                let step = match (borrow, dep, debt) {
                    (false, dep, _) if dep > 0 => Step::Deposit(balance(&name, sym(m), dep, d)),
                    (true, _, debt) if debt > 0 => Step::Borrow(balance(&name, sym(m), debt, d)),
                    _ => continue,
                };
                let v = runner.step(&step).await?;
                if !ok(&v) {
                    opened = false;
                    out.notes
                        .push(format!("{at}: opening refused: {}", v["error"]));
                }
            }
        }
        if !opened {
            out.not_opened += 1;
            continue;
        }
        for (m, t) in c.ticks.iter().enumerate() {
            runner.step(&set_price(sym(m), t, true)).await?;
        }
        out.cases += 1;
        for f in &c.fills {
            let (di, dj) = (
                prog.markets[f.asset].decimals,
                prog.markets[f.liab].decimals,
            );
            let step = Step::Liquidate {
                account: name.clone(),
                asset: sym(f.asset).to_string(),
                liab: sym(f.liab).to_string(),
                max_repay: (f.max_repay != u64::MAX).then(|| format_amount(f.max_repay, dj)),
                mode: None,
                liquidator: None,
            };
            let v = runner.step(&step).await?;
            out.replayed += 1;
            let want = [
                ("repaid", format_amount(f.repaid, dj)),
                ("seized", format_amount(f.seized, di)),
                ("to_liquidator", format_amount(f.to_liquidator, di)),
                ("to_insurance", format_amount(f.to_insurance, di)),
                ("to_treasury", format_amount(f.to_treasury, di)),
            ];
            let differ: Vec<String> = want
                .iter()
                .filter(|(k, w)| v[*k].as_str() != Some(w.as_str()))
                .map(|(k, w)| format!("{k} {} (simulated {w})", v[*k]))
                .collect();
            if ok(&v) && differ.is_empty() {
                out.agreed += 1;
            } else if !ok(&v) {
                out.notes.push(format!(
                    "{at}: {}/{} refused by the program: {}",
                    sym(f.asset),
                    sym(f.liab),
                    v["error"]
                ));
            } else {
                out.notes.push(format!(
                    "{at}: {}/{}: {}",
                    sym(f.asset),
                    sym(f.liab),
                    differ.join(", ")
                ));
            }
        }
    }
    Ok(out)
}
