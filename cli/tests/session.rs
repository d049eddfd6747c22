//! A whole trading session through the `scalpel` binary against a `scalpel localnet` it starts:
//! fund a trader, `account create`, deposit SOL, borrow USDC, push SOL down with `localnet price`,
//! `keeper --once` refuses account mode without the bot's margin account, holds back below
//! `--min-profit-usd`, then liquidates the account partially, `quote` and `account show` show the result,
//! `repay all`, `withdraw all`, `close`. Every step is a real transaction over JSON-RPC.

mod common;

use common::{scalpel, Localnet};
use serde_json::Value;
use solana_sdk::signature::{read_keypair_file, Keypair, Signer};
use std::path::PathBuf;

/// Runs `scalpel args…` and returns its JSON output, failing the test with its stderr if it fails.
fn ok(args: &[&str]) -> Value {
    let out = scalpel(args);
    assert!(
        out.status.success(),
        "scalpel {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "scalpel {}: not JSON ({e}): {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Runs `scalpel args…`, which must fail, and returns its stderr.
fn refused(args: &[&str]) -> String {
    let out = scalpel(args);
    assert!(
        !out.status.success(),
        "scalpel {} succeeded",
        args.join(" ")
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A wallet with a keypair file.
struct Wallet {
    key: Keypair,
    file: PathBuf,
}

impl Wallet {
    /// A new wallet from `scalpel keygen` (its printed address is the file's key).
    fn new(dir: &std::path::Path, name: &str) -> Wallet {
        let file = dir.join(format!("{name}.json"));
        let out = scalpel(&["keygen", file.to_str().expect("utf-8 path"), "--force"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let key = read_keypair_file(&file).expect("a keypair file");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            key.pubkey().to_string()
        );
        Wallet { key, file }
    }
    fn pubkey(&self) -> String {
        self.key.pubkey().to_string()
    }
    fn path(&self) -> &str {
        self.file.to_str().expect("utf-8 path")
    }
}

fn num(v: &Value) -> f64 {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| v.as_f64())
        .unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn a_trader_session_through_the_cli() {
    let mut node = Localnet::start();
    let rpc = node.rpc.clone();
    let dir = std::env::temp_dir().join(format!("scalpel-session-{}", node.port));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (trader, lender, bot) = (
        Wallet::new(&dir, "trader"),
        Wallet::new(&dir, "lender"),
        Wallet::new(&dir, "bot"),
    );

    // Fund: SOL for fees, the markets' tokens for positions and the bot's inventory.
    for (w, token, amount) in [
        (&trader, "SOL", "10"),
        (&lender, "USDC", "20000"),
        (&bot, "USDC", "5000"),
    ] {
        ok(&[
            "localnet",
            "fund",
            &w.pubkey(),
            "SOL",
            "5",
            "--rpc",
            &rpc,
            "--json",
        ]);
        ok(&[
            "localnet",
            "fund",
            &w.pubkey(),
            token,
            amount,
            "--token",
            "--rpc",
            &rpc,
            "--json",
        ]);
    }
    let as_ = |w: &Wallet, args: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        v.extend([
            "--rpc".into(),
            rpc.clone(),
            "--keypair".into(),
            w.path().into(),
        ]);
        v.push("--json".into());
        v
    };
    let run = |w: &Wallet, args: &[&str]| -> Value {
        let v = as_(w, args);
        ok(&v.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let fail = |w: &Wallet, args: &[&str]| -> String {
        let v = as_(w, args);
        refused(&v.iter().map(String::as_str).collect::<Vec<_>>())
    };

    // The lender supplies USDC; the trader opens an account with 10 SOL (at 100 USD).
    run(&lender, &["account", "create"]);
    run(&lender, &["account", "deposit", "USDC", "20000"]);
    let created = run(&trader, &["account", "create"]);
    let account = created["account"].as_str().expect("address").to_string();
    assert!(fail(&trader, &["account", "create"]).contains("already exists"));
    // Bad input is named with what to do, and sends nothing.
    for (args, says) in [
        (
            &["account", "deposit", "DOGE", "1"][..],
            "markets: SOL, ETH, USDC",
        ),
        (
            &["account", "deposit", "SOL", "1.0000000001"][..],
            "more than 9 decimals",
        ),
        (
            &["account", "deposit", "SOL", "all"][..],
            "`all` is for withdraw and repay",
        ),
        (&["account", "deposit", "SOL", "0"][..], "more than 0 SOL"),
        (&["account", "deposit", "SOL", "11"][..], "fund it first"),
        (
            &["account", "withdraw", "SOL", "1", "--yes"][..],
            "no SOL deposit",
        ),
        (&["account", "repay", "USDC", "all"][..], "owes no USDC"),
    ] {
        let err = fail(&trader, args);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let dep = run(&trader, &["account", "deposit", "SOL", "10"]);
    assert_eq!(dep["amount"], "10.000000000");

    // Too much is refused with what the program would accept; no confirmation, no borrow.
    let err = fail(&trader, &["account", "borrow", "USDC", "5000", "--yes"]);
    assert!(err.contains("can be borrowed now"), "{err}");
    let max: f64 = err
        .split("at most ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no maximum in {err:?}"));
    assert!(
        (600.0..800.0).contains(&max),
        "10 SOL at 100 USD, init weights 0.8 / 1.2: {max}"
    );
    let err = fail(&trader, &["account", "borrow", "USDC", "600"]);
    assert!(err.contains("pass --yes"), "{err}");

    // Borrow 600 USDC: init health stays ≥ 0, and SOL's liquidation price is shown.
    let b = run(&trader, &["account", "borrow", "USDC", "600", "--yes"]);
    assert_eq!(b["amount"], "600.000000");
    assert!(num(&b["health_after"]["init"]) >= 0.0, "{b}");
    let sol_after = b["positions_after"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["symbol"] == "SOL"))
        .expect("SOL position");
    // maint: 10 · p · 0.9 (SOL's maint asset weight) = 600 · 1 (USDC's maint liability
    // weight) → p = 66.67.
    let liq = num(&sol_after["liquidation_price"]);
    assert!((liq - 66.666667).abs() < 0.001, "{liq}");

    // SOL falls to 65: the account is liquidatable (maint 585 − 600 USD) but solvent; the keeper
    // liquidates only what brings it back to target (κ = 1.02 − 1.05 · 0.9 = 0.075: about
    // 360 USDC repaid for 5.8 SOL).
    ok(&["localnet", "price", "SOL", "65", "--rpc", &rpc, "--json"]);
    let q = ok(&["quote", "--account", &account, "--rpc", &rpc, "--json"]);
    assert_eq!(q["liquidatable"], true, "{q}");
    // Account mode without the bot's margin account: refused, with what to do.
    let err = refused(&[
        "keeper",
        "--rpc",
        &rpc,
        "--keypair",
        bot.path(),
        "--once",
        "--mode",
        "account",
    ]);
    assert!(err.contains("scalpel account create --index 0"), "{err}");
    // A profit threshold above the bonus: the pass skips the account and says why.
    let out = scalpel(&[
        "keeper",
        "--rpc",
        &rpc,
        "--keypair",
        bot.path(),
        "--once",
        "--min-profit-usd",
        "1000",
    ]);
    let logs = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "keeper: {logs}");
    assert!(logs.contains("skip_reasons=unprofitable=1"), "{logs}");
    let q = ok(&["quote", "--account", &account, "--rpc", &rpc, "--json"]);
    assert_eq!(q["liquidatable"], true, "nothing sent: {q}");
    let out = scalpel(&["keeper", "--rpc", &rpc, "--keypair", bot.path(), "--once"]);
    assert!(
        out.status.success(),
        "keeper: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let logs = String::from_utf8_lossy(&out.stderr);
    assert!(logs.contains("liquidated=1"), "{logs}");
    let q = ok(&["quote", "--account", &account, "--rpc", &rpc, "--json"]);
    assert_eq!(q["liquidatable"], false, "{q}");
    assert!(num(&q["health"]["end"]) >= 0.0, "{q}");
    let shown = run(&trader, &["account", "show"]);
    let balance = |sym: &str| {
        shown["positions"]
            .as_array()
            .and_then(|p| p.iter().find(|p| p["symbol"] == sym))
            .map(|p| num(&p["amount"]))
            .unwrap_or_else(|| panic!("no {sym} position: {shown}"))
    };
    let (sol_left, usdc_owed) = (balance("SOL"), balance("USDC"));
    assert!(
        sol_left > 3.0 && sol_left < 5.0,
        "partial: some SOL taken, the rest kept ({sol_left})"
    );
    assert!(usdc_owed > 200.0 && usdc_owed < 300.0, "{usdc_owed}");

    // Repay everything, withdraw everything, close.
    let r = run(&trader, &["account", "repay", "USDC", "all"]);
    assert!((num(&r["amount"]) - usdc_owed).abs() < 0.000_01, "{r}");
    let w = run(&trader, &["account", "withdraw", "SOL", "all", "--yes"]);
    assert!((num(&w["amount"]) - sol_left).abs() < 1e-9, "{w}");
    run(&trader, &["account", "close"]);
    let err = fail(&trader, &["account", "show"]);
    assert!(err.contains("reading margin account"), "{err}");

    let (stopped, logs) = node.stop();
    assert!(stopped, "{logs}");
    assert!(
        logs.contains("scalpel:liquidate"),
        "the keeper's liquidation landed: {logs}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
