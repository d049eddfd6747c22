//! Governance (SPEC section 8): two-step admin, timelocked parameters checked at queue and at
//! apply, cancel, the guardian that can only tighten, bounded liquidation pauses, the
//! maintenance-weight shift, treasury withdrawal. Every refusal leaves every account unchanged.

use crate::program_test::*;
use scalpel::params::{GuardianAction, MarketParams, ProtocolParams};
use scalpel::state::{MARKET_PAUSE_DEPOSITS, PAUSE_BORROWS};
use scalpel_client::{health, ix, pda, token, Chain};
use solana_sdk::signature::{Keypair, Signer};

const DAY: i64 = 86_400;

async fn with_guardian(env: &Env) -> Keypair {
    let g = Keypair::new();
    env.send(&[ix::guardian_set(&env.admin.pubkey(), &g.pubkey())], &[])
        .await
        .unwrap();
    g
}

#[tokio::test]
async fn admin_transfer_is_two_step() {
    let env = Env::new().await;
    let next = Keypair::new();
    let mallory = Keypair::new();
    env.expect_rejected(
        &[ix::admin_propose(&mallory.pubkey(), &mallory.pubkey())],
        &[&mallory],
        "Unauthorized",
    )
    .await;
    env.expect_rejected(
        &[ix::admin_accept(&next.pubkey())],
        &[&next],
        "NotPendingAdmin",
    )
    .await;
    env.send(
        &[ix::admin_propose(&env.admin.pubkey(), &next.pubkey())],
        &[],
    )
    .await
    .unwrap();
    assert_eq!(env.protocol().await.pending_admin, next.pubkey());
    env.expect_rejected(
        &[ix::admin_accept(&mallory.pubkey())],
        &[&mallory],
        "NotPendingAdmin",
    )
    .await;
    env.send(&[ix::admin_accept(&next.pubkey())], &[&next])
        .await
        .unwrap();
    let p = env.protocol().await;
    assert_eq!(p.admin, next.pubkey());
    assert_eq!(p.pending_admin, solana_sdk::pubkey::Pubkey::default());
    // The old admin is now a stranger.
    env.expect_rejected(
        &[ix::guardian_set(&env.admin.pubkey(), &mallory.pubkey())],
        &[],
        "Unauthorized",
    )
    .await;
    env.send(
        &[ix::guardian_set(&next.pubkey(), &mallory.pubkey())],
        &[&next],
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn protocol_parameters_queue_wait_apply_cancel() {
    let env = Env::new().await;
    let g = with_guardian(&env).await;
    let admin = env.admin.pubkey();
    let new = ProtocolParams {
        liquidation_buffer_bps: 300,
        ..ProtocolParams::default()
    };
    // Non-admin, and each bound, refused at queue time.
    let mallory = Keypair::new();
    env.expect_rejected(
        &[ix::params_queue_protocol(&mallory.pubkey(), new)],
        &[&mallory],
        "Unauthorized",
    )
    .await;
    for (p, name) in [
        (
            ProtocolParams {
                liquidation_buffer_bps: 2_001,
                ..new
            },
            "InvalidLiquidationBuffer",
        ),
        (
            ProtocolParams {
                split_bps: [4_000, 4_000, 2_000],
                ..new
            },
            "InvalidPenaltySplit",
        ),
        (
            ProtocolParams {
                dust_threshold_micro_usd: 2_000_000_000,
                ..new
            },
            "InvalidDustThreshold",
        ),
        (
            ProtocolParams {
                conf_multiplier_bps: 200_000,
                ..new
            },
            "InvalidConfidenceMultiplier",
        ),
        (
            ProtocolParams {
                timelock_secs: 40 * 86_400,
                ..new
            },
            "InvalidTimelock",
        ),
    ] {
        env.expect_rejected(&[ix::params_queue_protocol(&admin, p)], &[], name)
            .await;
    }
    env.expect_rejected(&[ix::params_apply_protocol()], &[], "NoPendingChange")
        .await;
    env.send(&[ix::params_queue_protocol(&admin, new)], &[])
        .await
        .unwrap();
    let p = env.protocol().await;
    assert_eq!(p.pending.eta, env.now().await + DAY);
    // Before eta: refused. After: anyone applies.
    env.expect_rejected(&[ix::params_apply_protocol()], &[], "TimelockNotExpired")
        .await;
    env.chain.advance_time(DAY - 1).await.unwrap();
    env.expect_rejected(&[ix::params_apply_protocol()], &[], "TimelockNotExpired")
        .await;
    env.chain.advance_time(1).await.unwrap();
    env.send(&[ix::params_apply_protocol()], &[]).await.unwrap();
    let p = env.protocol().await;
    assert_eq!(p.liquidation_buffer_bps, 300);
    assert_eq!(p.pending.active, 0);
    env.expect_rejected(&[ix::params_apply_protocol()], &[], "NoPendingChange")
        .await;
    // Cancel: a stranger cannot, the guardian can.
    env.send(
        &[ix::params_queue_protocol(&admin, ProtocolParams::default())],
        &[],
    )
    .await
    .unwrap();
    env.expect_rejected(
        &[ix::params_cancel(&mallory.pubkey(), None)],
        &[&mallory],
        "Unauthorized",
    )
    .await;
    env.send(&[ix::params_cancel(&g.pubkey(), None)], &[&g])
        .await
        .unwrap();
    env.chain.advance_time(DAY).await.unwrap();
    env.expect_rejected(&[ix::params_apply_protocol()], &[], "NoPendingChange")
        .await;
    assert_eq!(env.protocol().await.liquidation_buffer_bps, 300);
}

#[tokio::test]
async fn market_change_moves_the_oracle_only_through_the_timelock() {
    let env = Env::new().await;
    let admin = env.admin.pubkey();
    // A second SOL feed account.
    let other = MarketFixture {
        oracle: solana_sdk::pubkey::Pubkey::new_unique(),
        feed_id: [9; 32],
        ..env.sol
    };
    env.set_price(&other, "101", "0").await;
    let q = ix::params_queue_market(
        &admin,
        &env.sol.mint,
        &other.oracle,
        1,
        [9; 32],
        sol_params(),
    );
    // Bounds and oracle checks at queue time.
    let bad = ix::params_queue_market(
        &admin,
        &env.sol.mint,
        &other.oracle,
        1,
        [9; 32],
        MarketParams {
            liquidation_penalty_bps: 1_200,
            liquidation_penalty_min_bps: 1_200,
            ..sol_params()
        },
    );
    env.expect_rejected(&[bad], &[], "PenaltyTooHighForWeight")
        .await;
    let wrong_feed = ix::params_queue_market(
        &admin,
        &env.sol.mint,
        &other.oracle,
        1,
        [8; 32],
        sol_params(),
    );
    env.expect_rejected(&[wrong_feed], &[], "OracleFeedMismatch")
        .await;
    env.send(&[q], &[]).await.unwrap();
    assert_eq!(
        env.market(&env.sol).await.oracle,
        env.sol.oracle,
        "nothing changes before eta"
    );
    env.expect_rejected(
        &[ix::params_apply_market(&env.sol.mint, &other.oracle)],
        &[],
        "TimelockNotExpired",
    )
    .await;
    env.chain.advance_time(DAY).await.unwrap();
    env.set_price(&other, "101", "0").await;
    // The apply must name the queued oracle.
    env.expect_rejected(
        &[ix::params_apply_market(&env.sol.mint, &env.sol.oracle)],
        &[],
        "OracleMismatch",
    )
    .await;
    env.send(
        &[ix::params_apply_market(&env.sol.mint, &other.oracle)],
        &[],
    )
    .await
    .unwrap();
    let m = env.market(&env.sol).await;
    assert_eq!(m.oracle, other.oracle);
    assert_eq!(m.feed_id, [9; 32]);
    assert_eq!(m.pending.active, 0);
}

#[tokio::test]
async fn maint_weight_tightening_shifts_gradually() {
    let env = Env::new().await;
    let admin = env.admin.pubkey();
    env.lender(10_000_000_000, 0).await;
    let u = env.borrower(10_000_000_000, 700_000_000).await;
    // SOL maint asset weight 0.9 → 0.65 (init 0.8 → 0.6): maint 200 USD now, −50 at the end.
    let tighter = MarketParams {
        asset_weight_init_bps: 6_000,
        asset_weight_maint_bps: 6_500,
        ..sol_params()
    };
    env.send(
        &[ix::params_queue_market(
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
    env.chain.advance_time(DAY).await.unwrap();
    env.send(
        &[ix::params_apply_market(&env.sol.mint, &env.sol.oracle)],
        &[],
    )
    .await
    .unwrap();
    let m = env.market(&env.sol).await;
    assert_eq!(m.shift.active, 1);
    assert_eq!(m.shift.end_ts - m.shift.start_ts, DAY);
    let mut maints = Vec::new();
    for step in 0..=4 {
        if step > 0 {
            env.chain.advance_time(DAY / 4).await.unwrap();
        }
        env.set_price(&env.sol, "100", "0").await;
        env.set_price(&env.usdc, "1", "0").await;
        let pairs = env.pairs(&u, None, None).await;
        let out = env
            .chain
            .simulate(&[ix::health_view(&u.account, &pairs)], &[&env.admin])
            .await
            .unwrap()
            .unwrap();
        let v = health::decode_view(&out.return_data.unwrap()).unwrap();
        maints.push((health::fixed(v.maint).to_num::<f64>(), v.liquidatable));
    }
    // 200, 137.5, 75, 12.5, −50: healthy for three quarters of the day, liquidatable at the end
    // (less a few cents of USDC interest, 1.35%/yr on 700 USDC over the two days).
    let expected = [200.0, 137.5, 75.0, 12.5, -50.0];
    for ((got, _), want) in maints.iter().zip(expected) {
        assert!(*got <= want && want - got < 0.06, "{maints:?}");
    }
    assert_eq!(
        maints.iter().map(|(_, l)| *l).collect::<Vec<_>>(),
        [false, false, false, false, true]
    );
}

#[tokio::test]
async fn guardian_only_tightens_and_liquidation_pauses_end() {
    let env = Env::new().await;
    let g = with_guardian(&env).await;
    let mallory = Keypair::new();
    let sol = Some(&env.sol.mint);
    let t = |who: &Keypair, mint: Option<&solana_sdk::pubkey::Pubkey>, a: GuardianAction| {
        ix::guardian_tighten(&who.pubkey(), mint, a)
    };
    env.expect_rejected(
        &[t(
            &mallory,
            sol,
            GuardianAction::PauseMarket {
                flags: MARKET_PAUSE_DEPOSITS,
            },
        )],
        &[&mallory],
        "Unauthorized",
    )
    .await;
    // Loosening through the guardian fails, each way.
    env.expect_rejected(
        &[t(
            &g,
            sol,
            GuardianAction::LowerInitAssetWeight { bps: 8_500 },
        )],
        &[&g],
        "GuardianCannotLoosen",
    )
    .await;
    env.expect_rejected(
        &[t(
            &g,
            sol,
            GuardianAction::RaiseInitLiabWeight { bps: 11_500 },
        )],
        &[&g],
        "GuardianCannotLoosen",
    )
    .await;
    env.send(
        &[t(
            &g,
            sol,
            GuardianAction::LowerCaps {
                deposit_cap: 1_000,
                borrow_cap: 1_000,
            },
        )],
        &[&g],
    )
    .await
    .unwrap();
    env.expect_rejected(
        &[t(
            &g,
            sol,
            GuardianAction::LowerCaps {
                deposit_cap: 2_000,
                borrow_cap: 1_000,
            },
        )],
        &[&g],
        "GuardianCannotLoosen",
    )
    .await;
    env.expect_rejected(
        &[t(&g, None, GuardianAction::PauseMarket { flags: 1 })],
        &[&g],
        "InvalidGuardianAction",
    )
    .await;
    // Only pause and reduce-only bits: not the listing quarantine (which only a timelocked
    // change lifts), not undefined bits, not nothing.
    for flags in [scalpel::state::MARKET_QUARANTINED, 1 << 5, 1 << 7, 0] {
        env.expect_rejected(
            &[t(&g, sol, GuardianAction::PauseMarket { flags })],
            &[&g],
            "InvalidGuardianAction",
        )
        .await;
    }
    for flags in [1 << 3, 1 << 6, 0] {
        env.expect_rejected(
            &[t(&g, None, GuardianAction::PauseProtocol { flags })],
            &[&g],
            "InvalidGuardianAction",
        )
        .await;
    }
    // Tightening works at once.
    env.send(
        &[t(
            &g,
            sol,
            GuardianAction::LowerInitAssetWeight { bps: 7_000 },
        )],
        &[&g],
    )
    .await
    .unwrap();
    assert_eq!(
        env.market(&env.sol).await.asset_weight_init.get(),
        scalpel::math::I80F48::from_num(0.7)
    );
    env.send(
        &[t(
            &g,
            sol,
            GuardianAction::PauseMarket {
                flags: MARKET_PAUSE_DEPOSITS,
            },
        )],
        &[&g],
    )
    .await
    .unwrap();
    env.send(
        &[t(
            &g,
            None,
            GuardianAction::PauseProtocol {
                flags: PAUSE_BORROWS,
            },
        )],
        &[&g],
    )
    .await
    .unwrap();
    let u = env.user(&[(&env.sol, 1_000)]).await;
    env.expect_rejected(
        &[ix::deposit(&u.mv(&env.sol), 500)],
        &[&u.key],
        "DepositsPaused",
    )
    .await;
    // Only the admin lifts it.
    env.expect_rejected(
        &[ix::admin_set_flags(&g.pubkey(), sol, 0)],
        &[&g],
        "Unauthorized",
    )
    .await;
    env.send(&[ix::admin_set_flags(&env.admin.pubkey(), sol, 0)], &[])
        .await
        .unwrap();
    env.send(&[ix::deposit(&u.mv(&env.sol), 500)], &[&u.key])
        .await
        .unwrap();
    assert_eq!(env.protocol().await.pause_flags, PAUSE_BORROWS);
    // Liquidation pauses are bounded and end by themselves: every pause must end inside one
    // 4-hour window opened by the first, and a new window opens 24 h after the last closed.
    env.expect_rejected(
        &[t(
            &g,
            sol,
            GuardianAction::PauseLiquidations { secs: 5 * 3_600 },
        )],
        &[&g],
        "LiquidationPauseTooLong",
    )
    .await;
    env.send(
        &[t(
            &g,
            sol,
            GuardianAction::PauseLiquidations { secs: 3_600 },
        )],
        &[&g],
    )
    .await
    .unwrap();
    let until = env.market(&env.sol).await.liquidation_paused_until;
    assert_eq!(until, env.now().await + 3_600);
    env.chain.advance_time(3_600).await.unwrap();
    // Inside the window: another hour is fine, three more would end after it.
    env.expect_rejected(
        &[t(
            &g,
            sol,
            GuardianAction::PauseLiquidations {
                secs: 3 * 3_600 + 1,
            },
        )],
        &[&g],
        "LiquidationPauseTooLong",
    )
    .await;
    env.send(
        &[t(
            &g,
            sol,
            GuardianAction::PauseLiquidations { secs: 3_600 },
        )],
        &[&g],
    )
    .await
    .unwrap();
    // Once the window closed, nothing until the cooldown has passed.
    env.chain.advance_time(3 * 3_600).await.unwrap();
    env.expect_rejected(
        &[t(&g, sol, GuardianAction::PauseLiquidations { secs: 600 })],
        &[&g],
        "LiquidationPauseTooLong",
    )
    .await;
    env.chain.advance_time(DAY).await.unwrap();
    env.send(
        &[t(&g, sol, GuardianAction::PauseLiquidations { secs: 600 })],
        &[&g],
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn paused_liquidations_resume_by_themselves() {
    let env = Env::new().await;
    let g = with_guardian(&env).await;
    let (victim, liq) = env.underwater().await;
    env.send(
        &[ix::guardian_tighten(
            &g.pubkey(),
            Some(&env.usdc.mint),
            GuardianAction::PauseLiquidations { secs: 600 },
        )],
        &[&g],
    )
    .await
    .unwrap();
    let pairs = env.pairs(&victim, None, None).await;
    let a = liquidate_accounts(&victim, &liq, &env.sol, &env.usdc);
    env.expect_rejected(
        &[ix::liquidate(&a, u64::MAX, &pairs)],
        &[&liq.key],
        "LiquidationsPaused",
    )
    .await;
    env.chain.advance_time(600).await.unwrap();
    env.set_price(&env.sol, "80", "0").await;
    env.set_price(&env.usdc, "1", "0").await;
    env.send(&[ix::liquidate(&a, u64::MAX, &pairs)], &[&liq.key])
        .await
        .unwrap();

    // The treasury earned its share, held in the vault until anyone collects it; only the
    // admin withdraws it, to any SOL account.
    let tre = pda::treasury_vault(&env.sol.market);
    let earned = env.market(&env.sol).await.treasury_pending;
    assert!(earned > 0);
    assert_eq!(env.balance(&tre).await, 0);
    env.send(&[ix::market_collect_fees(&env.sol.mint)], &[])
        .await
        .unwrap();
    assert_eq!(env.balance(&tre).await, earned);
    let dest =
        token::create_token_account(&env.chain, &env.admin, &env.sol.mint, &env.admin.pubkey())
            .await
            .unwrap();
    let mallory = Keypair::new();
    env.expect_rejected(
        &[ix::treasury_withdraw(
            &mallory.pubkey(),
            &env.sol.mint,
            &dest,
            1,
        )],
        &[&mallory],
        "Unauthorized",
    )
    .await;
    let mut wrong = ix::treasury_withdraw(&env.admin.pubkey(), &env.sol.mint, &dest, 1);
    for m in wrong.accounts.iter_mut() {
        if m.pubkey == tre {
            m.pubkey = pda::insurance_vault(&env.sol.market);
        }
    }
    env.expect_rejected(&[wrong], &[], "WrongVault").await;
    env.expect_rejected(
        &[ix::treasury_withdraw(
            &env.admin.pubkey(),
            &env.sol.mint,
            &dest,
            earned + 1,
        )],
        &[],
        "InsufficientLiquidity",
    )
    .await;
    env.send(
        &[ix::treasury_withdraw(
            &env.admin.pubkey(),
            &env.sol.mint,
            &dest,
            earned,
        )],
        &[],
    )
    .await
    .unwrap();
    assert_eq!(env.balance(&dest).await, earned);
    assert_eq!(env.balance(&tre).await, 0);
}

#[tokio::test]
async fn reduce_only_and_non_admin_market_changes() {
    let env = Env::new().await;
    let g = with_guardian(&env).await;
    let mallory = Keypair::new();
    // A stranger cannot queue a market change or apply flags.
    let q = ix::params_queue_market(
        &mallory.pubkey(),
        &env.sol.mint,
        &env.sol.oracle,
        1,
        env.sol.feed_id,
        sol_params(),
    );
    env.expect_rejected(&[q], &[&mallory], "Unauthorized").await;
    env.expect_rejected(
        &[ix::params_cancel(&mallory.pubkey(), Some(&env.sol.mint))],
        &[&mallory],
        "Unauthorized",
    )
    .await;
    // Reduce-only USDC: no new deposits or borrows, repaying still works.
    let lender = env.user(&[(&env.usdc, 10_000_000_000)]).await;
    env.send(
        &[ix::deposit(&lender.mv(&env.usdc), 5_000_000_000)],
        &[&lender.key],
    )
    .await
    .unwrap();
    let b = env.user(&[(&env.sol, 10_000_000_000)]).await;
    env.send(&[ix::deposit(&b.mv(&env.sol), 10_000_000_000)], &[&b.key])
        .await
        .unwrap();
    let pairs = env.pairs(&b, Some(&env.usdc), None).await;
    env.send(
        &[ix::borrow(&b.mv(&env.usdc), 100_000_000, &pairs)],
        &[&b.key],
    )
    .await
    .unwrap();
    env.send(
        &[ix::guardian_tighten(
            &g.pubkey(),
            Some(&env.usdc.mint),
            GuardianAction::PauseMarket {
                flags: scalpel::state::MARKET_REDUCE_ONLY,
            },
        )],
        &[&g],
    )
    .await
    .unwrap();
    env.expect_rejected(
        &[ix::deposit(&lender.mv(&env.usdc), 1_000_000)],
        &[&lender.key],
        "DepositsPaused",
    )
    .await;
    env.expect_rejected(
        &[ix::borrow(&b.mv(&env.usdc), 1_000_000, &pairs)],
        &[&b.key],
        "BorrowsPaused",
    )
    .await;
    env.send(&[ix::repay(&b.mv(&env.usdc), 50_000_000)], &[&b.key])
        .await
        .unwrap();
    let pairs = env.pairs(&lender, None, None).await;
    env.send(
        &[ix::withdraw(&lender.mv(&env.usdc), 1_000_000_000, &pairs)],
        &[&lender.key],
    )
    .await
    .unwrap();
}
