//! The product localnet (what `scalpel localnet` serves) on ephemeral ports, in-process: a fresh
//! bank with the markets of `migrations/localnet.toml`, slots every 400 ms. Driven by the real
//! clients: `RpcChain` (solana-rpc-client), `solana-pubsub-client`, a raw WebSocket for the exact
//! wire shapes, and [`Remote`] (what the operator subcommands call).

use anchor_lang::AccountDeserialize;
use futures_util::{SinkExt, StreamExt};
use pyth_solana_receiver_sdk::price_update::PriceUpdateV2;
use scalpel_client::admin::AdminConfig;
use scalpel_client::local::migration::LocalMarket;
use scalpel_client::localnet::{genesis, Localnet, LocalnetConfig, Remote};
use scalpel_client::{health, ix, pda, rpc::RpcChain, token, token::ata, Chain, LocalChain};
use serde_json::{json, Value};
use solana_account_decoder_client_types::{UiAccountData, UiAccountEncoding};
use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::config::{
    RpcAccountInfoConfig, RpcSendTransactionConfig, RpcTransactionConfig, RpcTransactionLogsConfig,
    RpcTransactionLogsFilter,
};
use solana_rpc_client_api::request::TokenAccountsFilter;
use solana_rpc_client_api::response::RpcSignatureResult;
use solana_sdk::{
    pubkey::Pubkey,
    signature::{Keypair, Signer},
    transaction::Transaction,
};
use solana_transaction_status_client_types::UiTransactionEncoding;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// Upper bound of every test here.
const LIMIT: Duration = Duration::from_secs(180);
/// Upper bound of one wait for a notification.
const NOTIFY: Duration = Duration::from_secs(15);

async fn bounded<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(LIMIT, f)
        .await
        .expect("localnet test timed out")
}

async fn within<F: Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(NOTIFY, f)
        .await
        .unwrap_or_else(|_| panic!("no {what} within {NOTIFY:?}"))
}

struct Net {
    net: Localnet,
    chain: Arc<LocalChain>,
    rpc: RpcChain,
    remote: Remote,
}

impl Net {
    fn market(&self, symbol: &str) -> LocalMarket {
        self.net
            .markets()
            .iter()
            .find(|m| m.symbol == symbol)
            .cloned()
            .expect("a market of localnet.toml")
    }

    /// A wallet funded with SOL and `usdc` USDC, with margin account 0.
    async fn trader(&self, usdc: &str) -> Keypair {
        let key = Keypair::new();
        self.remote
            .fund(&key.pubkey(), "SOL", "5", false)
            .await
            .expect("fund SOL");
        self.remote
            .fund(&key.pubkey(), "USDC", usdc, false)
            .await
            .expect("fund USDC");
        self.rpc
            .send(&[ix::account_create(&key.pubkey(), 0)], &[&key])
            .await
            .expect("transport")
            .expect("account_create");
        key
    }

    fn usdc_move(&self, key: &Keypair) -> ix::TokenMove {
        let usdc = self.market("USDC");
        ix::TokenMove {
            owner: key.pubkey(),
            margin_account: pda::margin_account(&key.pubkey(), 0),
            mint: usdc.mint,
            user_token: ata(&key.pubkey(), &usdc.mint),
        }
    }

    fn check_wire(&self) {
        let d = self.net.diagnostics();
        eprintln!("rpc methods called: {:?}", d.call_counts());
        assert!(d.unknown_methods().is_empty(), "{:?}", d.unknown_methods());
        assert!(d.mismatches().is_empty(), "{:?}", d.mismatches());
    }
}

