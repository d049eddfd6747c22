//! The keeper against the in-process bank: 200 accounts of mixed leverage after a price shock,
//! and the same under a chain that fails a fraction of its calls.

use crate::program_test::*;
use async_trait::async_trait;
use scalpel_client::keeper::{Keeper, KeeperConfig, PassSummary};
use scalpel_client::token::ata;
use scalpel_client::{health, ix, Chain, TxFailure, TxOutcome};
use solana_sdk::{
    account::Account, clock::Clock, hash::Hash, instruction::Instruction, pubkey::Pubkey,
    signature::Keypair, signer::Signer, transaction::Transaction,
};
use std::sync::atomic::{AtomicU64, Ordering};

const ACCOUNTS: usize = 200;

/// 200 traders with 1–20 SOL at 100 USD borrowing 30%–76% of their collateral in USDC.
async fn book(env: &Env) -> Vec<User> {
    let lender = env.user(&[(&env.usdc, 10_000_000_000_000)]).await;
    env.send(
        &[ix::deposit(&lender.mv(&env.usdc), 10_000_000_000_000)],
        &[&lender.key],
    )
    .await
    .unwrap();
    let mut users = Vec::with_capacity(ACCOUNTS);
    for i in 0..ACCOUNTS {
        let sol = 1_000_000_000 * (1 + (i as u64 * 7) % 20);
        let u = env.user(&[(&env.sol, sol)]).await;
        env.send(&[ix::deposit(&u.mv(&env.sol), sol)], &[&u.key])
            .await
            .unwrap();
        // Leverage 30% .. 76% of collateral value (init limit 0.8 / 1.05 = 76.19%).
        let lev_bps = 3_000 + (i as u64 * 37) % 4_600;
        let borrow = sol / 1_000 * 100 * lev_bps / 10_000; // SOL value (USD) · leverage, in USDC native
        let pairs = env.pairs(&u, Some(&env.usdc), None).await;
        env.send(&[ix::borrow(&u.mv(&env.usdc), borrow, &pairs)], &[&u.key])
            .await
            .unwrap();
        users.push(u);
    }
    users
}

/// A bot with lamports and empty associated token accounts for both markets (wallet mode).
pub async fn wallet_bot(env: &Env) -> Keypair {
    let bot = Keypair::new();
    let fund = solana_system_interface::instruction::transfer(
        &env.admin.pubkey(),
        &bot.pubkey(),
        10_000_000_000,
    );
    env.send(&[fund], &[]).await.unwrap();
    let k = Keeper::new(&env.chain, &bot, KeeperConfig::default());
    assert_eq!(k.ensure_token_accounts().await.unwrap(), 2);
    bot
}

async fn funded_bot(env: &Env) -> Keypair {
    let bot = wallet_bot(env).await;
    env.mint_usdc_to(&bot.pubkey(), 1_000_000_000_000).await;
    bot
}

async fn views(env: &Env, users: &[User]) -> Vec<scalpel::instructions::HealthView> {
    let mut out = Vec::new();
    for u in users {
        let pairs = env.pairs(u, None, None).await;
        let o = env
            .chain
            .simulate(&[ix::health_view(&u.account, &pairs)], &[&env.admin])
            .await
            .unwrap()
            .unwrap();
        out.push(health::decode_view(&o.return_data.unwrap()).unwrap());
    }
    out
}

async fn data(env: &Env, users: &[User]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for u in users {
        out.push(env.chain.account(&u.account).await.unwrap().unwrap().data);
    }
    out
}

fn check_outcome(
    before: &[scalpel::instructions::HealthView],
    after: &[scalpel::instructions::HealthView],
    before_data: &[Vec<u8>],
    after_data: &[Vec<u8>],
) -> usize {
    let mut liquidated = 0;
    for i in 0..before.len() {
        if before[i].liquidatable {
            liquidated += 1;
            let end = health::fixed(after[i].end);
            assert!(
                !after[i].liquidatable,
                "account {i} still liquidatable: {:?}",
                after[i]
            );
            // At target, not beyond: within a cent (one native unit of each side is far less).
            assert!(
                end >= scalpel::math::I80F48::ZERO && end < scalpel::math::I80F48::from_num(0.01),
                "account {i}: end {end}"
            );
        } else {
            assert_eq!(
                before_data[i], after_data[i],
                "healthy account {i} untouched"
            );
        }
    }
    liquidated
}

