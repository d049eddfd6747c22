//! `RpcChain` end to end: a real `solana-rpc-client` speaking HTTP to the product localnet
//! (`scalpel_client::localnet`, what `scalpel localnet` serves) on an ephemeral port of 127.0.0.1,
//! backed by the environment's in-process bank, compared with reads and transactions made through
//! `LocalChain` directly. Slots stay put here (no slot task) so answers compare with the bank's.

use super::user_flows::borrower_setup;
use crate::program_test::*;
use anchor_lang::Discriminator;
use scalpel::state::{MarginAccount, Market, Protocol};
use scalpel_client::localnet::{Localnet, LocalnetConfig};
use scalpel_client::{health, ix, pda, rpc::RpcChain, token, Chain};
use solana_sdk::{
    instruction::InstructionError,
    pubkey::Pubkey,
    signature::{Signature, Signer},
    transaction::{Transaction, TransactionError},
};
use solana_system_interface::instruction as system_instruction;
use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Upper bound of every test here, setup included.
const LIMIT: Duration = Duration::from_secs(120);

async fn bounded<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(LIMIT, f)
        .await
        .expect("rpc_chain test timed out")
}

/// A localnet serving `env`'s bank as it is (slots move only when the tests move them).
pub async fn serve(env: &Arc<Env>) -> Localnet {
    let config = LocalnetConfig {
        slot_interval: None,
        ..LocalnetConfig::ephemeral()
    };
    Localnet::start(env.clone(), config)
        .await
        .expect("serve on 127.0.0.1")
}

/// The environment, a localnet serving its bank, and an `RpcChain` pointed at it.
async fn setup() -> (Arc<Env>, Localnet, RpcChain) {
    let env = Arc::new(Env::new().await);
    let net = serve(&env).await;
    let rpc = RpcChain::new(&net.rpc_url());
    (env, net, rpc)
}

