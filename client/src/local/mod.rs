//! The in-process chain: `solana-program-test` running Scalpel natively (or its SBF build when
//! `SBF_OUT_DIR` points at `scalpel.so`), with the real SPL Token program from program-test's
//! bundled binaries. The only place with the native `entry` wrapper. `oracle` writes Pyth prices
//! into the bank, `migration` applies a migration file to it.

pub mod migration;
pub mod oracle;

use crate::chain::{failure, Chain, TxFailure, TxOutcome};
use anyhow::anyhow;
use async_trait::async_trait;
use solana_program_test::{processor, ProgramTest, ProgramTestContext};
use solana_runtime::{bank::Bank, bank_forks::BankForks};
use solana_sdk::{
    account::{Account, AccountSharedData},
    account_info::AccountInfo,
    clock::Clock,
    compute_budget::ComputeBudgetInstruction,
    entrypoint::ProgramResult,
    hash::Hash,
    instruction::Instruction,
    pubkey::Pubkey,
    signature::{Keypair, Signer},
    transaction::Transaction,
};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use tokio::sync::Mutex;

/// Anchor's `entry` ties the accounts slice to the `'info` of its elements; `processor!` hands
/// independent lifetimes. The slice outlives the call, so extending it is sound here.
fn scalpel_entry<'a, 'b>(
    program_id: &'a Pubkey,
    accounts: &'a [AccountInfo<'b>],
    data: &'a [u8],
) -> ProgramResult {
    // SAFETY: `accounts` lives for the whole instruction; only the lifetime parameter changes.
    let accounts: &'b [AccountInfo<'b>] = unsafe { core::mem::transmute(accounts) };
    scalpel::entry(program_id, accounts, data)
}

/// The Scalpel program plus SPL Token in a bank, driven through real transactions.
pub struct LocalChain {
    ctx: Mutex<ProgramTestContext>,
    forks: Arc<RwLock<BankForks>>,
    genesis_hash: Hash,
    payer: Keypair,
    known: std::sync::Mutex<BTreeSet<Pubkey>>,
    nonce: AtomicU64,
}

impl LocalChain {
    /// Starts a bank with the program loaded natively and `accounts` preloaded.
    pub async fn start(accounts: Vec<(Pubkey, Account)>) -> Self {
        let mut pt = ProgramTest::new("scalpel", scalpel::ID, processor!(scalpel_entry));
        pt.prefer_bpf(false);
        pt.set_compute_max_units(1_400_000);
        let mut known = BTreeSet::new();
        for (k, a) in accounts {
            known.insert(k);
            pt.add_account(k, a);
        }
        let ctx = pt.start_with_context().await;
        let payer = ctx.payer.insecure_clone();
        let forks = ctx.bank_forks();
        let genesis_hash = ctx.genesis_config().hash();
        Self {
            ctx: Mutex::new(ctx),
            forks,
            genesis_hash,
            payer,
            known: std::sync::Mutex::new(known),
            nonce: AtomicU64::new(0),
        }
    }

    /// The funded payer of the bank.
    pub fn payer(&self) -> &Keypair {
        &self.payer
    }

    /// The bank transactions land in, for reads. Anything that executes or writes goes through
    /// [`LocalChain::with_bank`] so it never races a slot change.
    pub fn working_bank(&self) -> Arc<Bank> {
        match self.forks.read() {
            Ok(f) => f.working_bank(),
            Err(poisoned) => poisoned.into_inner().working_bank(),
        }
    }

    /// Runs `f` on the working bank while no other operation of this chain (a transaction, an
    /// account write, a slot change) runs.
    pub async fn with_bank<R>(&self, f: impl FnOnce(&Bank) -> R) -> R {
        let _ctx = self.ctx.lock().await;
        f(&self.working_bank())
    }

    /// The genesis config's hash.
    pub fn genesis_hash(&self) -> Hash {
        self.genesis_hash
    }