async fn start() -> Net {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/localnet.toml");
    let cfg = AdminConfig::load(std::path::Path::new(path)).expect("migration");
    let (chain, operator) = genesis::boot(&cfg).await.expect("boot");
    let chain = Arc::new(chain);
    let config = LocalnetConfig {
        operator: Some(operator),
        ..LocalnetConfig::ephemeral()
    };
    let net = Localnet::start(chain.clone(), config)
        .await
        .expect("serve on 127.0.0.1");
    let rpc = RpcChain::new(&net.rpc_url());
    let remote = Remote::new(&net.rpc_url());
    Net {
        net,
        chain,
        rpc,
        remote,
    }
}

/// `RpcChain` against the product localnet: reads, sends, named failures, and blockhashes that
/// stay valid for seconds while slots move.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_chain_round_trips() {
    bounded(async {
        let n = start().await;
        let rpc = &n.rpc;

        // The migration's protocol and markets, read over RPC as in the bank.
        let protocol = rpc.account(&pda::protocol()).await.unwrap().unwrap();
        assert_eq!(
            protocol,
            n.chain.account(&pda::protocol()).await.unwrap().unwrap()
        );
        let markets = health::markets(rpc).await.unwrap();
        assert_eq!(markets.len(), 3);
        for m in n.net.markets() {
            assert!(markets
                .iter()
                .any(|(k, mk)| *k == m.market && mk.mint == m.mint));
        }

        // Slots move on their own; a blockhash stays valid well past program-test's second.
        let first = rpc.clock().await.unwrap().slot;
        let old_hash = rpc.latest_blockhash().await.unwrap();
        let key = n.trader("1000").await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        let later = rpc.clock().await.unwrap().slot;
        assert!(later >= first + 5, "slots {first} -> {later}");
        assert_ne!(rpc.latest_blockhash().await.unwrap(), old_hash);
        let tip = solana_system_interface::instruction::transfer(
            &key.pubkey(),
            &n.chain.payer().pubkey(),
            1,
        );
        let late =
            Transaction::new_signed_with_payer(&[tip], Some(&key.pubkey()), &[&key], old_hash);
        rpc.send_signed(late)
            .await
            .unwrap()
            .expect("a 3-second-old blockhash is still valid");

        // A deposit lands; the vault holds it.
        let usdc = n.market("USDC");
        rpc.send(&[ix::deposit(&n.usdc_move(&key), 600_000_000)], &[&key])
            .await
            .unwrap()
            .expect("deposit");
        assert_eq!(
            token::balance(rpc, &usdc.vault()).await.unwrap(),
            600_000_000
        );

        // A lender brings 10 SOL (the SOL market's token); 5 SOL (500 USD, 600 at the 1.2
        // initial liability weight) against 600 USDC (540 at 0.9) is refused by name.
        let sol = n.market("SOL");
        let sol_move = |k: &Keypair| ix::TokenMove {
            owner: k.pubkey(),
            margin_account: pda::margin_account(&k.pubkey(), 0),
            mint: sol.mint,
            user_token: ata(&k.pubkey(), &sol.mint),
        };
        let lender = n.trader("0").await;
        n.remote
            .fund(&lender.pubkey(), "SOL", "10", true)
            .await
            .expect("the SOL token");
        rpc.send(
            &[ix::deposit(&sol_move(&lender), 10_000_000_000)],
            &[&lender],
        )
        .await
        .unwrap()
        .expect("lender deposit");
        n.remote
            .fund(&key.pubkey(), "SOL", "0", true)
            .await
            .expect("an empty SOL token account");
        let account = scalpel_client::decode::margin_account(
            &rpc.account(&pda::margin_account(&key.pubkey(), 0))
                .await
                .unwrap()
                .unwrap()
                .data,
        )
        .unwrap();
        let markets = health::markets(rpc).await.unwrap();
        let sol_index = markets
            .iter()
            .find(|(k, _)| *k == sol.market)
            .map(|(_, m)| m.market_index);
        let pairs = health::pairs_after(&account, &markets, sol_index, None).unwrap();
        let f = rpc
            .send(
                &[ix::borrow(&sol_move(&key), 5_000_000_000, &pairs)],
                &[&key],
            )
            .await
            .unwrap()
            .expect_err("borrow past health");
        assert_eq!(f.name, "InsufficientHealth", "{:#?}", f.logs);
        assert_eq!(
            token::balance(rpc, &sol_move(&key).user_token)
                .await
                .unwrap(),
            0
        );
        n.check_wire();
    })
    .await
}

