//! Runs every example scenario through the real binary (`--json`) and checks the numbers DESIGN
//! section 6 and 7 predict, to the native unit where the formula is exact.

use serde_json::Value;
use std::process::Command;

fn run(file: &str) -> Vec<Value> {
    let path = format!("{}/../scenarios/{file}", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_scalpel"))
        .args(["scenario", "run", &path, "--json"])
        .output()
        .expect("run scalpel");
    assert!(
        out.status.success(),
        "{file}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    v["steps"].as_array().expect("steps").clone()
}

/// A UI decimal string as native units.
fn native(v: &Value, decimals: u32) -> i128 {
    let s = v.as_str().unwrap_or_else(|| panic!("not a string: {v}"));
    let (neg, s) = s.strip_prefix('-').map(|r| (true, r)).unwrap_or((false, s));
    let (i, f) = s.split_once('.').unwrap_or((s, ""));
    assert_eq!(f.len() as u32, decimals, "{s} has full native precision");
    let n: i128 = format!("{i}{f}").parse().unwrap();
    if neg {
        -n
    } else {
        n
    }
}

fn usd(v: &Value) -> f64 {
    v.as_str().unwrap().parse().unwrap()
}

fn shares_add_up(step: &Value, decimals: u32) {
    let seized = native(&step["seized"], decimals);
    let parts = native(&step["to_liquidator"], decimals)
        + native(&step["to_insurance"], decimals)
        + native(&step["to_treasury"], decimals);
    assert_eq!(parts, seized, "exact conservation: {step}");
}

#[test]
fn partial_liquidation_restores_the_target() {
    let steps = run("partial.toml");
    let l = &steps[2];
    assert_eq!(l["kind"], "liquidate");
    assert_eq!(l["ok"], true);
    // x = 45 / 0.075 = 600 USDC; S = 600 · 1.05 / 80 = 7.875 SOL; insurance 1.25%, treasury 0.75%.
    assert_eq!(native(&l["repaid"], 6), 600_000_000);
    // Floors may land one lamport low: 1.05 and 0.0125 are not binary fractions.
    let s = native(&l["seized"], 9);
    assert!((7_874_999_999..=7_875_000_000).contains(&s), "{s}");
    let ins = native(&l["to_insurance"], 9);
    assert!((93_749_999..=93_750_000).contains(&ins), "{ins}");
    shares_add_up(l, 9);
    assert_eq!(l["health_after"]["end"], "0.000000");
    assert_eq!(l["health_before"]["end"], "-45.000000");
    // Against a full (750 USDC, 9.84375 SOL) and a 50% close-factor (375 USDC) liquidation.
    assert_eq!(native(&l["alternatives"]["full"]["repaid"], 6), 750_000_000);
    assert_eq!(
        native(&l["alternatives"]["close_factor_50"]["repaid"], 6),
        375_000_000
    );
    assert_eq!(l["being_liquidated"], false);
}

#[test]
fn chained_pairs() {
    let steps = run("chained.toml");
    assert_eq!(native(&steps[1]["seized"], 9), 1_000_000_000, "all the SOL");
    assert_eq!(steps[1]["being_liquidated"], true);
    shares_add_up(&steps[1], 9);
    assert_eq!(steps[2]["ok"], true);
    shares_add_up(&steps[2], 8);
    // Within one native unit of each side: 1e-6 USDC and 1e-8 ETH at 800 USD.
    let end = usd(&steps[2]["health_after"]["end"]);
    assert!((0.0..0.00001).contains(&end), "{end}");
    assert_eq!(steps[2]["being_liquidated"], false);
}

#[test]
fn dust_debt_is_repaid_whole() {
    let steps = run("dust.toml");
    assert_eq!(native(&steps[1]["repaid"], 6), 750_000_000);
    let alice = &steps[2]["accounts"][1];
    assert!(
        alice["balances"].get("USDC").is_none(),
        "debt position closed: {alice}"
    );
}

#[test]
fn bad_debt_is_covered_then_socialized() {
    let steps = run("bad_debt.toml");
    let l = &steps[1];
    assert_eq!(native(&l["seized"], 9), 10_000_000_000);
    assert_eq!(
        native(&l["to_insurance"], 9),
        0,
        "surplus cap: no protocol cut when insolvent"
    );
    assert_eq!(native(&l["to_treasury"], 9), 0);
    let b = &steps[2];
    assert_eq!(b["ok"], true);
    let debt = native(&b["debt"], 6);
    assert_eq!(debt, 750_000_000 - native(&l["repaid"], 6));
    assert_eq!(native(&b["covered"], 6), 100_000_000);
    assert_eq!(native(&b["socialized"], 6), debt - 100_000_000);
    assert_eq!(native(&b["deficit"], 6), 0);
    // 10 SOL at 50 for x = ceil(500 / 1.03) USDC: 485.436894 (dust rule: all the collateral).
    assert_eq!(native(&l["repaid"], 6), 485_436_894);
    assert_eq!(native(&b["socialized"], 6), 164_563_106);
    let index: f64 = b["deposit_index"].as_str().unwrap().parse().unwrap();
    let expected = 1.0 - (debt - 100_000_000) as f64 / 100_000_000_000.0;
    assert!((index - expected).abs() < 1e-12, "{index} vs {expected}");
}

#[test]
fn hysteresis_continues_only_started_liquidations() {
    let steps = run("hysteresis.toml");
    assert_eq!(native(&steps[1]["repaid"], 6), 100_000_000);
    assert_eq!(steps[1]["being_liquidated"], true);
    let snap = &steps[3]["accounts"];
    assert_eq!(snap[1]["being_liquidated"], true);
    assert!(usd(&snap[1]["health"]["maint"]) >= 0.0 && usd(&snap[1]["health"]["end"]) < 0.0);
    assert!(usd(&snap[2]["health"]["maint"]) >= 0.0 && usd(&snap[2]["health"]["end"]) < 0.0);
    assert_eq!(steps[4]["ok"], true);
    assert!(usd(&steps[4]["health_after"]["end"]) >= 0.0);
    assert_eq!(steps[5]["ok"], false);
    assert_eq!(steps[5]["error"], "NotLiquidatable");
}

#[test]
fn refusals_are_named() {
    let steps = run("refusal.toml");
    let errors: Vec<&str> = steps
        .iter()
        .filter(|s| s["ok"] == false)
        .map(|s| s["error"].as_str().unwrap())
        .collect();
    assert_eq!(
        errors,
        [
            "NotLiquidatable",
            "LiquidationSameMarket",
            "BadDebtNotEligible",
            "OracleStale"
        ]
    );
    // Nothing moved: alice still holds 10 SOL and owes 750 USDC.
    let alice = &steps[6]["accounts"][1];
    assert_eq!(native(&alice["balances"]["SOL"], 9), 10_000_000_000);
    assert_eq!(native(&alice["balances"]["USDC"], 6), -750_000_000);
}

#[test]
fn human_output_is_a_table() {
    let path = format!("{}/../scenarios/partial.toml", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_scalpel"))
        .args(["scenario", "run", &path])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("liquidate alice (SOL collateral, USDC debt): ok"),
        "{text}"
    );
    assert!(text.contains("full liquidation"));
    assert!(
        !text.contains("Instruction:"),
        "program logs stay off stdout"
    );
}

#[test]
fn bad_files_get_helpful_errors() {
    let out = Command::new(env!("CARGO_BIN_EXE_scalpel"))
        .args(["scenario", "run", "/nonexistent.toml"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read scenario file"));
}

#[test]
fn admin_apply_needs_a_reachable_cluster_and_says_so() {
    let path = format!("{}/../migrations/devnet.toml", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_scalpel"))
        .args([
            "admin",
            "apply",
            &path,
            "--rpc",
            "http://127.0.0.1:9",
            "--admin",
            "11111111111111111111111111111111",
            "--print-only",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("127.0.0.1:9"), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_scalpel"))
        .args(["admin", "apply", &path, "--rpc", "http://127.0.0.1:9"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("--keypair"));
}

#[test]
fn demo_runs_and_its_numbers_hold() {
    let out = Command::new(env!("CARGO_BIN_EXE_scalpel"))
        .args(["demo", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps = v["steps"].as_array().unwrap();
    let keepers: Vec<&Value> = steps.iter().filter(|s| s["kind"] == "keeper").collect();
    assert_eq!(keepers.len(), 5);
    assert_eq!(
        keepers[0]["summary"]["liquidations"], 0,
        "nothing at SOL = 90"
    );
    // SOL = 82. bob: A_maint = 0.9 · 1640 = 1476, end = 1476 − 1.02 · 1500 = −54, x = 54 / 0.075
    // = 720 USDC. dave: end = 738 − 776.22 = −38.22, x = 509.6 USDC.
    let l = keepers[1]["liquidations"].as_array().unwrap();
    let find = |name: &str| l.iter().find(|r| r["account"] == name).unwrap();
    assert_eq!(native(&find("bob")["repaid"], 6), 720_000_000);
    assert_eq!(native(&find("dave")["repaid"], 6), 509_600_000);
    assert_eq!(native(&find("bob")["full"]["repaid"], 6), 1_500_000_000);
    // Every solvent liquidation lands on its target; insolvent ones end with no collateral and
    // their debt is then resolved.
    for k in &keepers {
        for r in k["liquidations"].as_array().unwrap() {
            let end = usd(&r["end_after"]);
            assert!(end < 0.00001, "{r}");
        }
    }
    assert_eq!(keepers[4]["summary"]["bad_debt_resolved"], 3);
    let last = steps.last().unwrap();
    for a in last["accounts"].as_array().unwrap() {
        assert_eq!(a["being_liquidated"], false, "{a}");
    }
    let usdc = &last["markets"].as_array().unwrap()[2];
    assert!(
        native(&usdc["insurance"], 6) < 100_000_000,
        "insurance paid the bad debt"
    );
    let human = Command::new(env!("CARGO_BIN_EXE_scalpel"))
        .arg("demo")
        .output()
        .unwrap();
    assert!(human.status.success());
    assert!(String::from_utf8_lossy(&human.stdout).contains("full liquidation"));
}

#[test]
fn keeper_reports_an_unreachable_cluster() {
    let key = solana_sdk::signature::Keypair::new();
    let path = std::env::temp_dir().join(format!("scalpel-keeper-{}.json", std::process::id()));
    std::fs::write(
        &path,
        serde_json::to_string(&key.to_bytes().to_vec()).unwrap(),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_scalpel"))
        .args([
            "keeper",
            "--rpc",
            "http://127.0.0.1:9",
            "--keypair",
            path.to_str().unwrap(),
            "--once",
            "--dry-run",
        ])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("pass failed") && err.contains("127.0.0.1:9"),
        "{err}"
    );
}
