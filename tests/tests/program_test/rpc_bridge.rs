//! A Solana JSON-RPC 2.0 server over HTTP on 127.0.0.1, backed by a [`LocalChain`], so that
//! `RpcChain` (a real `solana-rpc-client` speaking HTTP) can be tested end to end.
//!
//! The HTTP layer is written by hand over `tokio::net::TcpListener` (HTTP/1.1, keep-alive,
//! `Content-Length` bodies only). The JSON shapes are the ones `solana-rpc-client` 2.3 parses:
//! `{"context":{"slot":N,"apiVersion":…},"value":…}` wrappers, `UiAccount`s in the requested
//! binary encoding (including `base64+zstd`), and a failed preflight as error -32002 whose `data`
//! is an `RpcSimulateTransactionResult`.
//!
//! Where the bridge differs from a real node:
//! - `sendTransaction` runs the transaction on the bank directly (`Chain::send_signed`): a
//!   transaction that fails is reported as a failed preflight, but the bank has still charged its
//!   fee (a node would drop it).
//! - The bank only reports a failure's name, so the `TransactionError` put on the wire is rebuilt
//!   from it (instruction index from the logs); every rebuild is checked against
//!   `scalpel_client::chain::failure` and a disagreement is recorded in [`RpcBridge::mismatches`].
//! - `simulateTransaction` rebuilds the transaction through `LocalChain::simulate`, which re-signs
//!   it with the latest blockhash: every signer must be in the bridge's keyring (the chain payer
//!   is; add others with [`RpcBridge::add_signer`]). Compute-budget instructions of the original
//!   are replaced by LocalChain's own (1.4M units) and their log lines dropped.
//! - `getProgramAccounts` scans the accounts the LocalChain knows (`known_accounts`), not the
//!   whole bank.
//! - A failure's `unitsConsumed` is summed from the logs' top-level `consumed` lines; natively run
//!   programs (Scalpel here) log none. `isBlockhashValid` knows the blockhashes it handed out or
//!   saw in transactions, and the latest one.

use scalpel_client::{chain::failure, Chain, LocalChain, TxFailure};
use solana_account_decoder_client_types::{
    UiAccount, UiAccountData, UiAccountEncoding, UiDataSliceConfig,
};
use solana_rpc_client_api::{
    config::{
        RpcAccountInfoConfig, RpcContextConfig, RpcProgramAccountsConfig, RpcSendTransactionConfig,
        RpcSimulateTransactionConfig,
    },
    filter::RpcFilterType,
    response::{RpcBlockhash, RpcSimulateTransactionResult},
};
use solana_sdk::{
    account::Account,
    hash::Hash,
    instruction::{AccountMeta, Instruction, InstructionError},
    message::Message,
    program_pack::Pack,
    pubkey::Pubkey,
    signature::{Keypair, Signature, Signer},
    transaction::{Transaction, TransactionError, VersionedTransaction},
};
use solana_transaction_status_client_types::{
    TransactionConfirmationStatus, TransactionStatus, UiReturnDataEncoding, UiTransactionEncoding,
    UiTransactionReturnData,
};

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// The version the bridge claims to be (the client crates' version).
const VERSION: &str = "2.3.13";
/// `getMultipleAccounts` accepts at most this many keys, like a real node.
const MAX_MULTIPLE_ACCOUNTS: usize = 100;
/// `getSignatureStatuses` accepts at most this many signatures, like a real node.
const MAX_SIGNATURE_STATUSES: usize = 256;
/// The compute-budget program.
const COMPUTE_BUDGET: Pubkey = solana_sdk::pubkey!("ComputeBudget111111111111111111111111111111");
/// Blocks a blockhash stays valid for (`lastValidBlockHeight` = slot + this).
const MAX_PROCESSING_AGE: u64 = 150;
/// Largest request body accepted.
const MAX_BODY: usize = 16 << 20;

/// Whatever owns the [`LocalChain`] the bridge serves (the chain itself, or the test `Env`).
pub trait ChainHost: Send + Sync + 'static {
    fn local_chain(&self) -> &LocalChain;
}

impl ChainHost for LocalChain {
    fn local_chain(&self) -> &LocalChain {
        self
    }
}

impl ChainHost for super::Env {
    fn local_chain(&self) -> &LocalChain {
        &self.chain
    }
}