/// PubSub through `solana-pubsub-client`: a slot, then the account, signature and logs
/// notifications of one deposit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pubsub_notifies_a_deposit() {
    bounded(async {
        let n = start().await;
        let key = n.trader("100").await;
        let ps = PubsubClient::new(&n.net.ws_url()).await.expect("connect");

        let (mut slots, _unsub_slots) = ps.slot_subscribe().await.expect("slotSubscribe");
        let s = within("slot notification", slots.next())
            .await
            .expect("a slot");
        assert_eq!(s.parent + 1, s.slot);

        let margin = pda::margin_account(&key.pubkey(), 0);
        let config = RpcAccountInfoConfig {
            encoding: Some(UiAccountEncoding::Base64),
            ..RpcAccountInfoConfig::default()
        };
        let (mut account, _u1) = ps
            .account_subscribe(&margin, Some(config))
            .await
            .expect("accountSubscribe");
        let (mut logs, _u2) = ps
            .logs_subscribe(
                RpcTransactionLogsFilter::Mentions(vec![margin.to_string()]),
                RpcTransactionLogsConfig { commitment: None },
            )
            .await
            .expect("logsSubscribe");

        let deposit = ix::deposit(&n.usdc_move(&key), 40_000_000);
        let blockhash = n.rpc.latest_blockhash().await.unwrap();
        let tx =
            Transaction::new_signed_with_payer(&[deposit], Some(&key.pubkey()), &[&key], blockhash);
        let sig = tx.signatures[0];
        let (mut signature, _u3) = ps
            .signature_subscribe(&sig, None)
            .await
            .expect("signatureSubscribe");
        n.rpc.send_signed(tx).await.unwrap().expect("deposit");

        let a = within("account notification", account.next())
            .await
            .expect("an account");
        let data = match &a.value.data {
            UiAccountData::Binary(b64, UiAccountEncoding::Base64) => {
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).unwrap()
            }
            other => panic!("base64 data expected, got {other:?}"),
        };
        let m = scalpel_client::decode::margin_account(&data).unwrap();
        assert_eq!(m.owner, key.pubkey());
        assert!(
            m.positions.iter().any(|p| p.active == 1),
            "the deposit opened a position"
        );

        let st = within("signature notification", signature.next())
            .await
            .expect("a status");
        match st.value {
            RpcSignatureResult::ProcessedSignature(p) => assert_eq!(p.err, None),
            other => panic!("processed expected, got {other:?}"),
        }
        let l = within("logs notification", logs.next())
            .await
            .expect("logs");
        assert_eq!(l.value.signature, sig.to_string());
        assert_eq!(l.value.err, None);
        assert!(
            l.value
                .logs
                .iter()
                .any(|x| x.starts_with(&format!("Program {} invoke", scalpel::ID))),
            "{:#?}",
            l.value.logs
        );
        n.check_wire();
    })
    .await
}

