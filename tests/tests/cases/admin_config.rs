//! Config as code: `admin::plan` creates what is missing, queues what differs, is idempotent, and
//! its unsigned transactions can be signed later by the admin and executed.

use crate::program_test::*;
use scalpel_client::admin::{
    self, AdminConfig, MarketConfig, MarketParamsConfig, ProtocolConfig, ProtocolParamsConfig,
};
use scalpel_client::{pda, Chain};
use solana_sdk::signature::{Keypair, Signer};

fn market_cfg(symbol: &str, m: &MarketFixture, params: MarketParamsConfig) -> MarketConfig {
    MarketConfig {
        symbol: symbol.into(),
        mint: m.mint.to_string(),
        oracle: m.oracle.to_string(),
        oracle_kind: "pull".into(),
        feed_id: Some(hex(&m.feed_id)),
        params,
        decimals: None,
        price: None,
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn sol_cfg() -> MarketParamsConfig {
    let p = sol_params();
    MarketParamsConfig {
        asset_weight_init_bps: Some(p.asset_weight_init_bps),
        asset_weight_maint_bps: Some(p.asset_weight_maint_bps),
        liab_weight_init_bps: Some(p.liab_weight_init_bps),
        liab_weight_maint_bps: Some(p.liab_weight_maint_bps),
        liquidation_penalty_bps: Some(p.liquidation_penalty_bps),
        base_rate_bps: Some(p.base_rate_bps),
        ..MarketParamsConfig::default()
    }
}

#[tokio::test]
async fn plan_is_idempotent_and_queues_only_differences() {
    let env = Env::new().await;
    let admin = env.admin.pubkey();
    let guardian = env.protocol().await.guardian;
    let cfg = |buffer: u16, sol: MarketParamsConfig| AdminConfig {
        protocol: ProtocolConfig {
            guardian: guardian.to_string(),
            params: ProtocolParamsConfig {
                liquidation_buffer_bps: Some(buffer),
                ..Default::default()
            },
        },
        markets: vec![market_cfg("SOL", &env.sol, sol)],
    };
    // Matches the chain: nothing to do.
    let same = admin::plan(&env.chain, &cfg(200, sol_cfg()), &admin)
        .await
        .unwrap();
    assert!(
        same.is_empty(),
        "{:?}",
        same.iter().map(|a| &a.description).collect::<Vec<_>>()
    );
    // Two differences: two queue actions.
    let tighter = MarketParamsConfig {
        liquidation_penalty_bps: Some(600),
        ..sol_cfg()
    };
    let wanted = cfg(300, tighter);
    let actions = admin::plan(&env.chain, &wanted, &admin).await.unwrap();
    let names: Vec<_> = actions.iter().map(|a| a.description.clone()).collect();
    assert_eq!(
        names,
        [
            "queue protocol parameters (timelock 86400 s)",
            "queue SOL parameters"
        ]
    );
    for a in &actions {
        env.send(std::slice::from_ref(&a.instruction), &[])
            .await
            .unwrap();
    }
    // Queued already: a second run does nothing.
    assert!(admin::plan(&env.chain, &wanted, &admin)
        .await
        .unwrap()
        .is_empty());
    // A different signer is told who the admin is.
    let err = admin::plan(&env.chain, &wanted, &Keypair::new().pubkey())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("sign with the admin key"), "{err}");
    // Out-of-bound values are refused before anything is sent.
    let bad = cfg(5_000, sol_cfg());
    assert!(admin::plan(&env.chain, &bad, &admin)
        .await
        .unwrap_err()
        .to_string()
        .contains("InvalidLiquidationBuffer"));
}

#[tokio::test]
async fn print_only_transactions_are_signed_later_and_executed() {
    let env = Env::new().await;
    let admin = env.admin.pubkey();
    let guardian = Keypair::new().pubkey();
    let wanted = AdminConfig {
        protocol: ProtocolConfig {
            guardian: guardian.to_string(),
            params: ProtocolParamsConfig {
                dust_threshold_usd: Some("2.5".into()),
                ..Default::default()
            },
        },
        markets: vec![],
    };
    let actions = admin::plan(&env.chain, &wanted, &admin).await.unwrap();
    assert_eq!(actions.len(), 2, "guardian and parameters");
    let blockhash = env.chain.latest_blockhash().await.unwrap();
    let unsigned = admin::unsigned_transactions(&actions, &admin, blockhash).unwrap();
    // Later, elsewhere: the admin key signs each and anyone submits it.
    for b64 in &unsigned {
        let mut tx = admin::decode_transaction(b64).unwrap();
        assert!(
            tx.signatures.iter().all(|s| *s == Default::default()),
            "unsigned"
        );
        let fresh = env.chain.latest_blockhash().await.unwrap();
        tx.try_sign(&[&env.admin], fresh).unwrap();
        env.chain.send_signed(tx).await.unwrap().unwrap();
    }
    let p = env.protocol().await;
    assert_eq!(p.guardian, guardian);
    assert_eq!(p.pending.active, 1);
    assert_eq!(p.pending.dust_threshold_micro_usd, 2_500_000);
    assert!(admin::plan(&env.chain, &wanted, &admin)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn plan_creates_a_missing_market_and_protocol() {
    let env = Env::new().await;
    // A second mint and oracle not yet listed.
    let m = MarketFixture {
        mint: scalpel_client::token::create_mint(
            &env.chain,
            &env.admin,
            &env.mint_authority.pubkey(),
            8,
        )
        .await
        .unwrap(),
        oracle: solana_sdk::pubkey::Pubkey::new_unique(),
        feed_id: [5; 32],
        market: Default::default(),
    };
    let m = MarketFixture {
        market: pda::market(&m.mint),
        ..m
    };
    env.set_price(&m, "1000", "0").await;
    let wanted = AdminConfig {
        protocol: ProtocolConfig {
            guardian: env.protocol().await.guardian.to_string(),
            params: Default::default(),
        },
        markets: vec![
            market_cfg("SOL", &env.sol, sol_cfg()),
            market_cfg("ETH", &m, MarketParamsConfig::default()),
        ],
    };
    let actions = admin::plan(&env.chain, &wanted, &env.admin.pubkey())
        .await
        .unwrap();
    assert_eq!(actions.len(), 1);
    assert!(actions[0].description.starts_with("list ETH"));
    env.send(&[actions[0].instruction.clone()], &[])
        .await
        .unwrap();
    assert_eq!(env.protocol().await.market_count, 3);
    assert!(admin::plan(&env.chain, &wanted, &env.admin.pubkey())
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn shipped_devnet_migration_is_valid() {
    let path = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../migrations/devnet.toml"
    ));
    let cfg = AdminConfig::load(path).unwrap();
    assert_eq!(cfg.markets.len(), 2);
    // Planned against an empty cluster it creates the protocol first and every value is in bounds
    // (listing then needs the real oracle accounts, which only devnet has).
    let fresh = scalpel_client::LocalChain::start(vec![]).await;
    let admin = fresh.payer().insecure_clone();
    let actions = admin::plan(&fresh, &cfg, &admin.pubkey()).await.unwrap();
    let names: Vec<_> = actions.iter().map(|a| a.description.clone()).collect();
    assert_eq!(names[0], "create the protocol");
    assert!(
        names[1].starts_with("list SOL") && names[2].starts_with("list USDC"),
        "{names:?}"
    );
}

#[tokio::test]
async fn show_reports_live_parameters_and_pending_changes() {
    let env = Env::new().await;
    let admin = env.admin.pubkey();
    let tighter = scalpel::params::MarketParams {
        liquidation_penalty_bps: 600,
        liquidation_penalty_min_bps: 600,
        ..sol_params()
    };
    env.send(
        &[scalpel_client::ix::params_queue_market(
            &admin,
            &env.sol.mint,
            &env.sol.oracle,
            1,
            env.sol.feed_id,
            tighter,
        )],
        &[],
    )
    .await
    .unwrap();
    let live = admin::live(&env.chain).await.unwrap();
    assert_eq!(live.admin, admin.to_string());
    assert_eq!(live.markets.len(), 2);
    assert_eq!(live.markets[0].params.liquidation_penalty_bps, 500);
    let (eta, queued, oracle) = live.markets[0].pending.clone().unwrap();
    assert_eq!(queued.liquidation_penalty_bps, 600);
    assert_eq!(oracle, env.sol.oracle.to_string());
    assert_eq!(eta, env.now().await + 86_400);
    let text = admin::render(&live);
    assert!(
        text.contains("penalty 500 bps") && text.contains("queued"),
        "{text}"
    );
    let json = serde_json::to_value(&live).unwrap();
    assert_eq!(json["markets"][1]["index"], 1);
}