struct State {
    host: Arc<dyn ChainHost>,
    /// Keypairs `simulateTransaction` may re-sign with.
    keyring: Mutex<Vec<Keypair>>,
    /// Landed transactions: slot and error (an error only when sent with `skipPreflight`).
    landed: Mutex<HashMap<Signature, (u64, Option<TransactionError>)>>,
    /// Wire bytes (base64) and logs of landed transactions, for `getTransaction`.
    transactions: Mutex<HashMap<Signature, (String, Vec<String>)>>,
    /// Blockhashes handed out or seen in transactions.
    blockhashes: Mutex<HashSet<Hash>>,
    /// Every method called, in order.
    calls: Mutex<Vec<String>>,
    /// Methods the bridge does not implement that were called.
    unknown: Mutex<Vec<String>>,
    /// Failures whose rebuilt `TransactionError` names differently from the bank's failure.
    mismatches: Mutex<Vec<String>>,
    /// Every `TransactionError` put on the wire, in order.
    wire_errors: Mutex<Vec<TransactionError>>,
}

impl State {
    fn chain(&self) -> &LocalChain {
        self.host.local_chain()
    }
}

/// The JSON-RPC server; stops when dropped.
pub struct RpcBridge {
    addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl Drop for RpcBridge {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RpcBridge {
    /// Listens on 127.0.0.1 (ephemeral port) and serves `host`'s chain.
    pub async fn start(host: Arc<dyn ChainHost>) -> std::io::Result<Self> {
        let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let payer = host.local_chain().payer().insecure_clone();
        let state = Arc::new(State {
            host,
            keyring: Mutex::new(vec![payer]),
            landed: Mutex::new(HashMap::new()),
            transactions: Mutex::new(HashMap::new()),
            blockhashes: Mutex::new(HashSet::new()),
            calls: Mutex::new(Vec::new()),
            unknown: Mutex::new(Vec::new()),
            mismatches: Mutex::new(Vec::new()),
            wire_errors: Mutex::new(Vec::new()),
        });
        let serving = state.clone();
        let task = tokio::spawn(async move {
            // Connection tasks live in the set, so aborting this task ends them too.
            let mut conns = JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((stream, _)) => {
                            conns.spawn(serve_connection(serving.clone(), stream));
                        }
                        Err(e) => {
                            eprintln!("rpc_bridge: accept failed: {e}");
                            return;
                        }
                    },
                    Some(_) = conns.join_next(), if !conns.is_empty() => {}
                }
            }
        });
        Ok(Self { addr, state, task })
    }

    /// The endpoint, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Lets `simulateTransaction` re-sign for `key`.
    pub fn add_signer(&self, key: &Keypair) {
        lock(&self.state.keyring).push(key.insecure_clone());
    }

    /// Every method called so far, in order.
    pub fn calls(&self) -> Vec<String> {
        lock(&self.state.calls).clone()
    }

    /// How many times each method was called.
    pub fn call_counts(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for c in lock(&self.state.calls).iter() {
            *out.entry(c.clone()).or_default() += 1;
        }
        out
    }

    /// Unimplemented methods the client asked for.
    pub fn unknown_methods(&self) -> Vec<String> {
        lock(&self.state.unknown).clone()
    }

    /// Every `TransactionError` sent to the client (failed preflights and simulations).
    pub fn wire_errors(&self) -> Vec<TransactionError> {
        lock(&self.state.wire_errors).clone()
    }

    /// Failures the wire error could not reproduce by name (should stay empty).
    pub fn mismatches(&self) -> Vec<String> {
        lock(&self.state.mismatches).clone()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

// ---------------------------------------------------------------------------------------------
// HTTP/1.1

async fn serve_connection(state: Arc<State>, stream: TcpStream) {
    if let Err(e) = serve_requests(&state, stream).await {
        if e.kind() != std::io::ErrorKind::UnexpectedEof
            && e.kind() != std::io::ErrorKind::ConnectionReset
        {
            eprintln!("rpc_bridge: connection error: {e}");
        }
    }
}

async fn serve_requests(state: &State, stream: TcpStream) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).await? == 0 {
            return Ok(()); // the client closed the connection
        }
        let request_line = request_line.trim_end();
        if request_line.is_empty() {
            continue;
        }
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_string();
        let version = parts.nth(1).unwrap_or("HTTP/1.1").to_string();

        let mut content_length: Option<usize> = None;
        let mut chunked = false;
        let mut close = version == "HTTP/1.0";
        let mut header_bytes = 0usize;
        loop {
            let mut line = String::new();
            let n = reader.read_line(&mut line).await?;
            if n == 0 {
                return Ok(());
            }
            header_bytes += n;
            if header_bytes > 64 << 10 {
                return respond(&mut write, 431, "{}", true).await;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => content_length = value.parse().ok(),
                "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
                "connection" => {
                    let v = value.to_ascii_lowercase();
                    if v.contains("close") {
                        close = true;
                    } else if v.contains("keep-alive") {
                        close = false;
                    }
                }
                _ => {}
            }
        }
        if chunked {
            return respond(&mut write, 411, "{}", true).await;
        }
        let len = content_length.unwrap_or(0);
        if len > MAX_BODY {
            return respond(&mut write, 413, "{}", true).await;
        }
        let mut body = vec![0u8; len];
        reader.read_exact(&mut body).await?;
        if method != "POST" {
            respond(&mut write, 405, "{}", close).await?;
        } else {
            let reply = handle_body(state, &body).await;
            respond(&mut write, 200, &reply.to_string(), close).await?;
        }
        if close {
            return Ok(());
        }
    }
}

