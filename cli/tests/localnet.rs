//! The `scalpel localnet` binary: it starts with the built-in migration, serves JSON-RPC, answers
//! the operator subcommands, and stops on SIGINT with exit code 0.

use serde_json::Value;
use solana_rpc_client::rpc_client::RpcClient;
use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A debug build boots the bank and lists three markets in seconds; a busy machine takes longer.
const BOOT: Duration = Duration::from_secs(300);

/// A port whose next one is free too (JSON-RPC and PubSub).
fn free_port_pair() -> u16 {
    loop {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

fn scalpel(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_scalpel"))
        .args(args)
        .output()
        .expect("run scalpel")
}

#[test]
fn localnet_serves_operates_and_stops_on_sigint() {
    let port = free_port_pair();
    let mut child = Command::new(env!("CARGO_BIN_EXE_scalpel"))
        .args(["localnet", "--port", &port.to_string(), "--json-logs"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start scalpel localnet");
    let stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut first = String::new();
        let _ = BufReader::new(stdout).read_line(&mut first);
        let _ = tx.send(first);
    });
    let logs = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });

    // The banner, one JSON line, says it is up and where.
    let line = rx.recv_timeout(BOOT).expect("the start banner");
    let banner: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    let rpc = format!("http://127.0.0.1:{port}");
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
    let pid = i32::try_from(child.id()).expect("pid");
    // SAFETY: signals the child this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("scalpel localnet did not stop within a minute of SIGINT");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let logs = logs.join().expect("stderr");
    assert!(status.success(), "exit {status:?}; logs:\n{logs}");
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
