//! The `scalpel localnet` binary: it starts with the built-in migration, serves JSON-RPC, answers
//! the operator subcommands, and stops on SIGINT with exit code 0.

mod common;

use common::{free_port_pair, scalpel, Localnet};
use serde_json::Value;
use solana_rpc_client::rpc_client::RpcClient;

#[test]
fn localnet_serves_operates_and_stops_on_sigint() {
    let mut node = Localnet::start();
    let (port, rpc, banner) = (node.port, node.rpc.clone(), node.banner.clone());

    // The banner, one JSON line, says it is up and where.
    assert_eq!(banner["rpc"], rpc);
    assert_eq!(banner["ws"], format!("ws://127.0.0.1:{}", port + 1));
    assert_eq!(banner["program_id"], scalpel::ID.to_string());
    let symbols: Vec<&str> = banner["markets"]
        .as_array()
        .expect("markets")
        .iter()
        .filter_map(|m| m["symbol"].as_str())
        .collect();
    assert_eq!(symbols, ["SOL", "ETH", "USDC"]);
    for m in banner["markets"].as_array().into_iter().flatten() {
        for field in ["mint", "oracle", "vault"] {
            assert!(m[field].as_str().is_some_and(|s| s.len() >= 32), "{m}");
        }
    }

    let client = RpcClient::new(rpc.clone());
    client.get_health().expect("getHealth");
    assert_eq!(
        client.get_version().expect("getVersion").solana_core,
        "2.3.13"
    );

    // The operator subcommands, through the binary.
    let out = scalpel(&["localnet", "price", "SOL", "80", "--rpc", &rpc]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("SOL now 80"));
    // With `--ema` the account's EMA lags the spot (issue 12): the bytes say so.
    let out = scalpel(&[
        "localnet",
        "price",
        "SOL",
        "80",
        "--ema",
        "90",
        "--ema-conf",
        "0.5",
        "--rpc",
        &rpc,
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let set: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let oracle: solana_sdk::pubkey::Pubkey = set["oracle"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("oracle key");
    let acct = client.get_account(&oracle).expect("oracle account");
    let raw = scalpel::oracle::decode(
        scalpel::oracle::OracleKind::PythPull,
        &acct.owner,
        &acct.data,
    )
    .expect("a PriceUpdateV2");
    assert_eq!(
        (set["mantissa"].as_i64(), set["emaMantissa"].as_i64()),
        (Some(raw.price), Some(raw.ema_price))
    );
    assert_eq!(set["emaConfMantissa"].as_u64(), Some(raw.ema_conf));
    assert_eq!(set["expo"].as_i64(), Some(i64::from(raw.expo)));
    let usd = |m: f64| m / 10f64.powi(-raw.expo);
    assert_eq!(
        (
            usd(raw.price as f64),
            usd(raw.ema_price as f64),
            usd(raw.ema_conf as f64)
        ),
        (80.0, 90.0, 0.5)
    );
    let out = scalpel(&["localnet", "price", "DOGE", "1", "--rpc", &rpc]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("SOL, ETH, USDC"), "{err}");
    let who = solana_sdk::pubkey::Pubkey::new_unique().to_string();
    let out = scalpel(&[
        "localnet", "fund", &who, "SOL", "2", "--rpc", &rpc, "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let funded: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(funded["lamports"], 2_000_000_000u64);

    // Ctrl-C stops it cleanly.
    let (stopped, logs) = node.stop();
    assert!(stopped, "a non-zero exit; logs:\n{logs}");
    assert!(logs.contains("\"stopped\""), "{logs}");
    assert!(
        logs.contains("system:transfer"),
        "one line per transaction: {logs}"
    );
}

#[test]
fn operator_commands_say_to_start_a_localnet() {
    let port = free_port_pair();
    let rpc = format!("http://127.0.0.1:{port}");
    let out = scalpel(&["localnet", "warp", "60", "--rpc", &rpc]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("start one with `scalpel localnet`"), "{err}");
}