async fn respond(
    write: &mut tokio::net::tcp::OwnedWriteHalf,
    status: u16,
    body: &str,
    close: bool,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        _ => "Error",
    };
    let connection = if close { "close" } else { "keep-alive" };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: {connection}\r\n\r\n",
        body.len()
    );
    write.write_all(head.as_bytes()).await?;
    write.write_all(body.as_bytes()).await?;
    write.flush().await
}

// ---------------------------------------------------------------------------------------------
// JSON-RPC 2.0

struct RpcErr {
    code: i64,
    message: String,
    data: Option<Value>,
}

impl RpcErr {
    fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }
    fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(-32602, message)
    }
    fn internal(e: impl std::fmt::Display) -> Self {
        Self::new(-32603, format!("Internal error: {e}"))
    }
}

type RpcResult = Result<Value, RpcErr>;

async fn handle_body(state: &State, body: &[u8]) -> Value {
    match serde_json::from_slice::<Value>(body) {
        Err(e) => error_reply(
            Value::Null,
            RpcErr::new(-32700, format!("Parse error: {e}")),
        ),
        Ok(Value::Array(batch)) => {
            let mut out = Vec::with_capacity(batch.len());
            for req in batch {
                out.push(handle_request(state, req).await);
            }
            Value::Array(out)
        }
        Ok(req) => handle_request(state, req).await,
    }
}

fn error_reply(id: Value, e: RpcErr) -> Value {
    let mut error = json!({ "code": e.code, "message": e.message });
    if let Some(data) = e.data {
        error["data"] = data;
    }
    json!({ "jsonrpc": "2.0", "error": error, "id": id })
}

async fn handle_request(state: &State, req: Value) -> Value {
    let id = req.get("id").cloned().unwrap_or(Value::Null);
    let Some(method) = req.get("method").and_then(Value::as_str) else {
        return error_reply(id, RpcErr::new(-32600, "Invalid request"));
    };
    lock(&state.calls).push(method.to_string());
    let params = match req.get("params") {
        None | Some(Value::Null) => Value::Array(vec![]),
        Some(p) => p.clone(),
    };
    match dispatch(state, method, &params).await {
        Ok(result) => json!({ "jsonrpc": "2.0", "result": result, "id": id }),
        Err(e) => error_reply(id, e),
    }
}

async fn dispatch(state: &State, method: &str, params: &Value) -> RpcResult {
    match method {
        "getAccountInfo" => get_account_info(state, params).await,
        "getMultipleAccounts" => get_multiple_accounts(state, params).await,
        "getProgramAccounts" => get_program_accounts(state, params).await,
        "getLatestBlockhash" => get_latest_blockhash(state).await,
        "isBlockhashValid" => is_blockhash_valid(state, params).await,
        "getSlot" | "getBlockHeight" => Ok(json!(slot(state).await?)),
        "getSignatureStatuses" => get_signature_statuses(state, params).await,
        "sendTransaction" => send_transaction(state, params).await,
        "getTransaction" => get_transaction(state, params).await,
        "simulateTransaction" => simulate_transaction(state, params).await,
        "getHealth" => Ok(json!("ok")),
        "getVersion" => Ok(json!({ "solana-core": VERSION, "feature-set": 0 })),
        "getGenesisHash" => Ok(json!(Hash::default().to_string())),
        _ => {
            eprintln!("rpc_bridge: unknown method {method} params={params}");
            lock(&state.unknown).push(method.to_string());
            Err(RpcErr::new(-32601, "Method not found"))
        }
    }
}

