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