/// The raw WebSocket exchange: numeric ids, Solana's notification shape, `true` on unsubscribe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pubsub_wire_shapes() {
    bounded(async {
        let n = start().await;
        let (mut ws, _) = tokio_tungstenite::connect_async(n.net.ws_url())
            .await
            .expect("connect");
        ws.send(Message::Text(
            json!({"jsonrpc":"2.0","id":1,"method":"slotSubscribe"}).to_string(),
        ))
        .await
        .unwrap();
        let mut read = Vec::new();
        while read.len() < 2 {
            match within("a WebSocket message", ws.next()).await {
                Some(Ok(Message::Text(t))) => read.push(serde_json::from_str::<Value>(&t).unwrap()),
                Some(Ok(_)) => continue,
                other => panic!("socket ended: {other:?}"),
            }
        }
        let id = read[0]["result"]
            .as_u64()
            .expect("a numeric subscription id");
        assert!(id < 1 << 53, "a JavaScript number holds {id} exactly");
        assert_eq!(read[0]["id"], 1);
        let note = &read[1];
        assert_eq!(note["jsonrpc"], "2.0");
        assert_eq!(note["method"], "slotNotification");
        assert_eq!(note["params"]["subscription"], id);
        let r = &note["params"]["result"];
        assert_eq!(
            r["parent"].as_u64().unwrap() + 1,
            r["slot"].as_u64().unwrap()
        );
        assert!(r["root"].is_u64());

        ws.send(Message::Text(
            json!({"jsonrpc":"2.0","id":2,"method":"slotUnsubscribe","params":[id]}).to_string(),
        ))
        .await
        .unwrap();
        loop {
            match within("the unsubscribe answer", ws.next()).await {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    if v["id"] == 2 {
                        assert_eq!(v["result"], true, "{v}");
                        break;
                    }
                }
                Some(Ok(_)) => continue,
                other => panic!("socket ended: {other:?}"),
            }
        }
    })
    .await
}

fn published(data: &[u8]) -> (i64, i32, i64) {
    let u = PriceUpdateV2::try_deserialize(&mut &data[..]).expect("a PriceUpdateV2");
    (
        u.price_message.price,
        u.price_message.exponent,
        u.price_message.publish_time,
    )
}