/// Positional parameter `i`, `None` when absent or null.
fn param<T: DeserializeOwned>(params: &Value, i: usize) -> Result<Option<T>, RpcErr> {
    match params.get(i) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|e| RpcErr::invalid_params(format!("Invalid params: parameter {i}: {e}"))),
    }
}

fn required<T: DeserializeOwned>(params: &Value, i: usize) -> Result<T, RpcErr> {
    param(params, i)?
        .ok_or_else(|| RpcErr::invalid_params(format!("Invalid params: missing parameter {i}")))
}

fn pubkey(s: &str) -> Result<Pubkey, RpcErr> {
    Pubkey::from_str(s).map_err(|e| RpcErr::invalid_params(format!("Invalid param: {e}")))
}

async fn slot(state: &State) -> Result<u64, RpcErr> {
    Ok(state.chain().clock().await.map_err(RpcErr::internal)?.slot)
}

/// `{"context":{"slot":…,"apiVersion":…},"value":…}`
async fn with_context(state: &State, value: Value) -> RpcResult {
    Ok(json!({
        "context": { "slot": slot(state).await?, "apiVersion": VERSION },
        "value": value,
    }))
}

fn ui_account(
    a: &Account,
    encoding: UiAccountEncoding,
    slice: Option<&UiDataSliceConfig>,
) -> Result<Value, RpcErr> {
    let data = match slice {
        Some(s) => {
            let start = s.offset.min(a.data.len());
            let end = s.offset.saturating_add(s.length).min(a.data.len());
            &a.data[start..end]
        }
        None => &a.data[..],
    };
    let base58_limit = || {
        RpcErr::invalid_params(
            "Encoded binary (base 58) data should be less than 128 bytes, please use Base64 \
             encoding.",
        )
    };
    let data = match encoding {
        UiAccountEncoding::Binary => {
            if data.len() > 128 {
                return Err(base58_limit());
            }
            UiAccountData::LegacyBinary(bs58::encode(data).into_string())
        }
        UiAccountEncoding::Base58 => {
            if data.len() > 128 {
                return Err(base58_limit());
            }
            UiAccountData::Binary(bs58::encode(data).into_string(), encoding)
        }
        // jsonParsed: a node falls back to base64 for accounts it cannot parse; the bridge
        // parses none.
        UiAccountEncoding::Base64 | UiAccountEncoding::JsonParsed => {
            UiAccountData::Binary(B64.encode(data), UiAccountEncoding::Base64)
        }
        UiAccountEncoding::Base64Zstd => match zstd::encode_all(data, 0) {
            Ok(z) => UiAccountData::Binary(B64.encode(z), UiAccountEncoding::Base64Zstd),
            Err(_) => UiAccountData::Binary(B64.encode(data), UiAccountEncoding::Base64),
        },
    };
    serde_json::to_value(UiAccount {
        lamports: a.lamports,
        data,
        owner: a.owner.to_string(),
        executable: a.executable,
        rent_epoch: a.rent_epoch,
        space: Some(a.data.len() as u64),
    })
    .map_err(RpcErr::internal)
}

async fn get_account_info(state: &State, params: &Value) -> RpcResult {
    let key = pubkey(&required::<String>(params, 0)?)?;
    let config: RpcAccountInfoConfig = param(params, 1)?.unwrap_or_default();
    let encoding = config.encoding.unwrap_or(UiAccountEncoding::Binary);
    let account = state
        .chain()
        .account(&key)
        .await
        .map_err(RpcErr::internal)?;
    let value = match account {
        Some(a) => ui_account(&a, encoding, config.data_slice.as_ref())?,
        None => Value::Null,
    };
    with_context(state, value).await
}