    /// Whether Scalpel runs as the SBF build (loaded from `SBF_OUT_DIR`) rather than natively.
    pub fn runs_sbf(&self) -> bool {
        self.working_bank()
            .get_account(&scalpel::ID)
            .is_some_and(|a| {
                solana_sdk::account::ReadableAccount::owner(&a) != &solana_sdk::native_loader::ID
            })
    }

    /// Stops program-test's own blockhash task (a new blockhash every 6.4 ms, so a blockhash
    /// expires within about a second): blockhashes then change only with
    /// [`LocalChain::advance_slot`], one per slot, as on a cluster.
    pub async fn stop_blockhash_ticker(&self) {
        self.ctx.lock().await.stop_blockhash_ticker();
    }

    /// Moves the bank to the next slot (a new blockhash, block height + 1). The clock's unix time
    /// is kept: it moves only when told ([`LocalChain::set_unix_time`]), so published prices do
    /// not go stale by themselves. Returns the new slot.
    pub async fn advance_slot(&self) -> anyhow::Result<u64> {
        let mut ctx = self.ctx.lock().await;
        let bank = self.working_bank();
        let before = bank.clock();
        let next = bank.slot().saturating_add(1);
        drop(bank);
        ctx.warp_to_slot(next)
            .map_err(|e| anyhow!("cannot move the bank to slot {next}: {e:?}"))?;
        let mut clock = self.working_bank().clock();
        if clock.unix_timestamp != before.unix_timestamp {
            clock.unix_timestamp = before.unix_timestamp;
            ctx.set_sysvar(&clock);
        }
        Ok(next)
    }

    /// Writes an account directly (test setup and oracle prices only).
    pub async fn set_account(&self, key: &Pubkey, account: Account) {
        self.remember(std::iter::once(*key));
        self.ctx
            .lock()
            .await
            .set_account(key, &AccountSharedData::from(account));
    }

    /// Sets the clock's unix time (slots unchanged).
    pub async fn set_unix_time(&self, unix_timestamp: i64) -> anyhow::Result<()> {
        let ctx = self.ctx.lock().await;
        let mut clock: Clock = ctx.banks_client.get_sysvar().await?;
        clock.unix_timestamp = unix_timestamp;
        ctx.set_sysvar(&clock);
        Ok(())
    }

    /// Advances the clock's unix time by `secs`.
    pub async fn advance_time(&self, secs: i64) -> anyhow::Result<()> {
        let now = self.clock().await?.unix_timestamp;
        self.set_unix_time(now.saturating_add(secs)).await
    }

    /// Every account this chain has seen referenced, with its current state (for snapshots).
    pub async fn known_accounts(&self) -> anyhow::Result<Vec<(Pubkey, Option<Account>)>> {
        let keys: Vec<Pubkey> = match self.known.lock() {
            Ok(k) => k.iter().copied().collect(),
            Err(_) => Vec::new(),
        };
        let accounts = self.accounts(&keys).await?;
        Ok(keys.into_iter().zip(accounts).collect())
    }

    /// Starts tracking every account the instructions reference (so a snapshot taken before a
    /// transaction covers the accounts it could create).
    pub fn track(&self, instructions: &[Instruction]) {
        self.remember(
            instructions
                .iter()
                .flat_map(|ix| ix.accounts.iter().map(|m| m.pubkey)),
        );
    }

    fn remember(&self, keys: impl Iterator<Item = Pubkey>) {
        if let Ok(mut k) = self.known.lock() {
            k.extend(keys);
        }
    }

