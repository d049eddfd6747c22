//! `scalpel sim` through the real binary on a small configuration (what CI runs): every policy
//! reports, the plots are written, and the cross-check replays at least 50 simulated Scalpel
//! liquidations as real transactions against the program, every one agreeing to the native
//! unit.

use serde_json::Value;
use std::process::Command;

#[test]
fn a_small_ftx_run_agrees_with_the_program() {
    let dir = std::env::temp_dir().join(format!("scalpel-sim-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("small.toml");
    // Five-minute steps keep a debug build fast; the model is the preset's.
    std::fs::write(&file, "[event]\nstep_minutes = 5\n").unwrap();
    let out_dir = dir.join("out");
    let out = Command::new(env!("CARGO_BIN_EXE_scalpel"))
        .arg("sim")
        .arg(&file)
        .args(["--preset", "ftx_2022", "--paths", "3", "--accounts", "1500"])
        .args(["--crosscheck", "50"])
        .args(["--seed", "7", "--json", "--out"])
        .arg(&out_dir)
        .output()
        .expect("run scalpel");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");

    let cc = &r["crosscheck"];
    let replayed = cc["replayed"].as_u64().unwrap();
    assert!(replayed >= 50, "replayed {replayed}: {cc}");
    assert_eq!(cc["agreed"].as_u64(), Some(replayed), "{cc}");
    assert_eq!(cc["not_opened"].as_u64(), Some(0), "{cc}");

    let policies: Vec<&str> = r["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["policy"].as_str().unwrap())
        .collect();
    for p in [
        "scalpel",
        "scalpel_scaled",
        "binary",
        "aave_v3",
        "close_factor_20",
    ] {
        assert!(policies.contains(&p), "{policies:?}");
    }
    // Each policy reports every measure with its distribution, and liquidates something on
    // the FTX crash.
    for p in r["policies"].as_array().unwrap() {
        let rows = p["rows"].as_array().unwrap();
        let liq = rows
            .iter()
            .find(|row| row["metric"] == "liquidations")
            .unwrap();
        assert!(liq["mean"].as_f64().unwrap() > 0.0, "{p}");
        assert!(liq["p99"].as_f64().unwrap() >= liq["p95"].as_f64().unwrap());
    }
    for f in [
        "report.json",
        "summary.md",
        "prices_SOL.svg",
        "collateral_taken.svg",
        "bad_debt.svg",
    ] {
        let p = out_dir.join(f);
        assert!(
            std::fs::metadata(&p).map(|m| m.len() > 0).unwrap_or(false),
            "{} written",
            p.display()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