async fn get_multiple_accounts(state: &State, params: &Value) -> RpcResult {
    let keys: Vec<String> = required(params, 0)?;
    if keys.len() > MAX_MULTIPLE_ACCOUNTS {
        return Err(RpcErr::invalid_params(format!(
            "Too many inputs provided; max {MAX_MULTIPLE_ACCOUNTS}"
        )));
    }
    let keys = keys
        .iter()
        .map(|k| pubkey(k))
        .collect::<Result<Vec<_>, _>>()?;
    let config: RpcAccountInfoConfig = param(params, 1)?.unwrap_or_default();
    let encoding = config.encoding.unwrap_or(UiAccountEncoding::Base64);
    let accounts = state
        .chain()
        .accounts(&keys)
        .await
        .map_err(RpcErr::internal)?;
    let mut value = Vec::with_capacity(accounts.len());
    for a in accounts {
        value.push(match a {
            Some(a) => ui_account(&a, encoding, config.data_slice.as_ref())?,
            None => Value::Null,
        });
    }
    with_context(state, Value::Array(value)).await
}

fn filter_allows(filter: &RpcFilterType, a: &Account) -> bool {
    match filter {
        RpcFilterType::DataSize(size) => a.data.len() as u64 == *size,
        RpcFilterType::Memcmp(m) => m.bytes_match(&a.data),
        RpcFilterType::TokenAccountState => {
            a.owner == spl_token::ID && spl_token::state::Account::unpack(&a.data).is_ok()
        }
    }
}

async fn get_program_accounts(state: &State, params: &Value) -> RpcResult {
    let program = pubkey(&required::<String>(params, 0)?)?;
    let config: RpcProgramAccountsConfig = param(params, 1)?.unwrap_or_default();
    let filters = config.filters.unwrap_or_default();
    if filters.len() > 4 {
        return Err(RpcErr::invalid_params("Too many filters provided; max 4"));
    }
    for f in &filters {
        f.verify()
            .map_err(|e| RpcErr::invalid_params(format!("Invalid param: {e:?}")))?;
    }
    let encoding = config
        .account_config
        .encoding
        .unwrap_or(UiAccountEncoding::Binary);
    let known = state
        .chain()
        .known_accounts()
        .await
        .map_err(RpcErr::internal)?;
    let mut value = Vec::new();
    for (key, account) in known {
        let Some(a) = account else { continue };
        if a.owner != program || !filters.iter().all(|f| filter_allows(f, &a)) {
            continue;
        }
        value.push(json!({
            "pubkey": key.to_string(),
            "account": ui_account(&a, encoding, config.account_config.data_slice.as_ref())?,
        }));
    }
    if config.with_context.unwrap_or(false) {
        with_context(state, Value::Array(value)).await
    } else {
        Ok(Value::Array(value))
    }
}

async fn get_latest_blockhash(state: &State) -> RpcResult {
    let hash = state
        .chain()
        .latest_blockhash()
        .await
        .map_err(RpcErr::internal)?;
    lock(&state.blockhashes).insert(hash);
    let value = RpcBlockhash {
        blockhash: hash.to_string(),
        last_valid_block_height: slot(state).await? + MAX_PROCESSING_AGE,
    };
    with_context(
        state,
        serde_json::to_value(value).map_err(RpcErr::internal)?,
    )
    .await
}

async fn is_blockhash_valid(state: &State, params: &Value) -> RpcResult {
    let hash = Hash::from_str(&required::<String>(params, 0)?)
        .map_err(|e| RpcErr::invalid_params(format!("Invalid param: {e}")))?;
    let _config: Option<RpcContextConfig> = param(params, 1)?;
    let latest = state
        .chain()
        .latest_blockhash()
        .await
        .map_err(RpcErr::internal)?;
    let valid = hash == latest || lock(&state.blockhashes).contains(&hash);
    with_context(state, json!(valid)).await
}

async fn get_signature_statuses(state: &State, params: &Value) -> RpcResult {
    let sigs: Vec<String> = required(params, 0)?;
    if sigs.len() > MAX_SIGNATURE_STATUSES {
        return Err(RpcErr::invalid_params(format!(
            "Too many inputs provided; max {MAX_SIGNATURE_STATUSES}"
        )));
    }
    let mut value = Vec::with_capacity(sigs.len());
    for s in sigs {
        let sig = Signature::from_str(&s)
            .map_err(|e| RpcErr::invalid_params(format!("Invalid param: {e}")))?;
        let status = lock(&state.landed).get(&sig).cloned();
        value.push(match status {
            Some((slot, err)) => serde_json::to_value(TransactionStatus {
                slot,
                confirmations: None,
                status: match &err {
                    Some(e) => Err(e.clone()),
                    None => Ok(()),
                },
                err,
                confirmation_status: Some(TransactionConfirmationStatus::Finalized),
            })
            .map_err(RpcErr::internal)?,
            None => Value::Null,
        });
    }
    with_context(state, Value::Array(value)).await
}