    async fn build(
        &self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> anyhow::Result<Transaction> {
        // A distinct compute-unit price per transaction keeps identical retries from being
        // deduplicated by signature within one blockhash.
        let n = self.nonce.fetch_add(1, Ordering::Relaxed);
        // Callers that set their own compute budget (the keeper) keep it; duplicates are refused.
        let has_budget = instructions
            .iter()
            .any(|ix| ix.program_id == solana_sdk::compute_budget::ID);
        let mut ixs = if has_budget {
            Vec::new()
        } else {
            vec![
                ComputeBudgetInstruction::set_compute_unit_limit(1_400_000),
                ComputeBudgetInstruction::set_compute_unit_price(n % 1_000),
            ]
        };
        ixs.extend_from_slice(instructions);
        self.remember(
            instructions
                .iter()
                .flat_map(|ix| ix.accounts.iter().map(|m| m.pubkey)),
        );
        let payer = signers
            .first()
            .map(|s| s.pubkey())
            .unwrap_or(self.payer.pubkey());
        let blockhash = self
            .ctx
            .lock()
            .await
            .banks_client
            .get_latest_blockhash()
            .await?;
        let mut tx = Transaction::new_with_payer(&ixs, Some(&payer));
        let keys: Vec<&Keypair> = signers.to_vec();
        tx.try_sign(&keys, blockhash)?;
        Ok(tx)
    }
}

#[async_trait]
impl Chain for LocalChain {
    async fn account(&self, key: &Pubkey) -> anyhow::Result<Option<Account>> {
        Ok(self.ctx.lock().await.banks_client.get_account(*key).await?)
    }

    async fn accounts(&self, keys: &[Pubkey]) -> anyhow::Result<Vec<Option<Account>>> {
        let ctx = self.ctx.lock().await;
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            out.push(ctx.banks_client.get_account(*k).await?);
        }
        Ok(out)
    }

    async fn program_accounts(
        &self,
        discriminator: &[u8],
    ) -> anyhow::Result<Vec<(Pubkey, Account)>> {
        let keys: Vec<Pubkey> = match self.known.lock() {
            Ok(k) => k.iter().copied().collect(),
            Err(_) => Vec::new(),
        };
        let accounts = self.accounts(&keys).await?;
        Ok(keys
            .into_iter()
            .zip(accounts)
            .filter_map(|(k, a)| a.map(|a| (k, a)))
            .filter(|(_, a)| a.owner == scalpel::ID && a.data.starts_with(discriminator))
            .collect())
    }

    async fn send(
        &self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> anyhow::Result<Result<TxOutcome, TxFailure>> {
        let tx = self.build(instructions, signers).await?;
        self.send_signed(tx).await
    }

    async fn latest_blockhash(&self) -> anyhow::Result<Hash> {
        Ok(self
            .ctx
            .lock()
            .await
            .banks_client
            .get_latest_blockhash()
            .await?)
    }

    async fn send_signed(&self, tx: Transaction) -> anyhow::Result<Result<TxOutcome, TxFailure>> {
        self.remember(tx.message.account_keys.iter().copied());
        let res = self
            .ctx
            .lock()
            .await
            .banks_client
            .process_transaction_with_metadata(tx)
            .await?;
        let (logs, return_data, compute_units) = match res.metadata {
            Some(m) => (
                m.log_messages,
                m.return_data.map(|r| r.data),
                m.compute_units_consumed,
            ),
            None => (Vec::new(), None, 0),
        };
        Ok(match res.result {
            Ok(()) => Ok(TxOutcome {
                logs,
                return_data,
                compute_units,
            }),
            Err(e) => Err(failure(&e, logs)),
        })
    }

    async fn simulate(
        &self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> anyhow::Result<Result<TxOutcome, TxFailure>> {
        let tx = self.build(instructions, signers).await?;
        let res = self
            .ctx
            .lock()
            .await
            .banks_client
            .simulate_transaction(tx)
            .await?;
        let details = res.simulation_details;
        let logs = details.as_ref().map(|d| d.logs.clone()).unwrap_or_default();
        Ok(match res.result {
            Some(Err(e)) => Err(failure(&e, logs)),
            _ => Ok(TxOutcome {
                logs,
                return_data: details
                    .as_ref()
                    .and_then(|d| d.return_data.as_ref().map(|r| r.data.clone())),
                compute_units: details.map(|d| d.units_consumed).unwrap_or_default(),
            }),
        })
    }

    async fn clock(&self) -> anyhow::Result<Clock> {
        Ok(self.ctx.lock().await.banks_client.get_sysvar().await?)
    }
}
