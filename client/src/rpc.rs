//! The [`Chain`] over a real Solana JSON-RPC endpoint (devnet, mainnet, a local validator):
//! batched reads, program-account scans filtered by discriminator, send-and-confirm with the
//! failure named from the preflight simulation.

use crate::chain::{failure, Chain, TxFailure, TxOutcome};
use anyhow::{anyhow, Context};
use async_trait::async_trait;
use base64::Engine;
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::{
    client_error::ErrorKind,
    config::{RpcAccountInfoConfig, RpcProgramAccountsConfig},
    filter::{Memcmp, RpcFilterType},
    request::{RpcError, RpcResponseErrorData},
};
use solana_sdk::{
    account::Account,
    clock::Clock,
    commitment_config::CommitmentConfig,
    hash::Hash,
    instruction::Instruction,
    pubkey::Pubkey,
    signature::{Keypair, Signer},
    sysvar,
    transaction::Transaction,
};

/// Largest `getMultipleAccounts` batch the RPC accepts.
pub const MAX_MULTIPLE_ACCOUNTS: usize = 100;

/// A cluster reached over JSON-RPC.
pub struct RpcChain {
    client: RpcClient,
    commitment: CommitmentConfig,
}

impl RpcChain {
    /// Connects to `url` with `confirmed` commitment.
    pub fn new(url: &str) -> Self {
        let commitment = CommitmentConfig::confirmed();
        Self {
            client: RpcClient::new_with_commitment(url.to_string(), commitment),
            commitment,
        }
    }

    /// The endpoint.
    pub fn url(&self) -> String {
        self.client.url()
    }
}

impl RpcChain {
    /// Logs and compute units of a confirmed transaction (events live in its logs). A node that
    /// cannot serve `getTransaction` yet (or at all) yields an outcome without logs.
    async fn landed_outcome(&self, signature: &solana_sdk::signature::Signature) -> TxOutcome {
        let config = solana_rpc_client_api::config::RpcTransactionConfig {
            encoding: Some(solana_transaction_status_client_types::UiTransactionEncoding::Base64),
            commitment: Some(self.commitment),
            max_supported_transaction_version: Some(0),
        };
        match self
            .client
            .get_transaction_with_config(signature, config)
            .await
        {
            Ok(tx) => {
                let meta = tx.transaction.meta;
                TxOutcome {
                    logs: meta
                        .as_ref()
                        .and_then(|m| Option::<Vec<String>>::from(m.log_messages.clone()))
                        .unwrap_or_default(),
                    return_data: None,
                    compute_units: meta
                        .and_then(|m| Option::<u64>::from(m.compute_units_consumed))
                        .unwrap_or_default(),
                }
            }
            Err(e) => {
                tracing::debug!(%signature, error = %e, "transaction logs unavailable");
                TxOutcome::default()
            }
        }
    }
}

/// Reads a Solana CLI keypair file (a JSON array of 64 bytes).
pub fn read_keypair(path: &std::path::Path) -> anyhow::Result<Keypair> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read keypair file {}", path.display()))?;
    let bytes: Vec<u8> = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a Solana CLI keypair (a JSON array of 64 numbers)",
            path.display()
        )
    })?;
    Keypair::try_from(bytes.as_slice()).map_err(|e| anyhow!("{}: {e}", path.display()))
}

/// Health checks over 8 positions need more than the default 200 000 compute units: callers
/// that set no budget get the maximum limit (no priority fee is added).
fn with_compute_budget(instructions: &[Instruction]) -> Vec<Instruction> {
    let mut ixs = Vec::with_capacity(instructions.len() + 1);
    if !instructions
        .iter()
        .any(|ix| ix.program_id == solana_sdk::compute_budget::ID)
    {
        ixs.push(
            solana_sdk::compute_budget::ComputeBudgetInstruction::set_compute_unit_limit(1_400_000),
        );
    }
    ixs.extend_from_slice(instructions);
    ixs
}