fn decode_transaction(
    encoded: &str,
    encoding: UiTransactionEncoding,
) -> Result<Transaction, RpcErr> {
    let bytes = match encoding {
        UiTransactionEncoding::Base58 | UiTransactionEncoding::Binary => bs58::decode(encoded)
            .into_vec()
            .map_err(|e| RpcErr::invalid_params(format!("invalid base58 encoding: {e}")))?,
        UiTransactionEncoding::Base64 => B64
            .decode(encoded)
            .map_err(|e| RpcErr::invalid_params(format!("invalid base64 encoding: {e}")))?,
        other => {
            return Err(RpcErr::invalid_params(format!(
                "unsupported encoding: {other}. Supported encodings: base58, base64"
            )))
        }
    };
    let tx: VersionedTransaction = bincode::deserialize(&bytes).map_err(|e| {
        RpcErr::invalid_params(format!(
            "failed to deserialize solana_transaction::versioned::VersionedTransaction: {e}"
        ))
    })?;
    tx.into_legacy_transaction().ok_or_else(|| {
        RpcErr::new(
            -32015,
            "Transaction version (0) is not supported by the requesting client (rpc_bridge \
             serves legacy transactions only)",
        )
    })
}

fn signature_failure() -> RpcErr {
    RpcErr::new(-32003, "Transaction signature verification failure")
}

/// Index, in `message`, of the top-level instruction that failed: the last one the logs show
/// invoked (compute-budget invocations skipped, so injected or missing ones do not matter).
///
/// Natively run programs log their invocation twice under solana-program-test (`P invoke [1]`
/// right before `P invoke [1]` or, for a CPI, `P invoke [2]`); a line directly followed by
/// another invocation of the same program is not counted.
fn failing_instruction(logs: &[String], message: &Message) -> Option<u8> {
    let cb = format!("Program {COMPUTE_BUDGET} ");
    let invoked_program = |l: &str| -> Option<(String, String)> {
        let rest = l.strip_prefix("Program ")?;
        let (program, depth) = rest.split_once(" invoke [")?;
        Some((program.to_string(), depth.trim_end_matches(']').to_string()))
    };
    let mut invoked = 0usize;
    for (i, l) in logs.iter().enumerate() {
        if l.starts_with(&cb) {
            continue;
        }
        let Some((program, depth)) = invoked_program(l) else {
            continue;
        };
        if depth != "1" {
            continue;
        }
        let doubled = logs
            .get(i + 1)
            .and_then(|next| invoked_program(next))
            .is_some_and(|(next, _)| next == program);
        if !doubled {
            invoked += 1;
        }
    }
    let candidates: Vec<usize> = message
        .instructions
        .iter()
        .enumerate()
        .filter(|(_, ci)| message.account_keys[ci.program_id_index as usize] != COMPUTE_BUDGET)
        .map(|(i, _)| i)
        .collect();
    let i = *candidates.get(invoked.checked_sub(1)?)?;
    u8::try_from(i).ok()
}

/// The `TransactionError` a node would report for `f`, rebuilt from its name and code.
fn wire_error(state: &State, f: &TxFailure, message: &Message) -> TransactionError {
    let index = failing_instruction(&f.logs, message);
    let err = match f.code {
        Some(code) => {
            TransactionError::InstructionError(index.unwrap_or(0), InstructionError::Custom(code))
        }
        None => {
            let name = Value::String(f.name.clone());
            let as_ix = serde_json::from_value::<InstructionError>(name.clone()).ok();
            let as_tx = serde_json::from_value::<TransactionError>(name).ok();
            match (index, as_ix, as_tx) {
                (Some(i), Some(e), _) => TransactionError::InstructionError(i, e),
                (_, _, Some(e)) => e,
                (None, Some(e), None) => TransactionError::InstructionError(0, e),
                (i, None, None) => TransactionError::InstructionError(
                    i.unwrap_or(0),
                    InstructionError::GenericError,
                ),
            }
        }
    };
    let again = failure(&err, f.logs.clone());
    if again.name != f.name || again.code != f.code {
        let m = format!(
            "bank failure {:?} (code {:?}) goes on the wire as {err:?}, named {:?}",
            f.name, f.code, again.name
        );
        eprintln!("rpc_bridge: {m}");
        lock(&state.mismatches).push(m);
    }
    lock(&state.wire_errors).push(err.clone());
    err
}

