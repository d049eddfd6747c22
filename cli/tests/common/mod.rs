//! A `scalpel localnet` child process for the CLI tests: started on free ports, waited for by its
//! JSON banner, stopped with SIGINT when dropped.

#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A debug build boots the bank and lists three markets in seconds; a busy machine takes longer.
pub const BOOT: Duration = Duration::from_secs(300);

/// A port whose next one is free too (JSON-RPC and PubSub).
pub fn free_port_pair() -> u16 {
    loop {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

/// Runs the `scalpel` binary.
pub fn scalpel(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scalpel"))
        .args(args)
        .output()
        .expect("run scalpel")
}

/// A running `scalpel localnet`.
pub struct Localnet {
    pub child: Child,
    pub port: u16,
    pub rpc: String,
    pub banner: Value,
    pub logs: Option<JoinHandle<String>>,
}

impl Localnet {
    /// Starts one with `--json-logs` and waits for its banner.
    pub fn start() -> Localnet {
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
        let line = rx.recv_timeout(BOOT).expect("the start banner");
        let banner: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        Localnet {
            child,
            port,
            rpc: format!("http://127.0.0.1:{port}"),
            banner,
            logs: Some(logs),
        }
    }

    /// Stops it with SIGINT and returns its exit success and its log lines.
    pub fn stop(&mut self) -> (bool, String) {
        let pid = i32::try_from(self.child.id()).expect("pid");
        // SAFETY: signals the child this harness started.
        unsafe { libc::kill(pid, libc::SIGINT) };
        let start = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                break s;
            }
            if start.elapsed() > Duration::from_secs(60) {
                let _ = self.child.kill();
                panic!("scalpel localnet did not stop within a minute of SIGINT");
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let logs = self
            .logs
            .take()
            .map(|h| h.join().expect("stderr"))
            .unwrap_or_default();
        (status.success(), logs)
    }
}

impl Drop for Localnet {
    fn drop(&mut self) {
        if self.logs.is_some() {
            let _ = self.stop();
        }
    }
}
