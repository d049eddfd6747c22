//! The engine on cases worked by hand: one account on a known path under each policy, and a
//! market without impact, where liquidation sales cannot move the price.

use super::config::{ImpactModel, SimConfig};
use super::engine::{run, Prepared, RunOptions, RunResult};
use super::paths::Path;
use super::policy::Policy;
use super::population::{Population, SimAccount};
use super::program::SimProgram;
use super::{facts, oracle, presets, simulate, Setup};

/// SOL (9 decimals, wA 0.9, π 5%) and USDC (6 decimals, wL 1): docs/SPEC.md's example market.
fn config() -> SimConfig {
    let mut cfg = presets::preset("ftx_2022").unwrap();
    cfg.event.name = "t".into();
    cfg.markets.truncate(2);
    cfg.oracle.delay_steps = 0;
    cfg.oracle.conf_per_return = 0.0;
    cfg.liquidators.delay_steps = 0;
    cfg.liquidators.capital_usd = 1e9;
    cfg.impact.model = ImpactModel::None;
    cfg
}

/// One account of `sol` SOL against `usdc` USDC, on a path at 100 for 10 steps, then 80.
fn one_account(policy: Policy, sol: u64, usdc: u64) -> RunResult {
    let cfg = config();
    let f = facts::load(
        "event,asset,date,open,high,low,close\nt,SOL,2022-01-01,100,100,80,80\n",
        "test",
        "t",
    )
    .unwrap();
    let prog = SimProgram::build(&cfg, &f).unwrap();
    let t: Vec<_> = prog
        .markets
        .iter()
        .map(|m| oracle::publish(m, 100.0, 0.0, 0, &cfg.oracle).unwrap())
        .collect();
    let pop = Population {
        accounts: vec![SimAccount {
            positions: vec![
                prog.position(0, sol * 1_000_000_000, false, &t[0].price)
                    .unwrap(),
                prog.position(1, usdc * 1_000_000, true, &t[1].price)
                    .unwrap(),
            ],
            markets: vec![0, 1],
            kind: 0,
        }],
        collateral_usd: 0.0,
        debt_usd: 0.0,
    };
    let path = Path {
        prices: vec![[vec![100.0; 10], vec![80.0; 10]].concat()],
    };
    let prep = Prepared::new(&prog, &pop, &cfg, vec!["SOL".into()]).unwrap();
    run(
        &prep,
        &path,
        &RunOptions {
            path: 0,
            policy,
            keep_prices: true,
            samples: 4,
            sample_seed: 1,
        },
    )
    .unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6 * b.max(1.0)
}

