//! Runs every example scenario through the real binary (`--json`) and checks the numbers SPEC
//! sections 5 and 6 predict, to the native unit where the formula is exact.

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
fn mngo_pump_is_refused_then_bounded() {
    let steps = run("mngo.toml");
    let outcome = |i: usize| {
        let s = &steps[i];
        assert_eq!(s["kind"], "borrow", "step {i}: {s}");
        (
            s["ok"] == true,
            s["error"].as_str().unwrap_or("").to_string(),
        )
    };
    let refused = |name: &str| (false, name.to_string());
    // The pump with the EMA far behind: any borrow against MNGO is refused.
    assert_eq!(outcome(1), refused("EmaDivergenceTooLarge"));
    // The EMA within 10%: valued at the EMA and the scaled weight, then the hourly limit.
    assert_eq!(outcome(3), refused("InsufficientHealth"));
    assert_eq!(outcome(4), refused("NetBorrowLimitExceeded"));
    assert_eq!(outcome(5), (true, String::new()));
    // A sustained price an hour on: a new window; the scaled weight still caps the total.
    assert_eq!(outcome(9), (true, String::new()));
    assert_eq!(outcome(10), refused("InsufficientHealth"));
    // 500 000 borrowed, plus the first 250 000's interest over the hour (35.674 USDC).
    let debt = -native(&steps[10]["balance_after"], 6);
    assert!((500_000_000_000..500_100_000_000).contains(&debt), "{debt}");
    // 600 000 of init collateral (1 M USD · 0.6) against about 500 000 · 1.05 of debt.
    let init = steps[10]["health_after"]["init"].as_str().expect("init");
    let init: f64 = init.parse().expect("a number");
    assert!(init > 74_900.0 && init < 75_001.0, "{init}");
}

#[test]
fn scaled_penalty_takes_less_than_the_flat_one_on_partial() {
    let flat = &run("partial.toml")[2];
    let scaled = &run("partial_scaled.toml")[2];
    assert_eq!(flat["penalty"], "0.050000");
    // HR 0.96 on a 2%..5% curve: π = 4.4%; x = ⌈45 / 0.0804⌉ USDC, S = ⌊x · 1.044 / 80⌋ SOL.
    assert_eq!(scaled["penalty"], "0.044000");
    assert_eq!(native(&scaled["repaid"], 6), 559_701_493);
    let s = native(&scaled["seized"], 9);
    assert!((7_304_104_483..=7_304_104_484).contains(&s), "{s}");
    assert_eq!(scaled["health_after"]["end"], "0.000000");
    shares_add_up(scaled, 9);
    // The trader keeps 0.571 SOL more of the collateral than under the flat 5%.
    assert!(native(&flat["seized"], 9) - s > 570_000_000);
}

#[test]
fn health_scaled_penalty_and_liquidation_into_an_account() {
    let steps = run("liquidation_v2.toml");
    let (alice, bob) = (&steps[1], &steps[2]);
    for l in [alice, bob] {
        assert_eq!(l["ok"], true, "{l}");
        // HR = 0.98 on a 2%..8% curve: π = 4.4%; x = ⌈36 / 0.0804⌉ USDC.
        assert_eq!(l["penalty"], "0.044000");
        assert_eq!(native(&l["repaid"], 6), 447_761_195);
        let s = native(&l["seized"], 9);
        // ⌊x · 1.044 / 98⌋ = 4.770027424 SOL (one unit low at most: 1.044 is not binary).
        assert!((4_770_027_423..=4_770_027_424).contains(&s), "{s}");
        shares_add_up(l, 9);
    }
    // The same plan either way; the account mode names its liquidator.
    for k in [
        "repaid",
        "seized",
        "to_liquidator",
        "to_insurance",
        "to_treasury",
    ] {
        assert_eq!(alice[k], bob[k], "{k}");
    }
    assert_eq!(
        (bob["mode"].as_str(), bob["liquidator"].as_str()),
        (Some("account"), Some("liq"))
    );
    // liq's margin account: bob's SOL share as a deposit, the repaid USDC out of its 2 000.
    let snap = &steps[3];
    let liq = snap["accounts"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["name"] == "liq"))
        .expect("liq");
    assert_eq!(liq["balances"]["SOL"], bob["to_liquidator"]);
    assert_eq!(
        native(&liq["balances"]["USDC"], 6),
        2_000_000_000 - native(&bob["repaid"], 6)
    );
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

