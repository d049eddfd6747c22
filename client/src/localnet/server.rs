//! The servers: JSON-RPC over HTTP on one port and PubSub over WebSocket on another (by default
//! the next one, as `solana-test-validator` does), both jsonrpsee with the same methods. HTTP
//! answers browsers' CORS preflights (dApps and wallets call it from a page); subscription ids
//! are integers a JavaScript number holds exactly.

use super::diagnostics::{Diagnostics, Recorder};
use super::node::{ChainHost, Event, Node, Operator};
use super::{methods, operator, pubsub, ticker};
use anyhow::{Context, Result};
use jsonrpsee::server::middleware::rpc::RpcServiceBuilder;
use jsonrpsee::server::{RandomIntegerIdProvider, Server, ServerConfig, ServerHandle};
use jsonrpsee::RpcModule;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

/// The port `solana-test-validator` serves JSON-RPC on.
pub const DEFAULT_RPC_PORT: u16 = 8899;
/// How often a node makes a slot.
pub const SLOT_INTERVAL: Duration = Duration::from_millis(400);

/// How to serve.
pub struct LocalnetConfig {
    /// JSON-RPC over HTTP.
    pub rpc_addr: SocketAddr,
    /// PubSub over WebSocket; `None` is the port after `rpc_addr`'s.
    pub ws_addr: Option<SocketAddr>,
    /// A slot every this long (and the bank's own blockhash task stopped); `None` keeps the bank
    /// as it is, slots moving only when told (tests comparing answers with the bank's own).
    pub slot_interval: Option<Duration>,
    /// The markets and keys of the operator methods, when this localnet set the chain up.
    pub operator: Option<Operator>,
}

impl Default for LocalnetConfig {
    fn default() -> Self {
        Self {
            rpc_addr: SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_RPC_PORT)),
            ws_addr: None,
            slot_interval: Some(SLOT_INTERVAL),
            operator: None,
        }
    }
}

impl LocalnetConfig {
    /// Both servers on ephemeral ports of 127.0.0.1 (tests).
    pub fn ephemeral() -> Self {
        let any = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        Self {
            rpc_addr: any,
            ws_addr: Some(any),
            ..Self::default()
        }
    }
}

/// A running localnet; stops when dropped (or with [`Localnet::stop`]).
pub struct Localnet {
    node: Arc<Node>,
    rpc_addr: SocketAddr,
    ws_addr: SocketAddr,
    http: ServerHandle,
    ws: ServerHandle,
    ticker: Option<JoinHandle<()>>,
}

fn module(node: Arc<Node>) -> Result<RpcModule<Node>> {
    let mut m = RpcModule::from_arc(node);
    methods::register(&mut m)?;
    operator::register(&mut m)?;
    pubsub::register(&mut m)?;
    Ok(m)
}

impl Localnet {
    /// Serves `host`'s chain.
    pub async fn start(host: Arc<dyn ChainHost>, config: LocalnetConfig) -> Result<Localnet> {
        let diagnostics = Arc::new(Diagnostics::default());
        let node = Arc::new(Node::new(host, config.operator, diagnostics.clone()));
        let methods = module(node.clone())?;
        diagnostics.set_served(methods.method_names().map(str::to_string));

        let recorder = {
            let diagnostics = diagnostics.clone();
            RpcServiceBuilder::new().layer_fn(move |service| Recorder {
                service,
                diagnostics: diagnostics.clone(),
            })
        };
        let cors = tower_http::cors::CorsLayer::new()
            .allow_origin(tower_http::cors::Any)
            .allow_headers(tower_http::cors::Any)
            .allow_methods(tower_http::cors::Any);
        let http_server = Server::builder()
            .set_config(
                ServerConfig::builder()
                    .http_only()
                    .max_connections(1_024)
                    .build(),
            )
            .set_http_middleware(tower::ServiceBuilder::new().layer(cors))
            .set_rpc_middleware(recorder.clone())
            .build(config.rpc_addr)
            .await
            .with_context(|| format!("cannot serve JSON-RPC on {}", config.rpc_addr))?;
        let rpc_addr = http_server.local_addr()?;
        let ws_addr = config
            .ws_addr
            .unwrap_or_else(|| SocketAddr::new(rpc_addr.ip(), rpc_addr.port().saturating_add(1)));
        let ws_server = Server::builder()
            .set_config(
                ServerConfig::builder()
                    .ws_only()
                    .max_connections(1_024)
                    .set_id_provider(RandomIntegerIdProvider)
                    .build(),
            )
            .set_rpc_middleware(recorder)
            .build(ws_addr)
            .await
            .with_context(|| format!("cannot serve PubSub on {ws_addr}"))?;
        let ws_addr = ws_server.local_addr()?;
        let http = http_server.start(methods.clone());
        let ws = ws_server.start(methods);
        let ticker = match config.slot_interval {
            Some(interval) => {
                node.chain().stop_blockhash_ticker().await;
                Some(ticker::spawn(node.clone(), interval))
            }
            None => None,
        };
        Ok(Localnet {
            node,
            rpc_addr,
            ws_addr,
            http,
            ws,
            ticker,
        })
    }

    /// The JSON-RPC endpoint, e.g. `http://127.0.0.1:8899`.
    pub fn rpc_url(&self) -> String {
        format!("http://{}", self.rpc_addr)
    }

    /// The PubSub endpoint, e.g. `ws://127.0.0.1:8900`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.ws_addr)
    }

    /// What was called and what crossed the wire.
    pub fn diagnostics(&self) -> &Diagnostics {
        &self.node.diagnostics
    }

    /// Every event from now on (slots, landed transactions, operator writes).
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.node.subscribe()
    }

    /// The markets the operator methods act on (empty when serving a chain set up elsewhere).
    pub fn markets(&self) -> &[crate::local::migration::LocalMarket] {
        match &self.node.operator {
            Some(op) => &op.markets,
            None => &[],
        }
    }

    /// Stops serving and waits until both servers are down.
    pub async fn stop(mut self) {
        if let Some(t) = self.ticker.take() {
            t.abort();
        }
        let _ = self.http.stop();
        let _ = self.ws.stop();
        self.http.clone().stopped().await;
        self.ws.clone().stopped().await;
    }
}

impl Drop for Localnet {
    fn drop(&mut self) {
        if let Some(t) = self.ticker.take() {
            t.abort();
        }
        // Already stopped is fine.
        let _ = self.http.stop();
        let _ = self.ws.stop();
    }
}