/// Compute units of the top-level instructions, from the `consumed` log lines.
fn units_from_logs(logs: &[String]) -> u64 {
    let mut depth = 0usize;
    let mut units = 0u64;
    for l in logs {
        if let Some(rest) = l.strip_prefix("Program ") {
            if let Some(d) = rest
                .rsplit_once(" invoke [")
                .and_then(|(_, d)| d.strip_suffix(']'))
                .and_then(|d| d.parse().ok())
            {
                depth = d;
            } else if rest.ends_with(" success") || rest.contains(" failed: ") {
                depth = depth.saturating_sub(1);
            } else if depth == 1 && rest.contains(" consumed ") {
                units += rest
                    .split(" consumed ")
                    .nth(1)
                    .and_then(|r| r.split(' ').next())
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(0);
            }
        }
    }
    units
}

fn simulation_result(
    err: Option<TransactionError>,
    logs: Vec<String>,
    units: u64,
    return_data: Option<UiTransactionReturnData>,
    replacement: Option<RpcBlockhash>,
) -> RpcSimulateTransactionResult {
    RpcSimulateTransactionResult {
        err,
        logs: Some(logs),
        accounts: None,
        units_consumed: Some(units),
        loaded_accounts_data_size: None,
        return_data,
        inner_instructions: None,
        replacement_blockhash: replacement,
    }
}

/// `getTransaction` for a transaction this bridge landed: its bytes and logs.
async fn get_transaction(state: &State, params: &Value) -> RpcResult {
    let sig: String = required(params, 0)?;
    let sig = Signature::from_str(&sig).map_err(|e| RpcErr::invalid_params(e.to_string()))?;
    let Some((wire, logs)) = lock(&state.transactions).get(&sig).cloned() else {
        return Ok(Value::Null);
    };
    let slot = lock(&state.landed)
        .get(&sig)
        .map(|(s, _)| *s)
        .unwrap_or_default();
    Ok(json!({
        "slot": slot,
        "transaction": [wire, "base64"],
        "meta": {
            "err": null,
            "status": {"Ok": null},
            "fee": 5000,
            "preBalances": [],
            "postBalances": [],
            "logMessages": logs,
        },
        "blockTime": null,
    }))
}

async fn send_transaction(state: &State, params: &Value) -> RpcResult {
    let encoded: String = required(params, 0)?;
    let config: RpcSendTransactionConfig = param(params, 1)?.unwrap_or_default();
    let tx = decode_transaction(
        &encoded,
        config.encoding.unwrap_or(UiTransactionEncoding::Base58),
    )?;
    if tx.verify().is_err() {
        return Err(signature_failure());
    }
    let signature = *tx
        .signatures
        .first()
        .ok_or_else(|| RpcErr::invalid_params("transaction has no signatures"))?;
    lock(&state.blockhashes).insert(tx.message.recent_blockhash);
    let message = tx.message.clone();
    let wire = base64::engine::general_purpose::STANDARD
        .encode(bincode::serialize(&tx).map_err(RpcErr::internal)?);
    let outcome = state
        .chain()
        .send_signed(tx)
        .await
        .map_err(RpcErr::internal)?;
    let slot = slot(state).await?;
    match outcome {
        Ok(o) => {
            lock(&state.landed).insert(signature, (slot, None));
            lock(&state.transactions).insert(signature, (wire, o.logs));
            Ok(json!(signature.to_string()))
        }
        Err(f) => {
            let err = wire_error(state, &f, &message);
            if config.skip_preflight {
                // No preflight: the node accepts it, and the failure shows in its status.
                lock(&state.landed).insert(signature, (slot, Some(err)));
                return Ok(json!(signature.to_string()));
            }
            let units = units_from_logs(&f.logs);
            let result = simulation_result(Some(err.clone()), f.logs, units, None, None);
            Err(RpcErr {
                code: -32002,
                message: format!("Transaction simulation failed: {err}"),
                data: Some(serde_json::to_value(result).map_err(RpcErr::internal)?),
            })
        }
    }
}