#[test]
fn sequences_of_users_and_governance() {
    let steps = run("sequences.toml");
    let kinds: Vec<&str> = steps.iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "set_price",
            "liquidate",
            "repay",
            "withdraw",
            "liquidate",
            "deposit",
            "liquidate",
            "withdraw",
            "borrow",
            "set_params",
            "advance_time",
            "set_price",
            "set_price",
            "liquidate",
            "advance_time",
            "set_price",
            "set_price",
            "set_price",
            "liquidate",
            "snapshot"
        ]
    );
    // alice: liquidated by one native unit, which flags her.
    let l = &steps[1];
    assert_eq!(native(&l["repaid"], 6), 1);
    assert_eq!(native(&l["seized"], 9), 13, "floor(1e-6 · 1.05 / 80 SOL)");
    assert_eq!(l["being_liquidated"], true);
    // Repay "all": exactly the debt left, from the 750 USDC she borrowed (nothing minted).
    let r = &steps[2];
    assert_eq!(r["ok"], true);
    assert!(r.get("error").is_none() || r["error"].is_null());
    assert_eq!(r["amount"], "all");
    assert_eq!(native(&r["moved"], 6), 749_999_999);
    assert_eq!(native(&r["minted"], 6), 0);
    assert_eq!(native(&r["balance_after"], 6), 0);
    assert_eq!(
        r["being_liquidated"], false,
        "no debt: no longer being liquidated"
    );
    assert!(r["health_after"]["ratio"].is_null());
    // Withdraw "all": every lamport left, the position closes.
    let w = &steps[3];
    assert_eq!(w["ok"], true);
    assert_eq!(native(&w["moved"], 9), 10_000_000_000 - 13);
    assert_eq!(native(&w["balance_after"], 9), 0);
    assert_eq!(w["health_after"]["end"], "0.000000");
    // bob: one unit, then a deposit ("5.000000000", trailing zeros) cures him.
    assert_eq!(steps[4]["being_liquidated"], true);
    let d = &steps[5];
    assert_eq!(d["ok"], true);
    assert_eq!(native(&d["minted"], 9), 5_000_000_000);
    assert_eq!(native(&d["moved"], 9), 5_000_000_000);
    assert_eq!(native(&d["balance_after"], 9), 15_000_000_000 - 13);
    // A_maint = 0.9 · 15 · 80 = 1080 (less 13 lamports), end = 1080 − 1.02 · 749.999999.
    assert_eq!(d["health_after"]["end"], "315.000000");
    assert_eq!(
        d["being_liquidated"], true,
        "a deposit only clears the flag of an account without debt"
    );
    assert_eq!(steps[6]["ok"], false);
    assert_eq!(steps[6]["error"], "NotLiquidatable");
    let w = &steps[7];
    assert_eq!(w["ok"], true);
    assert_eq!(native(&w["moved"], 9), 100_000_000);
    assert_eq!(
        w["being_liquidated"], false,
        "cured: the withdrawal clears it"
    );
    // A borrow beyond init health is the program's refusal, state unchanged.
    let b = &steps[8];
    assert_eq!(b["ok"], false);
    assert_eq!(b["error"], "InsufficientHealth");
    assert_eq!(native(&b["balance_after"], 6), -749_999_999);
    assert_eq!(b["health_after"], w["health_after"]);
    // Governance: applied after the 24 h timelock, shifting over the next 24 h.
    let p = &steps[9];
    assert_eq!(p["ok"], true);
    assert_eq!(p["queued_at"], 1_700_000_000);
    assert_eq!(p["applied_at"], 1_700_086_400);
    assert_eq!(p["shift_end"], 1_700_172_800);
    assert_eq!(p["penalty_bps_in_force"], 500);
    assert_eq!(p["params"]["asset_weight_init"], "0.7");
    assert_eq!(p["params"]["asset_weight_maint"], "0.75");
    assert_eq!(p["params"]["liquidation_penalty_bps"], 2400);
    assert_eq!(
        p["params"]["liab_weight_maint"], "1.1",
        "the rest unchanged"
    );
    assert_eq!(p["params"]["interest"]["slope1"], "0");
    assert_eq!(p["params"]["deposit_cap"], "unlimited");
    // An eighth of the way: wA_maint = 0.925, end = 0.4625 · 1509 − 714 = −16.0875; at the
    // smaller penalty (5%), κ = 0.04875 and x = 330 USDC.
    let l = &steps[13];
    assert_eq!(l["ok"], true);
    assert_eq!(l["health_before"]["end"], "-16.087500");
    assert_eq!(l["penalty_effective"], "0.050000");
    assert_eq!(native(&l["repaid"], 6), 330_000_000);
    // S = 330 · 1.05 / 1509 ETH, floored.
    assert_eq!(native(&l["seized"], 8), 22_962_226);
    shares_add_up(l, 8);
    assert_eq!(l["being_liquidated"], false);
    let end = usd(&l["health_after"]["end"]);
    assert!((0.0..0.00002).contains(&end), "{end}");
    // After the shift: wA_maint = 0.75 and the new 24% penalty. 0.27037774 ETH at 1750:
    // A_maint = 354.87078375, end = −22.52921625, κ = 1.02 − 1.24 · 0.75 = 0.09.
    let l = &steps[18];
    assert_eq!(l["ok"], true);
    assert_eq!(l["health_before"]["maint"], "-15.129216");
    assert_eq!(l["penalty_effective"], "0.240000");
    assert_eq!(native(&l["repaid"], 6), 250_324_625);
    shares_add_up(l, 8);
    let end = usd(&l["health_after"]["end"]);
    assert!((0.0..0.00002).contains(&end), "{end}");
    let snap = &steps[19]["accounts"];
    assert_eq!(snap[1]["name"], "alice");
    assert_eq!(snap[1]["balances"], serde_json::json!({}));
    assert_eq!(native(&snap[3]["balances"]["USDC"], 6), -119_675_375);
}

