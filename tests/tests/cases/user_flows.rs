//! Happy paths of every core instruction, with numbers checked by hand.

use crate::program_test::*;
use scalpel::events::BalanceChanged;
use scalpel::health_accounts::PriceAge;
use scalpel::math::I80F48;
use scalpel_client::{events, health, ix, pda, token, Chain};
use solana_sdk::signature::Signer;

fn f(v: f64) -> I80F48 {
    I80F48::from_num(v)
}

fn close(a: I80F48, b: f64, tol: f64) -> bool {
    (a - f(b)).abs() <= f(tol)
}

#[tokio::test]
async fn protocol_and_markets_are_initialized() {
    let env = Env::new().await;
    let p = env.protocol().await;
    assert_eq!(p.admin, env.admin.pubkey());
    assert_eq!(p.market_count, 2);
    assert_eq!(p.liquidation_buffer_bps, 200);
    assert_eq!(
        [
            p.split_liquidator_bps,
            p.split_insurance_bps,
            p.split_treasury_bps
        ],
        [6_000, 2_500, 1_500]
    );
    assert_eq!(p.dust_threshold(), f(1.0));
    let sol = env.market(&env.sol).await;
    assert_eq!(sol.market_index, 0);
    assert_eq!(sol.decimals, 9);
    assert_eq!(sol.vault, pda::vault(&env.sol.market));
    assert_eq!(sol.insurance_vault, pda::insurance_vault(&env.sol.market));
    assert_eq!(sol.treasury_vault, pda::treasury_vault(&env.sol.market));
    assert_eq!(sol.oracle, env.sol.oracle);
    assert_eq!(sol.feed_id, [1; 32]);
    assert_eq!(sol.asset_weight_maint.get(), f(0.9));
    assert_eq!(sol.deposit_index.get(), I80F48::ONE);
    // The three vaults are real token accounts owned by the market PDA.
    for v in [sol.vault, sol.insurance_vault, sol.treasury_vault] {
        let a = env.chain.account(&v).await.unwrap().unwrap();
        let t =
            <spl_token::state::Account as solana_sdk::program_pack::Pack>::unpack(&a.data).unwrap();
        assert_eq!(t.owner, env.sol.market);
        assert_eq!(t.mint, env.sol.mint);
    }
    assert_eq!(env.market(&env.usdc).await.market_index, 1);
}

#[tokio::test]
async fn deposit_withdraw_close_roundtrip() {
    let env = Env::new().await;
    let u = env.user(&[(&env.sol, 10_000_000_000)]).await;
    let out = env
        .send(&[ix::deposit(&u.mv(&env.sol), 10_000_000_000)], &[&u.key])
        .await
        .unwrap();
    let ev = events::parse::<BalanceChanged>(&out.logs);
    assert_eq!(ev.len(), 1);
    assert_eq!((ev[0].kind, ev[0].amount), (0, 10_000_000_000));
    assert_eq!(env.balance(&env.sol.vault()).await, 10_000_000_000);
    assert_eq!(env.balance(&u.token(&env.sol)).await, 0);
    let acc = env.margin(&u.account).await;
    assert_eq!(acc.positions[0].shares(), f(10_000_000_000.0));
    assert_eq!(acc.positions[0].market_index, 0);

    // Partial withdraw, then the rest with u64::MAX.
    let pairs = env.pairs(&u, None, None).await;
    env.send(
        &[ix::withdraw(&u.mv(&env.sol), 4_000_000_000, &pairs)],
        &[&u.key],
    )
    .await
    .unwrap();
    assert_eq!(env.balance(&u.token(&env.sol)).await, 4_000_000_000);
    let pairs = env.pairs(&u, None, Some(&env.sol)).await;
    env.send(
        &[ix::withdraw(&u.mv(&env.sol), u64::MAX, &pairs)],
        &[&u.key],
    )
    .await
    .unwrap();
    assert_eq!(env.balance(&u.token(&env.sol)).await, 10_000_000_000);
    assert_eq!(env.balance(&env.sol.vault()).await, 0);
    assert!(env.margin(&u.account).await.is_empty());
    assert_eq!(
        env.market(&env.sol).await.total_deposit_shares.get(),
        I80F48::ZERO
    );

    // Close returns the rent to the owner.
    let before = env
        .chain
        .account(&u.key.pubkey())
        .await
        .unwrap()
        .unwrap()
        .lamports;
    env.send(
        &[ix::account_close(&u.key.pubkey(), &u.account, &[])],
        &[&u.key],
    )
    .await
    .unwrap();
    assert!(env.chain.account(&u.account).await.unwrap().is_none());
    let after = env
        .chain
        .account(&u.key.pubkey())
        .await
        .unwrap()
        .unwrap()
        .lamports;
    assert!(after > before);
}