async fn simulate_transaction(state: &State, params: &Value) -> RpcResult {
    let encoded: String = required(params, 0)?;
    let config: RpcSimulateTransactionConfig = param(params, 1)?.unwrap_or_default();
    if config.accounts.is_some() {
        return Err(RpcErr::invalid_params(
            "rpc_bridge: simulateTransaction `accounts` is not supported",
        ));
    }
    let tx = decode_transaction(
        &encoded,
        config.encoding.unwrap_or(UiTransactionEncoding::Base58),
    )?;
    if config.sig_verify && tx.verify().is_err() {
        return Err(signature_failure());
    }
    let message = &tx.message;
    let keys = &message.account_keys;

    // LocalChain::simulate re-signs: find every signer's keypair.
    let signer_count = usize::from(message.header.num_required_signatures).min(keys.len());
    let signers: Vec<Keypair> = {
        let keyring = lock(&state.keyring);
        keys[..signer_count]
            .iter()
            .map(|k| {
                keyring
                    .iter()
                    .find(|kp| kp.pubkey() == *k)
                    .map(Keypair::insecure_clone)
                    .ok_or_else(|| {
                        RpcErr::invalid_params(format!(
                            "rpc_bridge: no keypair to re-sign the simulation for signer {k} \
                             (RpcBridge::add_signer)"
                        ))
                    })
            })
            .collect::<Result<_, _>>()?
    };
    let signer_refs: Vec<&Keypair> = signers.iter().collect();

    // Decompile, leaving out compute-budget instructions (LocalChain adds its own).
    let mut had_compute_budget = false;
    let mut instructions = Vec::new();
    for ci in &message.instructions {
        let program_id = keys[usize::from(ci.program_id_index)];
        if program_id == COMPUTE_BUDGET {
            had_compute_budget = true;
            continue;
        }
        instructions.push(Instruction {
            program_id,
            accounts: ci
                .accounts
                .iter()
                .map(|&i| {
                    let i = usize::from(i);
                    AccountMeta {
                        pubkey: keys[i],
                        is_signer: message.is_signer(i),
                        is_writable: message.is_maybe_writable(i, None),
                    }
                })
                .collect(),
            data: ci.data.clone(),
        });
    }

    let outcome = state
        .chain()
        .simulate(&instructions, &signer_refs)
        .await
        .map_err(RpcErr::internal)?;
    let keep = |logs: Vec<String>| -> Vec<String> {
        if had_compute_budget {
            return logs;
        }
        let cb = format!("Program {} ", COMPUTE_BUDGET);
        logs.into_iter().filter(|l| !l.starts_with(&cb)).collect()
    };
    let replacement = if config.replace_recent_blockhash {
        let hash = state
            .chain()
            .latest_blockhash()
            .await
            .map_err(RpcErr::internal)?;
        Some(RpcBlockhash {
            blockhash: hash.to_string(),
            last_valid_block_height: slot(state).await? + MAX_PROCESSING_AGE,
        })
    } else {
        None
    };
    let result = match outcome {
        Ok(out) => {
            let return_data = out.return_data.map(|data| {
                // The last "Program return: <program> <base64>" line names the program.
                let program_id = out
                    .logs
                    .iter()
                    .rev()
                    .find_map(|l| l.strip_prefix("Program return: "))
                    .and_then(|r| r.split(' ').next())
                    .map(str::to_string)
                    .or_else(|| instructions.last().map(|ix| ix.program_id.to_string()))
                    .unwrap_or_default();
                UiTransactionReturnData {
                    program_id,
                    data: (B64.encode(data), UiReturnDataEncoding::Base64),
                }
            });
            simulation_result(
                None,
                keep(out.logs),
                out.compute_units,
                return_data,
                replacement,
            )
        }
        Err(f) => {
            let err = wire_error(state, &f, message);
            let units = units_from_logs(&f.logs);
            simulation_result(Some(err), keep(f.logs), units, None, replacement)
        }
    };
    with_context(
        state,
        serde_json::to_value(result).map_err(RpcErr::internal)?,
    )
    .await
}