#[test]
fn one_account_under_each_policy() {
    // docs/SPEC.md's example: 10 SOL at 80 against 750 USDC. Scalpel repays x = 45 / 0.075 = 600
    // USDC and seizes 600 · 1.05 / 80 = 7.875 SOL (7.725 / 0.09375 / 0.05625), once: the account
    // is back on its target and the price stays.
    let r = one_account(Policy::Scalpel, 10, 750);
    assert_eq!(r.metrics.liquidations, 1.0);
    assert_eq!(r.cases.len(), 1);
    let f = r.cases[0].fills[0];
    assert_eq!((f.asset, f.liab, f.repaid), (0, 1, 600_000_000));
    assert!((7_874_999_999..=7_875_000_000).contains(&f.seized), "{f:?}");
    assert!((93_749_999..=93_750_000).contains(&f.to_insurance), "{f:?}");
    assert!((56_249_999..=56_250_000).contains(&f.to_treasury), "{f:?}");
    assert_eq!(f.to_liquidator + f.to_insurance + f.to_treasury, f.seized);
    assert_eq!(r.cases[0].step, 10);
    assert!(close(r.metrics.repaid_usd, 600.0));
    assert!(close(r.metrics.collateral_taken_usd, 630.0));
    assert_eq!(r.metrics.accounts_wiped_out, 0.0);

    // Scalpel scaled (π_min 2%, π 5%, r_full 0.95): the health ratio 720 / 750 = 0.96 gives
    // π = 2% + 3% · 0.04 / 0.05 = 4.4%, κ = 1.02 − 1.044 · 0.9 = 0.0804 and x = 45 / 0.0804 =
    // 559.701493 USDC for S = x · 1.044 / 80 = 7.304104483 SOL (scenarios/partial_scaled.toml
    // checks the same plan in the bank).
    let r = one_account(Policy::ScalpelScaled, 10, 750);
    assert_eq!(r.metrics.liquidations, 1.0);
    assert!(r.cases.is_empty(), "only flat Scalpel is replayed");
    assert!(
        close(r.metrics.repaid_usd, 559.701493),
        "{}",
        r.metrics.repaid_usd
    );
    assert!(
        (r.metrics.collateral_taken_usd - 7.304104483 * 80.0).abs() < 1e-6,
        "{}",
        r.metrics.collateral_taken_usd
    );

    // Binary: all 750 USDC, 750 · 1.05 / 80 = 9.84375 SOL.
    let r = one_account(Policy::Binary, 10, 750);
    assert_eq!(r.metrics.liquidations, 1.0);
    assert!(close(r.metrics.repaid_usd, 750.0));
    assert!(close(r.metrics.collateral_taken_usd, 787.5));
    assert!(r.cases.is_empty());

    // Aave v3: health factor 720 / 750 = 0.96, but the collateral is worth 800 < 2 000 USD: the
    // whole debt, as binary.
    let r = one_account(Policy::AaveV3, 10, 750);
    assert_eq!(r.metrics.liquidations, 1.0);
    assert!(close(r.metrics.repaid_usd, 750.0));

    // Ten times larger, Aave takes half twice: 3 750 (A_maint 3 656.25 < L 3 750 still), then
    // 1 875 (A_maint 1 884.375 ≥ 1 875): 5 625 USDC for 73.828125 SOL. Scalpel: 6 000 for 78.75.
    let r = one_account(Policy::AaveV3, 100, 7_500);
    assert_eq!(r.metrics.liquidations, 2.0);
    assert!(close(r.metrics.repaid_usd, 5_625.0));
    assert!(close(r.metrics.collateral_taken_usd, 73.828125 * 80.0));
    let r = one_account(Policy::Scalpel, 100, 7_500);
    assert_eq!(r.metrics.liquidations, 1.0);
    assert_eq!(r.cases[0].fills[0].repaid, 6_000_000_000);

    // 20% close factor: a fifth of what is left each call until maintenance health is back
    // (1 500, 1 200, 960, 768, 614.4, 491.52: six calls, 5 533.92 USDC).
    let r = one_account(Policy::CloseFactor20, 100, 7_500);
    assert_eq!(r.metrics.liquidations, 6.0);
    assert!(close(r.metrics.repaid_usd, 5_533.92));
    assert!(close(r.metrics.penalties_usd, 5_533.92 * 0.05));
    // Every run: no impact, so the market price is the path's.
    let p = r.market_prices.unwrap();
    assert_eq!(p[0][12], 80.0);
}

#[test]
fn no_impact_means_no_cascade() {
    let mut cfg = presets::preset("ftx_2022").unwrap();
    cfg.accounts = 300;
    cfg.paths = 1;
    cfg.event.step_minutes = 15;
    cfg.impact.model = ImpactModel::None;
    let s = Setup::new(cfg.clone(), None).unwrap();
    let mc = simulate(&s, &|_, _| {}).unwrap();
    for (k, runs) in mc.runs.iter().enumerate() {
        assert!(runs[0].liquidations > 0.0, "policy {k} liquidated nothing");
        assert_eq!(runs[0].extra_drawdown_pct, vec![0.0]);
        assert_eq!(
            mc.path0_market[k], mc.path0,
            "policy {k}: the market price is the path's"
        );
    }
    // The same population and path with a thin market: the sales push the price lower.
    cfg.impact.model = ImpactModel::Linear;
    cfg.impact.bps_per_pct_volume = 20_000.0;
    let s = Setup::new(cfg, None).unwrap();
    let thin = simulate(&s, &|_, _| {}).unwrap();
    assert!(thin.runs.iter().all(|r| r[0].extra_drawdown_pct[0] > 0.0));
}
