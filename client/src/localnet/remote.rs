//! The operator methods called from another process (`scalpel localnet price|warp|fund`), with
//! errors that say what to do: no localnet listening, an unknown symbol (the localnet's answer
//! lists the known ones), a bad amount.

use anyhow::{anyhow, bail, Result};
use serde_json::{json, Value};
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::{
    client_error::{Error as ClientError, ErrorKind},
    request::{RpcError, RpcRequest},
};
use solana_sdk::pubkey::Pubkey;

/// A running localnet's operator methods.
pub struct Remote {
    client: RpcClient,
}

impl Remote {
    /// Talks to the localnet at `url`.
    pub fn new(url: &str) -> Self {
        Self {
            client: RpcClient::new(url.to_string()),
        }
    }

    async fn call(&self, method: &'static str, params: Value) -> Result<Value> {
        self.client
            .send::<Value>(RpcRequest::Custom { method }, params)
            .await
            .map_err(|e| self.explain(method, e))
    }

    fn explain(&self, method: &str, e: ClientError) -> anyhow::Error {
        let url = self.client.url();
        match e.kind() {
            ErrorKind::Reqwest(r) if r.is_connect() || r.is_timeout() => anyhow!(
                "no localnet answers at {url}: start one with `scalpel localnet` (or point --rpc \
                 at the one running)"
            ),
            ErrorKind::RpcError(RpcError::RpcResponseError { code: -32601, .. }) => anyhow!(
                "{url} does not serve {method}: it is not a `scalpel localnet` (a cluster or \
                 solana-test-validator has no operator methods)"
            ),
            ErrorKind::RpcError(RpcError::RpcResponseError { message, .. }) => {
                anyhow!("{message}")
            }
            _ => anyhow!(e).context(format!("calling {method} on {url}")),
        }
    }

    /// The program id and the markets (`scalpel_markets`).
    pub async fn markets(&self) -> Result<Value> {
        self.call("scalpel_markets", json!([])).await
    }

    /// Publishes `price` ± `conf` for the market `symbol` now (`scalpel_setPrice`).
    pub async fn set_price(&self, symbol: &str, price: &str, conf: &str) -> Result<Value> {
        self.call("scalpel_setPrice", json!([symbol, price, conf]))
            .await
    }

    /// Publishes a price whose EMA lags (`scalpel_setPrice` with its EMA and EMA confidence):
    /// how a pumped or crashing market looks to the program's oracle guards.
    pub async fn set_price_with_ema(
        &self,
        symbol: &str,
        price: &str,
        conf: &str,
        ema: &str,
        ema_conf: &str,
    ) -> Result<Value> {
        self.call(
            "scalpel_setPrice",
            json!([symbol, price, conf, ema, ema_conf]),
        )
        .await
    }

    /// Moves the clock forward (`scalpel_warp`), republishing prices unless `stale`.
    pub async fn warp(&self, seconds: i64, stale: bool) -> Result<Value> {
        if seconds <= 0 {
            bail!("warp takes a positive number of seconds, not {seconds}");
        }
        self.call("scalpel_warp", json!([seconds, {"republish": !stale}]))
            .await
    }

    /// Funds `owner` with `amount` of `asset` (`SOL` or a market symbol; `token` forces the
    /// market token when the symbol is `SOL`) (`scalpel_fund`).
    pub async fn fund(
        &self,
        owner: &Pubkey,
        asset: &str,
        amount: &str,
        token: bool,
    ) -> Result<Value> {
        self.call(
            "scalpel_fund",
            json!([owner.to_string(), asset, amount, {"token": token}]),
        )
        .await
    }
}
