//! Oracle-manipulation resistance (issue 12), end to end: initial health bounded by the EMA, the
//! spot/EMA divergence guard, the net-borrow limit per window and deposit-weight scaling. Each
//! refusal is named and leaves every account unchanged; each allowed case lands.

use crate::program_test::*;
use scalpel::math::I80F48;
use scalpel::params::{GuardianAction, MarketParams};
use scalpel_client::ix;
use solana_sdk::signature::Signer;

/// `a` within a millionth of `b` (0.8 and 1.05 are not binary fractions).
fn close(a: I80F48, b: f64) -> bool {
    (a - I80F48::from_num(b)).abs() < I80F48::from_num(1e-6)
}

/// SOL at 100 spot with the EMA at 95 (5.3% apart, inside the 10% guard): initial health values
/// the 10 SOL at 95, so 10 · 95 · 0.8 / 1.05 = 723.8 USDC is the most it lends, where spot
/// alone would lend 761.9. A borrow of 740 is refused with every balance unchanged; 720 lands.
/// `health_view` shows both figures.
#[tokio::test]
async fn init_health_values_collateral_at_the_lower_of_spot_and_ema() {
    let env = Env::new().await;
    env.lender(100_000_000_000, 0).await;
    let b = env.depositor(&env.sol, 10_000_000_000, 0).await;
    env.set_spot_and_ema(&env.sol, "100", "95").await;
    let too_much = env.borrow_ix(&b, &env.usdc, 740_000_000).await;
    env.expect_rejected(&[too_much], &[&b.key], "InsufficientHealth")
        .await;
    env.send(
        &[env.borrow_ix(&b, &env.usdc, 720_000_000).await],
        &[&b.key],
    )
    .await
    .expect("a borrow within the EMA value");
    let v = view(&env, &b).await;
    let (init, init_spot) = (I80F48::from_bits(v.init), I80F48::from_bits(v.init_spot));
    // EMA: 760 − 720 · 1.05 = 4; spot: 800 − 756 = 44.
    assert!(close(init, 4.0), "{init}");
    assert!(close(init_spot, 44.0), "{init_spot}");
    // A debt is valued at the higher one: with the EMA of SOL above spot, a SOL debt counts more.
    env.depositor(&env.sol, 30_000_000_000, 0).await;
    let usdc_rich = env.user(&[(&env.usdc, 2_000_000_000)]).await;
    env.send(
        &[ix::deposit(&usdc_rich.mv(&env.usdc), 2_000_000_000)],
        &[&usdc_rich.key],
    )
    .await
    .expect("usdc deposit");
    env.set_spot_and_ema(&env.sol, "95", "100").await;
    // 2 000 · 0.9 = 1 800 of init collateral; a SOL debt at 100 · 1.2: 15 SOL max, not 15.78.
    env.expect_rejected(
        &[env.borrow_ix(&usdc_rich, &env.sol, 15_500_000_000).await],
        &[&usdc_rich.key],
        "InsufficientHealth",
    )
    .await;
    env.send(
        &[env.borrow_ix(&usdc_rich, &env.sol, 14_900_000_000).await],
        &[&usdc_rich.key],
    )
    .await
    .expect("a SOL borrow within the EMA value");
}

/// SOL pumped to 130 while its EMA is 100 (30% apart, beyond the default 10%): borrowing against
/// SOL, withdrawing with debt and borrowing SOL are refused with `EmaDivergenceTooLarge` and
/// nothing changes; deposits and repays go on, and so does a liquidation once spot falls with the
/// EMA still lagging. When the feed converges, borrowing works again.
#[tokio::test]
async fn divergence_refuses_risk_increases_and_nothing_else() {
    let env = Env::new().await;
    env.lender(100_000_000_000, 0).await;
    let b = env.borrower(10_000_000_000, 300_000_000).await;
    env.set_spot_and_ema(&env.sol, "130", "100").await;
    env.expect_rejected(
        &[env.borrow_ix(&b, &env.usdc, 10_000_000).await],
        &[&b.key],
        "EmaDivergenceTooLarge",
    )
    .await;
    let pairs = env.pairs(&b, None, None).await;
    env.expect_rejected(
        &[ix::withdraw(&b.mv(&env.sol), 1_000_000_000, &pairs)],
        &[&b.key],
        "EmaDivergenceTooLarge",
    )
    .await;
    // Borrowing the diverged market itself, against USDC collateral.
    let usdc_rich = env.user(&[(&env.usdc, 1_000_000_000)]).await;
    env.send(
        &[ix::deposit(&usdc_rich.mv(&env.usdc), 1_000_000_000)],
        &[&usdc_rich.key],
    )
    .await
    .expect("usdc deposit");
    env.expect_rejected(
        &[env.borrow_ix(&usdc_rich, &env.sol, 1_000_000_000).await],
        &[&usdc_rich.key],
        "EmaDivergenceTooLarge",
    )
    .await;
    // Deposits and repays read no price and go on.
    let more = env.wallet(&b, &env.sol, 1_000_000_000).await;
    env.send(&[ix::deposit(&more, 1_000_000_000)], &[&b.key])
        .await
        .expect("deposit while diverged");
    let usdc = env.wallet(&b, &env.usdc, 0).await;
    env.send(&[ix::repay(&usdc, 10_000_000)], &[&b.key])
        .await
        .expect("repay while diverged");
    // Converged: the same borrow lands.
    env.set_spot_and_ema(&env.sol, "130", "130").await;
    env.send(&[env.borrow_ix(&b, &env.usdc, 10_000_000).await], &[&b.key])
        .await
        .expect("borrow once converged");
}