/// Nothing unserved was asked for and every error read back from the wire as itself.
fn check_wire(net: &Localnet) {
    let d = net.diagnostics();
    eprintln!("rpc methods called: {:?}", d.call_counts());
    assert!(
        d.unknown_methods().is_empty(),
        "unserved RPC methods called: {:?}",
        d.unknown_methods()
    );
    assert!(d.mismatches().is_empty(), "{:?}", d.mismatches());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_match_the_bank() {
    bounded(async {
        let (env, net, rpc) = setup().await;

        // The protocol account, byte for byte.
        let local = env.chain.account(&pda::protocol()).await.unwrap().unwrap();
        let remote = rpc.account(&pda::protocol()).await.unwrap().unwrap();
        assert_eq!(remote, local);
        let p = scalpel_client::decode::protocol(&remote.data).unwrap();
        assert_eq!(p.admin, env.admin.pubkey());
        assert_eq!(p.market_count, 2);

        // Markets through getProgramAccounts, decoded the same.
        let local = health::markets(&env.chain).await.unwrap();
        let remote = health::markets(&rpc).await.unwrap();
        assert_eq!(remote.len(), 2);
        assert_eq!(
            remote.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            vec![env.sol.market, env.usdc.market]
        );
        assert_eq!(format!("{remote:?}"), format!("{local:?}"));
        let protocols = rpc.program_accounts(Protocol::DISCRIMINATOR).await.unwrap();
        assert_eq!(protocols.len(), 1);
        assert_eq!(protocols[0].0, pda::protocol());

        // A token account (owned by the token program) and a missing account.
        let vault = env.sol.vault();
        assert_eq!(
            rpc.account(&vault).await.unwrap(),
            env.chain.account(&vault).await.unwrap()
        );
        assert_eq!(rpc.account(&Pubkey::new_unique()).await.unwrap(), None);

        // The clock sysvar. (The blockhash is not compared: program-test registers a new one
        // every few milliseconds; `presigned_transactions_go_through_send_signed` lands a
        // transaction signed with RPC's.)
        let clock = rpc.clock().await.unwrap();
        assert_eq!(clock, env.chain.clock().await.unwrap());
        assert_eq!(clock.unix_timestamp, T0);
        assert_ne!(rpc.latest_blockhash().await.unwrap(), Default::default());
        // Advancing the bank's clock shows through RPC.
        env.chain.advance_time(3_600).await.unwrap();
        assert_eq!(rpc.clock().await.unwrap().unix_timestamp, T0 + 3_600);
        assert_eq!(rpc.clock().await.unwrap(), env.chain.clock().await.unwrap());

        check_wire(&net);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_reads_are_chunked_past_one_hundred_keys() {
    bounded(async {
        let (env, net, rpc) = setup().await;
        let u = env.user(&[(&env.sol, 1_000_000_000)]).await;

        // Every account the bank knows, interleaved with keys that do not exist: 250 keys.
        let known: Vec<Pubkey> = env
            .chain
            .known_accounts()
            .await
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert!(known.len() > 10, "{} known accounts", known.len());
        let mut keys = Vec::new();
        let mut it = known.iter().cycle();
        while keys.len() < 250 {
            keys.push(*it.next().unwrap());
            keys.push(Pubkey::new_unique());
        }
        keys.push(u.account);

        let before = net
            .diagnostics()
            .call_counts()
            .get("getMultipleAccounts")
            .copied();
        let remote = rpc.accounts(&keys).await.unwrap();
        let local = env.chain.accounts(&keys).await.unwrap();
        assert_eq!(remote.len(), keys.len());
        assert_eq!(remote, local);
        assert!(remote.iter().filter(|a| a.is_some()).count() > 100);
        assert!(remote.iter().filter(|a| a.is_none()).count() >= 125);
        assert!(remote.last().unwrap().is_some(), "the margin account");
        let calls = net.diagnostics().call_counts()["getMultipleAccounts"] - before.unwrap_or(0);
        assert_eq!(calls, keys.len().div_ceil(100), "one call per 100 keys");

        // Exactly 100 keys is one call; an empty request is none.
        rpc.accounts(&keys[..100]).await.unwrap();
        assert_eq!(
            net.diagnostics().call_counts()["getMultipleAccounts"] - before.unwrap_or(0),
            calls + 1
        );
        assert!(rpc.accounts(&[]).await.unwrap().is_empty());
        assert_eq!(
            net.diagnostics().call_counts()["getMultipleAccounts"] - before.unwrap_or(0),
            calls + 1
        );

        check_wire(&net);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn program_accounts_filter_by_discriminator() {
    bounded(async {
        let (env, net, rpc) = setup().await;
        let users = [
            env.user(&[]).await,
            env.user(&[(&env.sol, 5)]).await,
            env.user(&[(&env.usdc, 7)]).await,
        ];
        let expected: BTreeSet<Pubkey> = users.iter().map(|u| u.account).collect();

        let found = rpc
            .program_accounts(MarginAccount::DISCRIMINATOR)
            .await
            .unwrap();
        let keys: BTreeSet<Pubkey> = found.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, expected);
        assert_eq!(found.len(), expected.len(), "no duplicates");
        for (k, a) in &found {
            assert_eq!(a.owner, scalpel::ID);
            let m = scalpel_client::decode::margin_account(&a.data).unwrap();
            let u = users.iter().find(|u| u.account == *k).unwrap();
            assert_eq!(m.owner, u.key.pubkey());
            assert_eq!(Some(a), env.chain.account(k).await.unwrap().as_ref());
        }
        // Same answer as the LocalChain scan.
        let local: BTreeSet<Pubkey> = env
            .chain
            .program_accounts(MarginAccount::DISCRIMINATOR)
            .await
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(local, expected);
        let markets = rpc.program_accounts(Market::DISCRIMINATOR).await.unwrap();
        assert_eq!(markets.len(), 2);
        // A discriminator nobody has.
        assert!(rpc.program_accounts(&[0xAB; 8]).await.unwrap().is_empty());

        check_wire(&net);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_land_and_failures_are_named() {
    bounded(async {
        let (env, net, rpc) = setup().await;
        let lender = env.user(&[(&env.usdc, 10_000_000_000)]).await;
        env.send(
            &[ix::deposit(&lender.mv(&env.usdc), 10_000_000_000)],
            &[&lender.key],
        )
        .await
        .unwrap();
        let u = env.user(&[(&env.sol, 1_000_000_000)]).await;

        // A deposit sent through RPC, paid by the user, lands.
        rpc.send(&[ix::deposit(&u.mv(&env.sol), 1_000_000_000)], &[&u.key])
            .await
            .unwrap()
            .expect("deposit through RPC");
        assert_eq!(env.balance(&u.token(&env.sol)).await, 0);
        assert_eq!(env.balance(&env.sol.vault()).await, 1_000_000_000);
        assert_eq!(
            token::balance(&rpc, &env.sol.vault()).await.unwrap(),
            1_000_000_000
        );
        let acc = env.margin(&u.account).await;
        assert_eq!(acc.positions[0].market_index, 0);

        // send-and-confirm: the transaction, then its status.
        let calls = net.diagnostics().calls();
        let sent = calls.iter().position(|c| c == "sendTransaction").unwrap();
        assert!(calls[sent..].iter().any(|c| c == "getSignatureStatuses"));

        // 1 SOL at 100 gives init 80; 100 USDC needs 105: refused by the program.
        let pairs = env.pairs(&u, Some(&env.usdc), None).await;
        let res = rpc
            .send(
                &[ix::borrow(&u.mv(&env.usdc), 100_000_000, &pairs)],
                &[&u.key],
            )
            .await
            .unwrap();
        let f = res.expect_err("borrow past health");
        assert_eq!(f.name, "InsufficientHealth", "logs: {:#?}", f.logs);
        let code = u32::from(scalpel::errors::ScalpelError::InsufficientHealth);
        assert_eq!(f.code, Some(code));
        assert!(
            f.logs
                .iter()
                .any(|l| l.ends_with(&format!("failed: custom program error: {code:#x}"))),
            "preflight logs reach the client: {:#?}",
            f.logs
        );
        assert_eq!(env.balance(&u.token(&env.usdc)).await, 0);
        // RpcChain prepends a compute-unit limit, so the borrow is instruction 1.
        assert_eq!(
            net.diagnostics().wire_errors().last(),
            Some(&TransactionError::InstructionError(
                1,
                InstructionError::Custom(code)
            ))
        );

        // The failing instruction's index survives the trip: the budget and the transfer before it
        // succeed.
        let tip = system_instruction::transfer(&u.key.pubkey(), &env.admin.pubkey(), 1);
        let res = rpc
            .send(
                &[tip, ix::borrow(&u.mv(&env.usdc), 100_000_000, &pairs)],
                &[&u.key],
            )
            .await
            .unwrap();
        assert_eq!(
            res.expect_err("second instruction").name,
            "InsufficientHealth"
        );
        assert_eq!(
            net.diagnostics().wire_errors().last(),
            Some(&TransactionError::InstructionError(
                2,
                InstructionError::Custom(code)
            ))
        );

        // A token-program failure is named from the logs the node returned.
        let res = rpc
            .send(&[ix::deposit(&u.mv(&env.sol), 1)], &[&u.key])
            .await
            .unwrap();
        assert_eq!(
            res.expect_err("empty wallet").name,
            "TokenError::InsufficientFunds"
        );

        // A smaller borrow passes, through RPC too.
        rpc.send(
            &[ix::borrow(&u.mv(&env.usdc), 50_000_000, &pairs)],
            &[&u.key],
        )
        .await
        .unwrap()
        .expect("borrow within health");
        assert_eq!(env.balance(&u.token(&env.usdc)).await, 50_000_000);

        check_wire(&net);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_view_simulation_matches_the_bank() {
    bounded(async {
        let (env, net, rpc) = setup().await;
        let (_lender, b) = borrower_setup(&env).await;
        let pairs = env.pairs(&b, None, None).await;
        let view_ix = ix::health_view(&b.account, &pairs);

        let local = env
            .chain
            .simulate(std::slice::from_ref(&view_ix), &[&env.admin])
            .await
            .unwrap()
            .unwrap();
        let remote = rpc
            .simulate(std::slice::from_ref(&view_ix), &[&env.admin])
            .await
            .unwrap()
            .unwrap();
        let local_view = health::decode_view(&local.return_data.unwrap()).unwrap();
        let remote_view = health::decode_view(&remote.return_data.expect("return data")).unwrap();
        assert_eq!(remote_view, local_view);
        assert_eq!(
            (remote_view.init, remote_view.maint, remote_view.end),
            (
                health::fixed(remote_view.init).to_bits(),
                health::fixed(remote_view.maint).to_bits(),
                health::fixed(remote_view.end).to_bits()
            )
        );
        assert!(remote.compute_units > 0);
        assert!(remote
            .logs
            .iter()
            .any(|l| l.starts_with(&format!("Program {} invoke [1]", scalpel::ID))));

        // A simulation that fails comes back named.
        let res = rpc
            .simulate(
                &[ix::borrow(&b.mv(&env.usdc), 300_000_000, &pairs)],
                &[&b.key],
            )
            .await
            .unwrap();
        assert_eq!(
            res.expect_err("simulated borrow").name,
            "InsufficientHealth"
        );
        // Simulations change nothing.
        assert_eq!(env.balance(&b.token(&env.usdc)).await, 500_000_000);

        check_wire(&net);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_transactions_go_through_send_signed() {
    bounded(async {
        let (env, net, rpc) = setup().await;
        let u = env.user(&[(&env.sol, 3_000_000_000)]).await;
        env.send(&[ix::deposit(&u.mv(&env.sol), 3_000_000_000)], &[&u.key])
            .await
            .unwrap();

        // Signed here with RPC's blockhash, sent as is.
        let pairs = env.pairs(&u, None, None).await;
        let blockhash = rpc.latest_blockhash().await.unwrap();
        let tx = Transaction::new_signed_with_payer(
            &[ix::withdraw(&u.mv(&env.sol), 1_000_000_000, &pairs)],
            Some(&u.key.pubkey()),
            &[&u.key],
            blockhash,
        );
        rpc.send_signed(tx.clone())
            .await
            .unwrap()
            .expect("pre-signed withdraw");
        assert_eq!(env.balance(&u.token(&env.sol)).await, 1_000_000_000);

        // A transaction whose signature does not verify is refused before it runs: a transport
        // error (-32003), not a program failure.
        let mut forged = Transaction::new_with_payer(
            &[ix::withdraw(&u.mv(&env.sol), 1_000_000_000, &pairs)],
            Some(&u.key.pubkey()),
        );
        forged.message.recent_blockhash = blockhash;
        forged.signatures = vec![Signature::from([7u8; 64])];
        let err = rpc
            .send_signed(forged)
            .await
            .expect_err("bad signature refused");
        assert!(
            format!("{err:#}").contains("signature verification"),
            "{err:#}"
        );
        assert_eq!(env.balance(&u.token(&env.sol)).await, 1_000_000_000);

        check_wire(&net);
    })
    .await
}

/// The keeper, driven through `RpcChain` over HTTP, liquidates exactly as in-process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keeper_over_rpc_liquidates() {
    bounded(async {
        let (env, net, rpc) = setup().await;
        env.lender(100_000_000_000, 0).await;
        env.borrower(10_000_000_000, 750_000_000).await;
        let bot = solana_sdk::signature::Keypair::new();
        let fund = solana_system_interface::instruction::transfer(
            &env.admin.pubkey(),
            &bot.pubkey(),
            5_000_000_000,
        );
        env.send(&[fund], &[]).await.unwrap();
        let keeper = scalpel_client::keeper::Keeper::new(
            &rpc,
            &bot,
            scalpel_client::keeper::KeeperConfig::default(),
        );
        assert_eq!(keeper.ensure_token_accounts().await.unwrap(), 2);
        let usdc_ata = scalpel_client::token::ata(&bot.pubkey(), &env.usdc.mint);
        scalpel_client::token::mint_to(
            &env.chain,
            &env.admin,
            &env.mint_authority,
            &env.usdc.mint,
            &usdc_ata,
            1_000_000_000,
        )
        .await
        .unwrap();
        env.set_price(&env.sol, "80", "0").await;
        let s = keeper.pass().await.unwrap();
        assert_eq!(
            (s.liquidatable, s.liquidated, s.liquidations, s.failures),
            (1, 1, 1, 0)
        );
        // The summary comes from the program's events, read back with getTransaction.
        assert_eq!(s.events[0].repaid, 600_000_000);
        assert!((s.repaid_usd - 600.0).abs() < 1e-6);
        assert_eq!(env.balance(&usdc_ata).await, 400_000_000);
        let again = keeper.pass().await.unwrap();
        assert_eq!(again.liquidatable, 0);
        // Landed transactions come back with their logs (getTransaction), so events parse.
        let out = rpc
            .send(&[ix::market_accrue(&env.usdc.market)], &[&bot])
            .await
            .unwrap()
            .unwrap();
        let accrued = scalpel_client::events::parse::<scalpel::events::MarketAccrued>(&out.logs);
        assert_eq!(accrued.len(), 1);
        assert_eq!(accrued[0].market, env.usdc.market);
        check_wire(&net);
    })
    .await
}