/// The operator methods change prices, the clock and balances, as read back over RPC; their
/// errors say what to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_methods_move_prices_clock_and_balances() {
    bounded(async {
        let n = start().await;
        let rpc = &n.rpc;
        let sol = n.market("SOL");

        n.remote
            .set_price("sol", "80", "0.5")
            .await
            .expect("setPrice");
        let now = rpc.clock().await.unwrap().unix_timestamp;
        let oracle = rpc.account(&sol.oracle).await.unwrap().unwrap();
        assert_eq!(published(&oracle.data), (8_000_000_000, -8, now));

        let w = n.remote.warp(3_600, false).await.expect("warp");
        assert_eq!(w["unixTimestamp"], now + 3_600);
        assert_eq!(rpc.clock().await.unwrap().unix_timestamp, now + 3_600);
        let oracle = rpc.account(&sol.oracle).await.unwrap().unwrap();
        assert_eq!(
            published(&oracle.data),
            (8_000_000_000, -8, now + 3_600),
            "republished"
        );
        n.remote.warp(60, true).await.expect("warp, stale");
        let oracle = rpc.account(&sol.oracle).await.unwrap().unwrap();
        assert_eq!(published(&oracle.data).2, now + 3_600, "left stale");

        let who = Pubkey::new_unique();
        n.remote
            .fund(&who, "SOL", "1.5", false)
            .await
            .expect("fund SOL");
        assert_eq!(
            rpc.account(&who).await.unwrap().unwrap().lamports,
            1_500_000_000
        );
        let usdc = n.market("USDC");
        for _ in 0..2 {
            n.remote
                .fund(&who, "USDC", "250", false)
                .await
                .expect("fund USDC");
        }
        let usdc_ata = ata(&who, &usdc.mint);
        assert_eq!(token::balance(rpc, &usdc_ata).await.unwrap(), 500_000_000);
        n.remote
            .fund(&who, "SOL", "2", true)
            .await
            .expect("fund the SOL token");
        assert_eq!(
            token::balance(rpc, &ata(&who, &sol.mint)).await.unwrap(),
            2_000_000_000
        );

        // Wallet-facing reads of the same token account.
        let client = RpcClient::new(n.net.rpc_url());
        let parsed: Value = client
            .send(
                solana_rpc_client_api::request::RpcRequest::GetAccountInfo,
                json!([usdc_ata.to_string(), {"encoding": "jsonParsed"}]),
            )
            .await
            .unwrap();
        let info = &parsed["value"]["data"]["parsed"]["info"];
        assert_eq!(info["tokenAmount"]["uiAmountString"], "500", "{parsed}");
        assert_eq!(info["owner"], who.to_string());
        let owned = client
            .get_token_accounts_by_owner(&who, TokenAccountsFilter::Mint(usdc.mint))
            .await
            .expect("getTokenAccountsByOwner");
        assert_eq!(owned.len(), 1);
        assert_eq!(owned[0].pubkey, usdc_ata.to_string());
        let b = client.get_token_account_balance(&usdc_ata).await.unwrap();
        assert_eq!(b.amount, "500000000");

        // With skipPreflight a failing transaction lands, failed; its status and history say so.
        let key = n.trader("10").await;
        let blockhash = rpc.latest_blockhash().await.unwrap();
        let tx = Transaction::new_signed_with_payer(
            &[ix::deposit(&n.usdc_move(&key), 11_000_000)],
            Some(&key.pubkey()),
            &[&key],
            blockhash,
        );
        let config = RpcSendTransactionConfig {
            skip_preflight: true,
            ..RpcSendTransactionConfig::default()
        };
        let sig = client
            .send_transaction_with_config(&tx, config)
            .await
            .expect("accepted");
        let status = client
            .get_signature_status(&sig)
            .await
            .unwrap()
            .expect("landed");
        assert!(status.is_err(), "{status:?}");
        let landed = client
            .get_transaction_with_config(
                &sig,
                RpcTransactionConfig {
                    encoding: Some(UiTransactionEncoding::Json),
                    commitment: None,
                    max_supported_transaction_version: Some(0),
                },
            )
            .await
            .expect("getTransaction");
        let meta = landed.transaction.meta.expect("meta");
        assert!(meta.err.is_some());
        assert!(meta.fee > 0, "a landed failure pays its fee");
        assert_eq!(meta.pre_balances.len(), meta.post_balances.len());

        // A simulation on a stale blockhash with replaceRecentBlockhash, asking for the accounts
        // after it: the new blockhash comes back and the state shown is the simulated one.
        let dest = Pubkey::new_unique();
        let mut sim_tx = Transaction::new_with_payer(
            &[solana_system_interface::instruction::transfer(
                &key.pubkey(),
                &dest,
                7_000_000,
            )],
            Some(&key.pubkey()),
        );
        sim_tx.message.recent_blockhash = solana_sdk::hash::Hash::new_unique();
        let sim = client
            .simulate_transaction_with_config(
                &sim_tx,
                solana_rpc_client_api::config::RpcSimulateTransactionConfig {
                    sig_verify: false,
                    replace_recent_blockhash: true,
                    accounts: Some(
                        solana_rpc_client_api::config::RpcSimulateTransactionAccountsConfig {
                            encoding: Some(UiAccountEncoding::Base64),
                            addresses: vec![dest.to_string()],
                        },
                    ),
                    ..Default::default()
                },
            )
            .await
            .expect("simulateTransaction")
            .value;
        assert_eq!(sim.err, None, "{:#?}", sim.logs);
        let replacement = sim.replacement_blockhash.expect("the blockhash used");
        assert!(replacement.last_valid_block_height > 0);
        let after = sim.accounts.expect("accounts")[0]
            .clone()
            .expect("dest after");
        assert_eq!(after.lamports, 7_000_000);
        assert_eq!(rpc.account(&dest).await.unwrap(), None, "nothing landed");

        // Errors that tell the user what to do.
        let e = n
            .remote
            .set_price("DOGE", "1", "0")
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("SOL, ETH, USDC"), "{e}");
        let e = Remote::new("http://127.0.0.1:9")
            .warp(1, false)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("scalpel localnet"), "{e}");
        n.check_wire();
    })
    .await
}