/// A liquidation follows spot even while the EMA lags far behind: 10 SOL against 750 USDC with
/// SOL at 80 and its EMA still at 100 is liquidated exactly as at a steady 80 (600 USDC).
#[tokio::test]
async fn liquidation_follows_spot_while_the_ema_lags() {
    let env = Env::new().await;
    let (victim, liq) = env.underwater().await;
    env.set_spot_and_ema(&env.sol, "80", "100").await;
    let plan = view(&env, &victim).await.plans[0];
    assert_eq!(plan.repay, 600_000_000);
    let pairs = env.pairs(&victim, None, None).await;
    env.send(
        &[ix::liquidate(
            &liquidate_accounts(&victim, &liq, &env.sol, &env.usdc),
            u64::MAX,
            &pairs,
        )],
        &[&liq.key],
    )
    .await
    .expect("liquidation while the EMA lags");
}

/// A market limited to 1 000 USD borrowed net per hour: 800 lands, 300 more is refused with
/// `NetBorrowLimitExceeded` (nothing changes, the log says when the window resets), a repay of
/// 200 makes room for the 300, and the next window starts afresh.
#[tokio::test]
async fn net_borrows_are_limited_per_window() {
    let env = Env::new().await;
    let usd = env
        .add_pull_market(
            6,
            [7; 32],
            "1",
            MarketParams {
                net_borrow_limit_micro_usd: 1_000_000_000,
                net_borrow_window_secs: 3_600,
                ..usdc_params()
            },
        )
        .await;
    let lender = env.user(&[]).await;
    let lent = env.wallet(&lender, &usd, 100_000_000_000).await;
    env.send(&[ix::deposit(&lent, 100_000_000_000)], &[&lender.key])
        .await
        .expect("lender deposit");
    let b = env.depositor(&env.sol, 100_000_000_000, 0).await;
    let t = env.wallet(&b, &usd, 0).await;
    let borrow = |amount: u64| {
        let (env, b, t) = (&env, &b, &t);
        async move {
            let pairs = env.pairs(b, Some(&usd), None).await;
            ix::borrow(t, amount, &pairs)
        }
    };
    env.send(&[borrow(800_000_000).await], &[&b.key])
        .await
        .expect("800 within the limit");
    let over = borrow(300_000_000).await;
    env.chain.track(std::slice::from_ref(&over));
    let before = env.snapshot().await;
    let f = env
        .send(&[over], &[&b.key])
        .await
        .expect_err("1 100 beyond the limit");
    assert_eq!(f.name, "NetBorrowLimitExceeded");
    assert!(
        f.logs
            .iter()
            .any(|l| l.contains("window resets at unix time")),
        "{:#?}",
        f.logs
    );
    assert!(
        env.snapshot().await == before,
        "a refused borrow changed state"
    );
    env.send(&[ix::repay(&t, 200_000_000)], &[&b.key])
        .await
        .expect("repay 200");
    env.send(&[borrow(300_000_000).await], &[&b.key])
        .await
        .expect("900 net after the repay");
    env.expect_rejected(
        &[borrow(200_000_000).await],
        &[&b.key],
        "NetBorrowLimitExceeded",
    )
    .await;
    let m = env.market(&usd).await;
    assert_eq!(m.net_borrowed_in_window, 900_000_000);
    env.chain.advance_time(3_600).await.expect("clock");
    env.refresh_prices().await;
    env.send(&[borrow(200_000_000).await], &[&b.key])
        .await
        .expect("a new window");
    let m = env.market(&usd).await;
    assert_eq!(m.net_borrowed_in_window, 200_000_000);
    assert_eq!(m.net_borrow_window_start % 3_600, 0);
}