/// Lender supplies 10 000 USDC; borrower posts 10 SOL at 100 and borrows 500 USDC.
pub async fn borrower_setup(env: &Env) -> (User, User) {
    let lender = env.lender(10_000_000_000, 0).await;
    let b = env.borrower(10_000_000_000, 500_000_000).await;
    (lender, b)
}

#[tokio::test]
async fn borrow_health_view_and_repay_exactly() {
    let env = Env::new().await;
    let (_lender, b) = borrower_setup(&env).await;
    assert_eq!(env.balance(&b.token(&env.usdc)).await, 500_000_000);
    assert_eq!(env.balance(&env.usdc.vault()).await, 9_500_000_000);

    // health_view: A_maint = 10·100·0.9 = 900, L_maint = 500·1.0 = 500, end = 900 − 510 = 390,
    // init = 10·100·0.8 − 500·1.05 = 275 (conf 0, no bias), ratio 1.8.
    let pairs = env.pairs(&b, None, None).await;
    let out = env
        .chain
        .simulate(&[ix::health_view(&b.account, &pairs)], &[&env.admin])
        .await
        .unwrap()
        .unwrap();
    let view = health::decode_view(&out.return_data.expect("return data")).unwrap();
    assert!(close(health::fixed(view.maint), 400.0, 1e-3));
    assert!(close(health::fixed(view.end), 390.0, 1e-3));
    assert!(close(health::fixed(view.init), 275.0, 1e-3));
    assert!(close(health::fixed(view.ratio.unwrap()), 1.8, 1e-3));
    assert!(!view.liquidatable && !view.being_liquidated);

    // Off-chain health uses the same functions and gives the same bits.
    let off = health::account_health(
        &env.chain,
        &env.protocol().await,
        &env.margin(&b.account).await,
        &env.markets().await,
        PriceAge::Maintenance,
    )
    .await
    .unwrap();
    assert_eq!(off.maint.to_bits(), view.maint);
    assert_eq!(off.end.to_bits(), view.end);
    assert_eq!(off.init.to_bits(), view.init);

    // Repaying more than owed repays exactly the debt.
    token::mint_to(
        &env.chain,
        &env.admin,
        &env.mint_authority,
        &env.usdc.mint,
        &b.token(&env.usdc),
        1_000_000_000,
    )
    .await
    .unwrap();
    let out = env
        .send(&[ix::repay(&b.mv(&env.usdc), u64::MAX - 1)], &[&b.key])
        .await
        .unwrap();
    let ev = events::parse::<BalanceChanged>(&out.logs);
    assert_eq!((ev[0].kind, ev[0].amount), (3, 500_000_000));
    assert_eq!(env.balance(&b.token(&env.usdc)).await, 1_000_000_000);
    assert_eq!(env.balance(&env.usdc.vault()).await, 10_000_000_000);
    let acc = env.margin(&b.account).await;
    assert!(acc.find(1).is_none(), "debt slot freed");
    assert_eq!(
        env.market(&env.usdc).await.total_borrow_shares.get(),
        I80F48::ZERO
    );
}

#[tokio::test]
async fn interest_accrues_on_the_kinked_curve() {
    let env = Env::new().await;
    let (_lender, _b) = borrower_setup(&env).await;
    // Utilization 500 / 10 000 = 5%: rate = 1% + 4% · (0.05 / 0.8) = 1.25% a year.
    env.chain
        .advance_time(scalpel::constants::SECONDS_PER_YEAR as i64)
        .await
        .unwrap();
    env.send(&[ix::market_accrue(&env.usdc.market)], &[])
        .await
        .unwrap();
    let m = env.market(&env.usdc).await;
    assert!(close(m.borrow_index.get(), 1.0125, 1e-12));
    // Depositors earn exactly the borrowers' 6.25 USDC over 10 000: index 1.000625.
    assert!(close(m.deposit_index.get(), 1.000625, 1e-12));
    assert_eq!(m.total_borrows().unwrap(), 506_250_000);
    assert!(m.total_deposits().unwrap() <= 10_006_250_000);
    assert!(m.total_deposits().unwrap() >= 10_006_249_999);
}