fn preflight_logs(kind: &ErrorKind) -> Vec<String> {
    match kind {
        ErrorKind::RpcError(RpcError::RpcResponseError {
            data: RpcResponseErrorData::SendTransactionPreflightFailure(sim),
            ..
        }) => sim.logs.clone().unwrap_or_default(),
        _ => Vec::new(),
    }
}

#[async_trait]
impl Chain for RpcChain {
    async fn account(&self, key: &Pubkey) -> anyhow::Result<Option<Account>> {
        Ok(self
            .client
            .get_account_with_commitment(key, self.commitment)
            .await?
            .value)
    }

    async fn accounts(&self, keys: &[Pubkey]) -> anyhow::Result<Vec<Option<Account>>> {
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(MAX_MULTIPLE_ACCOUNTS) {
            out.extend(self.client.get_multiple_accounts(chunk).await?);
        }
        Ok(out)
    }

    async fn program_accounts(
        &self,
        discriminator: &[u8],
    ) -> anyhow::Result<Vec<(Pubkey, Account)>> {
        let config = RpcProgramAccountsConfig {
            filters: Some(vec![RpcFilterType::Memcmp(Memcmp::new_raw_bytes(
                0,
                discriminator.to_vec(),
            ))]),
            account_config: RpcAccountInfoConfig {
                encoding: Some(UiAccountEncoding::Base64),
                commitment: Some(self.commitment),
                ..RpcAccountInfoConfig::default()
            },
            with_context: None,
            sort_results: None,
        };
        Ok(self
            .client
            .get_program_accounts_with_config(&scalpel::ID, config)
            .await?)
    }

    async fn send(
        &self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> anyhow::Result<Result<TxOutcome, TxFailure>> {
        let payer = signers
            .first()
            .ok_or_else(|| anyhow!("a transaction needs a fee payer"))?;
        let blockhash = self.latest_blockhash().await?;
        let ixs = with_compute_budget(instructions);
        let mut tx = Transaction::new_with_payer(&ixs, Some(&payer.pubkey()));
        tx.try_sign(&signers.to_vec(), blockhash)?;
        self.send_signed(tx).await
    }

    async fn simulate(
        &self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> anyhow::Result<Result<TxOutcome, TxFailure>> {
        let payer = signers
            .first()
            .ok_or_else(|| anyhow!("a transaction needs a fee payer"))?;
        let blockhash = self.latest_blockhash().await?;
        let mut tx = Transaction::new_with_payer(instructions, Some(&payer.pubkey()));
        tx.try_sign(&signers.to_vec(), blockhash)?;
        let sim = self.client.simulate_transaction(&tx).await?.value;
        let logs = sim.logs.unwrap_or_default();
        if let Some(err) = sim.err {
            return Ok(Err(failure(&err, logs)));
        }
        let return_data = match sim.return_data {
            Some(r) => Some(base64::engine::general_purpose::STANDARD.decode(r.data.0)?),
            None => None,
        };
        Ok(Ok(TxOutcome {
            logs,
            return_data,
            compute_units: sim.units_consumed.unwrap_or_default(),
        }))
    }

    async fn clock(&self) -> anyhow::Result<Clock> {
        let account = self
            .account(&sysvar::clock::ID)
            .await?
            .ok_or_else(|| anyhow!("the cluster returned no clock sysvar"))?;
        Ok(bincode::deserialize(&account.data)?)
    }

    async fn latest_blockhash(&self) -> anyhow::Result<Hash> {
        Ok(self.client.get_latest_blockhash().await?)
    }

    async fn send_signed(&self, tx: Transaction) -> anyhow::Result<Result<TxOutcome, TxFailure>> {
        match self.client.send_and_confirm_transaction(&tx).await {
            Ok(signature) => Ok(Ok(self.landed_outcome(&signature).await)),
            Err(e) => match e.kind().get_transaction_error() {
                Some(tx_err) => Ok(Err(failure(&tx_err, preflight_logs(e.kind())))),
                None => Err(anyhow!(e).context(format!("sending to {}", self.client.url()))),
            },
        }
    }
}