/// A SOL-like market whose init asset weight scales down above 1 000 USD of deposits: with
/// 2 000 USD deposited the weight is 0.8 · 1 000 / 2 000 = 0.4, so 20 tokens at 100 back
/// 800 / 1.05 = 761.9 USDC, not 1 523.8. A borrow of 770 is refused, 760 lands.
#[tokio::test]
async fn init_asset_weight_scales_down_above_the_deposit_threshold() {
    let env = Env::new().await;
    let thin = env
        .add_pull_market(
            9,
            [8; 32],
            "100",
            MarketParams {
                deposit_weight_scale_start_micro_usd: 1_000_000_000,
                ..sol_params()
            },
        )
        .await;
    env.lender(100_000_000_000, 0).await;
    let b = env.user(&[]).await;
    let t = env.wallet(&b, &thin, 20_000_000_000).await;
    env.send(&[ix::deposit(&t, 20_000_000_000)], &[&b.key])
        .await
        .expect("deposit");
    env.expect_rejected(
        &[env.borrow_ix(&b, &env.usdc, 770_000_000).await],
        &[&b.key],
        "InsufficientHealth",
    )
    .await;
    env.send(
        &[env.borrow_ix(&b, &env.usdc, 760_000_000).await],
        &[&b.key],
    )
    .await
    .expect("within the scaled weight");
}

/// The guardian (or admin) may tighten a market's oracle guards at once, never loosen them, and
/// only within the bounds.
#[tokio::test]
async fn guardian_tightens_oracle_guards_only() {
    let env = Env::new().await;
    let admin = env.admin.pubkey();
    let tighten = |div: u16, limit: u64, scale: u64| {
        ix::guardian_tighten(
            &admin,
            Some(&env.sol.mint),
            GuardianAction::TightenOracleGuards {
                max_ema_divergence_bps: div,
                net_borrow_limit_micro_usd: limit,
                deposit_weight_scale_start_micro_usd: scale,
            },
        )
    };
    env.send(&[tighten(500, 10_000_000_000, 5_000_000_000)], &[])
        .await
        .expect("tighten");
    let m = env.market(&env.sol).await;
    assert_eq!(m.guards.max_ema_divergence_bps, 500);
    assert_eq!(m.guards.net_borrow_limit_micro_usd, 10_000_000_000);
    assert_eq!(m.guards.deposit_weight_scale_start_micro_usd, 5_000_000_000);
    env.expect_rejected(
        &[tighten(600, 10_000_000_000, 5_000_000_000)],
        &[],
        "GuardianCannotLoosen",
    )
    .await;
    env.expect_rejected(
        &[tighten(500, 20_000_000_000, 5_000_000_000)],
        &[],
        "GuardianCannotLoosen",
    )
    .await;
    env.expect_rejected(
        &[tighten(10, 10_000_000_000, 5_000_000_000)],
        &[],
        "InvalidEmaDivergence",
    )
    .await;
}

/// Out-of-bound oracle-guard parameters are refused by name where governance sets them, at
/// listing (`market_add`) and at queueing (`params_queue_market`), and change nothing.
#[tokio::test]
async fn oracle_guard_bounds_are_named_at_listing_and_queueing() {
    let env = Env::new().await;
    let admin = env.admin.pubkey();
    let mint =
        scalpel_client::token::create_mint(&env.chain, &env.admin, &env.mint_authority.pubkey(), 9)
            .await
            .expect("mint");
    let add = |params: MarketParams| {
        ix::market_add(
            &admin,
            &admin,
            test_symbol(&[0xee; 32]),
            &mint,
            &env.sol.oracle,
            1,
            env.sol.feed_id,
            params,
        )
    };
    for (params, name) in [
        (
            MarketParams {
                net_borrow_window_secs: 59,
                ..sol_params()
            },
            "InvalidNetBorrowLimit",
        ),
        (
            MarketParams {
                net_borrow_window_secs: 7 * 86_400 + 1,
                ..sol_params()
            },
            "InvalidNetBorrowLimit",
        ),
        (
            MarketParams {
                deposit_weight_scale_start_micro_usd: 999_999,
                ..sol_params()
            },
            "InvalidDepositWeightScale",
        ),
        (
            MarketParams {
                max_ema_divergence_bps: 49,
                ..sol_params()
            },
            "InvalidEmaDivergence",
        ),
    ] {
        env.expect_rejected(&[add(params)], &[], name).await;
        let queue = ix::params_queue_market(
            &admin,
            &env.sol.mint,
            &env.sol.oracle,
            1,
            env.sol.feed_id,
            params,
        );
        env.expect_rejected(&[queue], &[], name).await;
    }
    // The same market at valid bounds lists: the refusals above were the parameters'.
    env.send(&[add(sol_params())], &[])
        .await
        .expect("market_add at valid bounds");
}