#[test]
fn human_output_shows_balance_and_governance_steps() {
    let path = format!("{}/../scenarios/sequences.toml", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_scalpel"))
        .args(["scenario", "run", &path])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for line in [
        " 3. repay alice all USDC: ok (749.999999 USDC); balance 0.000000 USDC, health init",
        " 9. borrow bob 5000 USDC: REFUSED: InsufficientHealth; balance -749.999999 USDC",
        "10. set_params ETH: ok, queued at 1700000000, applied at 1700086400; maint weights shift until 1700172800, penalty 500 bps until then",
        "asset weights 0.7/0.75, liab weights 1.2/1.1, penalty 2400 bps",
    ] {
        assert!(text.contains(line), "{line:?} in\n{text}");
    }
}

#[test]
fn bad_step_input_says_what_to_fix() {
    let dir = std::env::temp_dir().join(format!("scalpel-scen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let base = r#"
[[markets]]
symbol = "SOL"
decimals = 9
price = "100"

[[accounts]]
name = "alice"
deposits = { SOL = "1" }
"#;
    for (step, expect) in [
        (
            r#"deposit = { account = "alice", market = "BTC", amount = "1" }"#,
            "unknown market symbol \"BTC\" (the scenario's markets: SOL)",
        ),
        (
            r#"deposit = { account = "alice", market = "SOL", amount = "all" }"#,
            "only withdraw and repay take \"all\"",
        ),
        (
            r#"withdraw = { account = "alice", market = "SOL", amount = "0.0000000001" }"#,
            "at most 9 decimals",
        ),
        (
            r#"set_params = { market = "SOL", asset_weight_maint = "0.9x" }"#,
            "asset_weight_maint = \"0.9x\"",
        ),
    ] {
        let path = dir.join("bad.toml");
        std::fs::write(&path, format!("{base}\n[[steps]]\n{step}\n")).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_scalpel"))
            .args(["scenario", "run", path.to_str().unwrap(), "--json"])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{step}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{step}: {err}");
        assert!(err.contains("step 1"), "{step}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
