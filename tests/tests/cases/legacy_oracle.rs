//! A market priced by a real legacy Pyth account (mango-v4's mainnet USDC fixture) in the bank.

use crate::program_test::*;
use scalpel_client::{ix, pda, token, Chain};
use solana_sdk::{account::Account, pubkey::Pubkey, signature::Signer};

#[tokio::test]
async fn legacy_push_oracle_prices_a_market() {
    let env = Env::new().await;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/pyth/mango-v4/Gnt27xtC473ZT2Mw5u8wZ68Z3gULkSTb5DuxJy7eJotD.bin"
    );
    let data = std::fs::read(path).expect("fixture");
    let raw = scalpel::oracle::decode(
        scalpel::oracle::OracleKind::PythLegacy,
        &scalpel::constants::PYTH_LEGACY_MAINNET,
        &data,
    )
    .unwrap();
    let oracle = Pubkey::new_unique();
    env.chain
        .set_account(
            &oracle,
            Account {
                lamports: 100_000_000,
                data,
                owner: scalpel::constants::PYTH_LEGACY_MAINNET,
                executable: false,
                rent_epoch: 0,
            },
        )
        .await;
    // Listed one timelock before the price was published, activated 5 s after it.
    let timelock = env.protocol().await.timelock_secs as i64;
    env.chain
        .set_unix_time(raw.publish_time + 5 - timelock)
        .await
        .unwrap();
    let mint = token::create_mint(&env.chain, &env.admin, &env.mint_authority.pubkey(), 6)
        .await
        .unwrap();
    env.send(
        &[ix::market_add(
            &env.admin.pubkey(),
            &env.admin.pubkey(),
            test_symbol(&[0xee; 32]),
            &mint,
            &oracle,
            0,
            [0; 32],
            usdc_params(),
        )],
        &[],
    )
    .await
    .unwrap();
    env.chain.set_unix_time(raw.publish_time + 5).await.unwrap();
    env.send(&[ix::params_apply_market(&mint, &oracle)], &[])
        .await
        .unwrap();
    let m = MarketFixture {
        mint,
        market: pda::market(&mint),
        oracle,
        feed_id: [0; 32],
    };
    let u = env.user(&[]).await;
    let t = token::create_token_account(&env.chain, &env.admin, &mint, &u.key.pubkey())
        .await
        .unwrap();
    token::mint_to(
        &env.chain,
        &env.admin,
        &env.mint_authority,
        &mint,
        &t,
        1_000_000_000,
    )
    .await
    .unwrap();
    let mv = ix::TokenMove {
        owner: u.key.pubkey(),
        margin_account: u.account,
        mint,
        user_token: t,
    };
    env.send(&[ix::deposit(&mv, 1_000_000_000)], &[&u.key])
        .await
        .unwrap();
    let pairs = vec![(m.market, oracle)];
    let out = env
        .chain
        .simulate(&[ix::health_view(&u.account, &pairs)], &[&env.admin])
        .await
        .unwrap()
        .unwrap();
    let view = scalpel_client::health::decode_view(&out.return_data.unwrap()).unwrap();
    // 1 000 USDC at ~1 USD, maint asset weight 0.95.
    let a = scalpel_client::health::fixed(view.asset_maint);
    let expected = 1_000.0 * 0.95 * (raw.price as f64) * 10f64.powi(raw.expo);
    assert!(
        (a.to_num::<f64>() - expected).abs() < 1e-5,
        "{a} vs {expected}"
    );
    // Past the 300 s maintenance age the deposit counts as worth zero (what liquidation sees).
    env.chain
        .set_unix_time(raw.publish_time + 301)
        .await
        .unwrap();
    let out = env
        .chain
        .simulate(&[ix::health_view(&u.account, &pairs)], &[&env.admin])
        .await
        .unwrap()
        .unwrap();
    let view = scalpel_client::health::decode_view(&out.return_data.unwrap()).unwrap();
    assert_eq!(view.asset_maint, 0);
    // And a withdrawal, which needs a fresh price only when debt remains, goes through.
    let all = ix::withdraw(&mv, u64::MAX, &[]);
    env.send(&[all], &[&u.key]).await.unwrap();
}
