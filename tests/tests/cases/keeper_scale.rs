//! The keeper at scale, a benchmark (docs/BENCHMARKS.md), not a timed test: one pass over
//! 10 000 margin accounts through `RpcChain` speaking HTTP to the product localnet serving the
//! in-process bank, after a 25% fall of SOL. Reports the wall time, the RPC calls by method and
//! what the pass did. Run it with
//! `cargo test --profile bench -p scalpel-tests --test e2e keeper_at_scale -- --ignored --nocapture`
//! (`SCALPEL_KEEPER_ACCOUNTS` changes the count).
//!
//! The accounts are written into the bank directly (10 000 openings by transaction would take
//! longer than the pass measured): real `MarginAccount` bytes at their PDAs, shares at the
//! markets' indices, the markets' share totals and the SOL vault raised to match, so every
//! liquidation the keeper sends runs the program on consistent state.

use super::rpc_chain::serve;
use crate::program_test::*;
use anchor_lang::Discriminator;
use scalpel::math::{WrappedI80F48, I80F48};
use scalpel::state::{MarginAccount, Market};
use scalpel_client::keeper::{Keeper, KeeperConfig};
use scalpel_client::rpc::RpcChain;
use scalpel_client::{decode, Chain};
use solana_sdk::{account::Account, pubkey::Pubkey, rent::Rent, signer::Signer};
use std::sync::Arc;
use std::time::Instant;

/// `n` accounts: 1–20 SOL at 100 USD, borrowing 30%–99% of what init health allows in USDC
/// (0.8 / 1.05 of the SOL value), spread evenly.
fn book(i: usize) -> (u64, u64) {
    let sol = 1_000_000_000 * (1 + (i as u64 * 7) % 20);
    let usage_permille = 300 + (i as u64 * 37) % 690;
    // SOL value (USD) · 0.8 / 1.05 · usage, in USDC native (6 decimals): lamports / 1000 · 100.
    let borrow = sol / 1_000 * 100 * 8_000 / 10_500 * usage_permille / 1_000;
    (sol, borrow)
}

async fn write_market(env: &Env, key: &Pubkey, f: impl FnOnce(&mut Market)) {
    let mut acc = env.chain.account(key).await.unwrap().unwrap();
    let mut m = decode::market(&acc.data).unwrap();
    f(&mut m);
    acc.data = [Market::DISCRIMINATOR, bytemuck::bytes_of(&m)].concat();
    env.chain.set_account(key, acc).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with --ignored --nocapture (docs/BENCHMARKS.md)"]
async fn keeper_at_scale() {
    let n: usize = std::env::var("SCALPEL_KEEPER_ACCOUNTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let env = Arc::new(Env::new().await);
    env.lender(100_000_000_000_000, 0).await;
    let sol_market = env.market(&env.sol).await;
    let usdc_market = env.market(&env.usdc).await;
    let (sol_index, usdc_index) = (
        sol_market.deposit_index.get(),
        usdc_market.borrow_index.get(),
    );

    let started = Instant::now();
    let rent = Rent::default().minimum_balance(MarginAccount::SPACE);
    let (mut sol_total, mut dep_shares, mut debt_shares) = (0u64, I80F48::ZERO, I80F48::ZERO);
    for i in 0..n {
        let owner = Pubkey::new_unique();
        let (key, bump) = Pubkey::find_program_address(
            &[
                scalpel::constants::MARGIN_SEED,
                owner.as_ref(),
                &0u16.to_le_bytes(),
            ],
            &scalpel::ID,
        );
        let (sol, borrow) = book(i);
        let mut m: MarginAccount = bytemuck::Zeroable::zeroed();
        m.owner = owner;
        m.bump = bump;
        let d = I80F48::from_num(sol) / sol_index;
        let b = I80F48::from_num(borrow) / usdc_index;
        m.positions[0].shares = WrappedI80F48::from_num(d);
        m.positions[0].market_index = sol_market.market_index;
        m.positions[0].active = 1;
        m.positions[1].shares = WrappedI80F48::from_num(-b);
        m.positions[1].market_index = usdc_market.market_index;
        m.positions[1].active = 1;
        sol_total += sol;
        dep_shares += d;
        debt_shares += b;
        let data = [MarginAccount::DISCRIMINATOR, bytemuck::bytes_of(&m)].concat();
        env.chain
            .set_account(
                &key,
                Account {
                    lamports: rent,
                    data,
                    owner: scalpel::ID,
                    executable: false,
                    rent_epoch: 0,
                },
            )
            .await;
    }
    write_market(&env, &env.sol.market, |m| {
        m.total_deposit_shares = WrappedI80F48::from_num(m.total_deposit_shares.get() + dep_shares);
    })
    .await;
    write_market(&env, &env.usdc.market, |m| {
        m.total_borrow_shares = WrappedI80F48::from_num(m.total_borrow_shares.get() + debt_shares);
    })
    .await;
    // The SOL behind the deposits sits in the vault (the borrowed USDC left it: the lender's
    // deposit covers the total borrowed).
    let vault = env.sol.vault();
    let mut v = env.chain.account(&vault).await.unwrap().unwrap();
    let amount = u64::from_le_bytes(v.data[64..72].try_into().unwrap()) + sol_total;
    v.data[64..72].copy_from_slice(&amount.to_le_bytes());
    env.chain.set_account(&vault, v).await;
    eprintln!("{n} accounts written in {:.1?}", started.elapsed());

    let net = serve(&env).await;
    let rpc = RpcChain::new(&net.rpc_url());
    let bot = solana_sdk::signature::Keypair::new();
    let fund = solana_system_interface::instruction::transfer(
        &env.admin.pubkey(),
        &bot.pubkey(),
        1_000_000_000_000,
    );
    env.send(&[fund], &[]).await.unwrap();
    let keeper = Keeper::new(&rpc, &bot, KeeperConfig::default());
    keeper.ensure_token_accounts().await.unwrap();
    env.mint_usdc_to(&bot.pubkey(), 100_000_000_000_000).await;
    // The 25% shock.
    env.set_price(&env.sol, "75", "0").await;
    let calls_before: usize = net.diagnostics().call_counts().values().sum();

    let started = Instant::now();
    let s = keeper.pass().await.unwrap();
    let wall = started.elapsed();
    let counts = net.diagnostics().call_counts();
    let calls: usize = counts.values().sum::<usize>() - calls_before;
    eprintln!(
        "keeper pass over {} accounts through RpcChain: {:.2?} wall, {} RPC calls; scanned {}, \
         liquidatable {}, liquidated {}, liquidations {}, failures {}, bad debt {}",
        n,
        wall,
        calls,
        s.scanned,
        s.liquidatable,
        s.liquidated,
        s.liquidations,
        s.failures,
        s.bad_debt_resolved
    );
    eprintln!("RPC calls by method (whole run, setup included): {counts:?}");
    assert_eq!(s.scanned, n + 1, "the book and the lender");
    assert!(
        s.liquidatable > 0 && s.liquidated == s.liquidatable,
        "{s:?}"
    );
    assert_eq!(s.failures, 0, "{s:?}");
    let again = keeper.pass().await.unwrap();
    assert_eq!(again.liquidatable, again.bad_debt_resolved, "{again:?}");
    net.stop().await;
}