#[tokio::test]
async fn keeper_restores_every_liquidatable_account_after_a_shock() {
    let env = Env::new().await;
    let users = book(&env).await;
    let bot = funded_bot(&env).await;
    env.set_price(&env.sol, "75", "0").await;
    let before = views(&env, &users).await;
    let before_data = data(&env, &users).await;
    let expected = before.iter().filter(|v| v.liquidatable).count();
    assert!(
        expected > 20 && expected < ACCOUNTS,
        "a mixed book: {expected} liquidatable"
    );

    let keeper = Keeper::new(&env.chain, &bot, KeeperConfig::default());
    let started = std::time::Instant::now();
    let s: PassSummary = keeper.pass().await.unwrap();
    eprintln!(
        "keeper pass over {} accounts: {:?} ({} liquidatable)",
        ACCOUNTS,
        started.elapsed(),
        s.liquidatable
    );
    assert_eq!(s.scanned, ACCOUNTS + 1, "200 traders and the lender");
    assert_eq!(s.liquidatable, expected);
    assert_eq!(s.liquidated, expected);
    assert_eq!(s.failures, 0);
    assert_eq!(s.liquidations, s.events.len());
    // The summary's money equals the events'.
    let repaid: u64 = s.events.iter().map(|e| e.repaid).sum();
    assert!(
        (s.repaid_usd - repaid as f64 / 1e6).abs() < 1e-6,
        "{} vs {}",
        s.repaid_usd,
        repaid
    );
    let bot_usdc = env.balance(&ata(&bot.pubkey(), &env.usdc.mint)).await;
    assert_eq!(
        bot_usdc,
        1_000_000_000_000 - repaid,
        "the bot paid exactly the repaid amounts"
    );
    let bot_sol = env.balance(&ata(&bot.pubkey(), &env.sol.mint)).await;
    assert_eq!(
        bot_sol,
        s.events.iter().map(|e| e.to_liquidator).sum::<u64>()
    );
    // Accounts the shock made insolvent (debt above the collateral) lose all their collateral;
    // the next pass sends their remaining debt to bad_debt_resolve, the one after finds nothing.
    let insolvent = s.events.iter().filter(|e| e.end_after < 0.0).count();
    let second = keeper.pass().await.unwrap();
    assert_eq!(second.bad_debt_resolved, insolvent);
    assert_eq!(second.liquidations, 0);
    let third = keeper.pass().await.unwrap();
    assert_eq!(
        (
            third.liquidatable,
            third.liquidations,
            third.bad_debt_resolved
        ),
        (0, 0, 0)
    );
    eprintln!("{insolvent} insolvent accounts went to bad_debt_resolve");

    let after = views(&env, &users).await;
    let after_data = data(&env, &users).await;
    assert_eq!(
        check_outcome(&before, &after, &before_data, &after_data),
        expected
    );
}

/// A chain that fails every `n`th call with a transport error.
struct Flaky<'a> {
    inner: &'a dyn Chain,
    calls: AtomicU64,
    every: u64,
}

impl Flaky<'_> {
    fn trip(&self) -> anyhow::Result<()> {
        let n = self.calls.fetch_add(1, Ordering::Relaxed);
        if n % self.every == self.every - 1 {
            anyhow::bail!("injected transport error on call {n}");
        }
        Ok(())
    }
}

#[async_trait]
impl Chain for Flaky<'_> {
    async fn account(&self, key: &Pubkey) -> anyhow::Result<Option<Account>> {
        self.trip()?;
        self.inner.account(key).await
    }
    async fn accounts(&self, keys: &[Pubkey]) -> anyhow::Result<Vec<Option<Account>>> {
        self.trip()?;
        self.inner.accounts(keys).await
    }
    async fn program_accounts(&self, d: &[u8]) -> anyhow::Result<Vec<(Pubkey, Account)>> {
        self.trip()?;
        self.inner.program_accounts(d).await
    }
    async fn send(
        &self,
        ixs: &[Instruction],
        s: &[&Keypair],
    ) -> anyhow::Result<Result<TxOutcome, TxFailure>> {
        self.trip()?;
        self.inner.send(ixs, s).await
    }
    async fn simulate(
        &self,
        ixs: &[Instruction],
        s: &[&Keypair],
    ) -> anyhow::Result<Result<TxOutcome, TxFailure>> {
        self.trip()?;
        self.inner.simulate(ixs, s).await
    }
    async fn clock(&self) -> anyhow::Result<Clock> {
        self.trip()?;
        self.inner.clock().await
    }
    async fn latest_blockhash(&self) -> anyhow::Result<Hash> {
        self.trip()?;
        self.inner.latest_blockhash().await
    }
    async fn send_signed(&self, tx: Transaction) -> anyhow::Result<Result<TxOutcome, TxFailure>> {
        self.trip()?;
        self.inner.send_signed(tx).await
    }
}

#[tokio::test]
async fn keeper_keeps_going_through_failing_calls_and_ends_in_the_same_state() {
    let env = Env::new().await;
    let users = book(&env).await;
    let bot = funded_bot(&env).await;
    env.set_price(&env.sol, "75", "0").await;
    let before = views(&env, &users).await;
    let before_data = data(&env, &users).await;
    let flaky = Flaky {
        inner: &env.chain,
        calls: AtomicU64::new(0),
        every: 7,
    };
    let cfg = KeeperConfig {
        backoff: std::time::Duration::from_millis(1),
        ..KeeperConfig::default()
    };
    let keeper = Keeper::new(&flaky, &bot, cfg);
    let mut passes = 0;
    let mut total = 0;
    let mut errors = 0;
    loop {
        passes += 1;
        assert!(passes < 40, "the keeper should converge");
        match keeper.pass().await {
            Ok(s) => {
                total += s.liquidations;
                if s.liquidatable == 0 {
                    break;
                }
            }
            Err(_) => errors += 1, // a whole-pass read failed: the loop (like `scalpel keeper`) retries
        }
    }
    eprintln!("flaky chain: {passes} passes, {errors} failed passes, {total} liquidations");
    let after = views(&env, &users).await;
    let after_data = data(&env, &users).await;
    check_outcome(&before, &after, &before_data, &after_data);
}
