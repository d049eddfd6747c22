//! Partial liquidation, chained pairs, dust close-out, bad debt, refusals (SPEC sections 5 and 6).

use crate::program_test::*;
use scalpel::events::{BadDebtResolved, FeesCollected, LiquidationEvent};
use scalpel::math::I80F48;
use scalpel::params::ProtocolParams;
use scalpel_client::{events, health, ix, pda, token};
use solana_sdk::{pubkey::Pubkey, signature::Signer};

#[tokio::test]
async fn partial_liquidation_restores_the_target_exactly() {
    let env = Env::new().await;
    let (victim, liq) = env.underwater().await;
    let before = view(&env, &victim).await;
    assert!(before.liquidatable);
    assert!((health::fixed(before.end) - I80F48::from_num(-45)).abs() < I80F48::from_num(0.001));
    // The view's plan is what the instruction will do.
    let plan = before
        .plans
        .iter()
        .find(|p| p.asset_market_index == 0 && p.liab_market_index == 1)
        .copied()
        .unwrap();
    // σ = 800/750 − 1 = 6.67%: π_L = 3%, π_I = 1.25%, π_T = 0.75%, π_e = 5%; κ = 0.075.
    // x = 45 / 0.075 = 600 USDC; S = 600 · 1.05 / 80 = 7.875 SOL.
    // Prices are kept per whole token, so the formula holds to the native unit.
    assert_eq!(plan.repay, 600_000_000);
    let ins = pda::insurance_vault(&env.sol.market);
    let tre = pda::treasury_vault(&env.sol.market);
    let b_ins = env.balance(&ins).await;
    let b_liq_usdc = env.balance(&liq.token(&env.usdc)).await;
    let pairs = env.pairs(&victim, None, None).await;
    let out = env
        .send(
            &[ix::liquidate(
                &liquidate_accounts(&victim, &liq, &env.sol, &env.usdc),
                u64::MAX,
                &pairs,
            )],
            &[&liq.key],
        )
        .await
        .unwrap();
    let ev = events::parse::<LiquidationEvent>(&out.logs);
    assert_eq!(ev.len(), 1);
    let e = &ev[0];
    assert_eq!(
        (
            e.repaid,
            e.seized,
            e.to_liquidator,
            e.to_insurance,
            e.to_treasury
        ),
        (
            plan.repay,
            plan.seized,
            plan.to_liquidator,
            plan.to_insurance,
            plan.to_treasury
        )
    );
    assert_eq!(e.liquidatee, victim.account);
    assert_eq!(e.liquidator, liq.key.pubkey());
    assert_eq!((e.penalty_bps, e.buffer_bps), (500, 200));
    assert!(
        (I80F48::from_bits(e.penalty_effective) - I80F48::from_num(0.05)).abs()
            < I80F48::from_num(1e-9)
    );
    // S = floor(600 · 1.05 / 80 SOL) = 7.875 SOL, shares 1.25% and 0.75% of 600 / 80 SOL; each
    // floor may land one lamport low (1.05 and 0.0125 are not binary fractions).
    assert!(
        (7_874_999_999..=7_875_000_000).contains(&e.seized),
        "{}",
        e.seized
    );
    assert!(
        (93_749_999..=93_750_000).contains(&e.to_insurance),
        "{}",
        e.to_insurance
    );
    assert!(
        (56_249_999..=56_250_000).contains(&e.to_treasury),
        "{}",
        e.to_treasury
    );
    assert_eq!(e.to_liquidator + e.to_insurance + e.to_treasury, e.seized);
    // The target: end back to zero, within one native unit's value, never below.
    let end_after = I80F48::from_bits(e.end_after);
    assert!(
        end_after >= I80F48::ZERO && end_after < I80F48::from_num(0.000_01),
        "{end_after}"
    );
    assert!(!e.being_liquidated);
    // Token movements.
    assert_eq!(
        env.balance(&liq.token(&env.usdc)).await,
        b_liq_usdc - e.repaid
    );
    assert_eq!(env.balance(&liq.token(&env.sol)).await, e.to_liquidator);
    // The insurance and treasury shares stay in the vault, recorded on the market...
    let m = env.market(&env.sol).await;
    assert_eq!(
        (m.insurance_pending, m.treasury_pending),
        (e.to_insurance, e.to_treasury)
    );
    assert_eq!(
        (env.balance(&ins).await, env.balance(&tre).await),
        (b_ins, 0)
    );
    assert_eq!(
        env.balance(&env.sol.vault()).await,
        10_000_000_000 - e.to_liquidator
    );
    // ...until anyone collects them into the insurance and treasury vaults.
    let out = env
        .send(&[ix::market_collect_fees(&env.sol.mint)], &[])
        .await
        .expect("collect");
    let c = &events::parse::<FeesCollected>(&out.logs)[0];
    assert_eq!(
        (
            c.to_insurance,
            c.to_treasury,
            c.insurance_pending,
            c.treasury_pending
        ),
        (e.to_insurance, e.to_treasury, 0, 0)
    );
    assert_eq!(env.balance(&ins).await, b_ins + e.to_insurance);
    assert_eq!(env.balance(&tre).await, e.to_treasury);
    assert_eq!(
        env.balance(&env.sol.vault()).await,
        10_000_000_000 - e.seized
    );
    let m = env.market(&env.sol).await;
    assert_eq!((m.insurance_pending, m.treasury_pending), (0, 0));
    env.expect_rejected(
        &[ix::market_collect_fees(&env.sol.mint)],
        &[],
        "NothingToCollect",
    )
    .await;
    let after = view(&env, &victim).await;
    assert!(!after.liquidatable && !after.being_liquidated);
    assert_eq!(after.end, e.end_after);
    // Healthy now: a second call is refused and changes nothing.
    let pairs = env.pairs(&victim, None, None).await;
    env.expect_rejected(
        &[ix::liquidate(
            &liquidate_accounts(&victim, &liq, &env.sol, &env.usdc),
            u64::MAX,
            &pairs,
        )],
        &[&liq.key],
        "NotLiquidatable",
    )
    .await;
}

#[tokio::test]
async fn max_repay_lowers_the_amount_and_hysteresis_continues() {
    let env = Env::new().await;
    let (victim, liq) = env.underwater().await;
    let pairs = env.pairs(&victim, None, None).await;
    let a = liquidate_accounts(&victim, &liq, &env.sol, &env.usdc);
    let out = env
        .send(&[ix::liquidate(&a, 100_000_000, &pairs)], &[&liq.key])
        .await
        .unwrap();
    let e = &events::parse::<LiquidationEvent>(&out.logs)[0];
    assert_eq!(e.repaid, 100_000_000);
    assert!(e.being_liquidated, "end still negative");
    // SOL recovers to 84.5: maint = 0.9·84.5·(10 − 1.3125) − 650 ≥ 0 but end < 0. Hysteresis:
    // still liquidatable because the liquidation started.
    env.set_price(&env.sol, "84.5", "0").await;
    let v = view(&env, &victim).await;
    assert!(
        health::fixed(v.maint) >= I80F48::ZERO && health::fixed(v.end) < I80F48::ZERO,
        "{v:?}"
    );
    assert!(v.liquidatable && v.being_liquidated);
    let out = env
        .send(&[ix::liquidate(&a, u64::MAX, &pairs)], &[&liq.key])
        .await
        .unwrap();
    let e = &events::parse::<LiquidationEvent>(&out.logs)[0];
    assert!(!e.being_liquidated);
    assert!(I80F48::from_bits(e.end_after) >= I80F48::ZERO);
}

#[tokio::test]
async fn dust_debt_is_closed_out() {
    // A 200 USD dust threshold: x_need = 600 would leave 150 USDC of debt, so all 750 is repaid.
    let env = Env::with_protocol(ProtocolParams {
        dust_threshold_micro_usd: 200_000_000,
        ..ProtocolParams::default()
    })
    .await;
    let (victim, liq) = env.underwater().await;
    let pairs = env.pairs(&victim, None, None).await;
    let out = env
        .send(
            &[ix::liquidate(
                &liquidate_accounts(&victim, &liq, &env.sol, &env.usdc),
                u64::MAX,
                &pairs,
            )],
            &[&liq.key],
        )
        .await
        .unwrap();
    let e = &events::parse::<LiquidationEvent>(&out.logs)[0];
    assert_eq!(e.repaid, 750_000_000);
    // S = 750 · 1.05 / 80 = 9.84375 SOL.
    assert!(
        (9_843_749_900..=9_843_750_100).contains(&e.seized),
        "{}",
        e.seized
    );
    let acc = env.margin(&victim.account).await;
    assert!(acc.find(1).is_none(), "debt slot closed");
}

#[tokio::test]
async fn chained_pairs_when_the_first_collateral_runs_out() {
    let env = Env::new().await;
    let eth = env.add_pull_market(8, [4; 32], "1000", sol_params()).await;
    let lender = env.user(&[(&env.usdc, 100_000_000_000)]).await;
    env.send(
        &[ix::deposit(&lender.mv(&env.usdc), 100_000_000_000)],
        &[&lender.key],
    )
    .await
    .unwrap();
    // Victim: 1 SOL (100 USD) and 1 ETH (1000 USD), borrows 860 USDC (init 880 − 903 < 0? no:
    // A_init = 0.8 · 1100 = 880 ≥ 860 · 1.05 = 903 is false, so borrow 830: 871.5 ≤ 880).
    let victim = env.user(&[(&env.sol, 1_000_000_000)]).await;
    let t_eth =
        token::create_token_account(&env.chain, &env.admin, &eth.mint, &victim.key.pubkey())
            .await
            .unwrap();
    token::mint_to(
        &env.chain,
        &env.admin,
        &env.mint_authority,
        &eth.mint,
        &t_eth,
        100_000_000,
    )
    .await
    .unwrap();
    env.send(
        &[ix::deposit(&victim.mv(&env.sol), 1_000_000_000)],
        &[&victim.key],
    )
    .await
    .unwrap();
    let eth_mv = ix::TokenMove {
        owner: victim.key.pubkey(),
        margin_account: victim.account,
        mint: eth.mint,
        user_token: t_eth,
    };
    env.send(&[ix::deposit(&eth_mv, 100_000_000)], &[&victim.key])
        .await
        .unwrap();
    let pairs = env.pairs(&victim, Some(&env.usdc), None).await;
    env.send(
        &[ix::borrow(&victim.mv(&env.usdc), 830_000_000, &pairs)],
        &[&victim.key],
    )
    .await
    .unwrap();
    // ETH falls to 850: A_maint = 0.9 · 950 = 855, L = 830, end = 855 − 846.6 > 0; to 800:
    // A_maint = 810 < 830 → maint −20, end −36.6: x_need = 36.6 / 0.075 = 488 USDC, more than
    // the SOL collateral can pay for (100 / 1.05 = 95.2 USDC).
    env.set_price(&eth, "800", "0").await;
    let liq = env.user(&[(&env.usdc, 10_000_000_000)]).await;
    let t_liq_eth =
        token::create_token_account(&env.chain, &env.admin, &eth.mint, &liq.key.pubkey())
            .await
            .unwrap();
    let pairs = env.pairs(&victim, None, None).await;
    let first = ix::liquidate(
        &liquidate_accounts(&victim, &liq, &env.sol, &env.usdc),
        u64::MAX,
        &pairs,
    );
    let out = env.send(&[first], &[&liq.key]).await.unwrap();
    let e1 = events::parse::<LiquidationEvent>(&out.logs).remove(0);
    assert_eq!(e1.seized, 1_000_000_000, "all the SOL");
    assert!(e1.being_liquidated);
    let pairs = env.pairs(&victim, None, None).await;
    let second = ix::liquidate(
        &ix::LiquidateAccounts {
            asset_mint: eth.mint,
            liquidator_asset_token: t_liq_eth,
            ..liquidate_accounts(&victim, &liq, &env.sol, &env.usdc)
        },
        u64::MAX,
        &pairs,
    );
    let out = env.send(&[second], &[&liq.key]).await.unwrap();
    let e2 = events::parse::<LiquidationEvent>(&out.logs).remove(0);
    let end = I80F48::from_bits(e2.end_after);
    assert!(
        end >= I80F48::ZERO && end < I80F48::from_num(0.001),
        "{end}"
    );
    assert!(!e2.being_liquidated);
    assert!(
        env.margin(&victim.account).await.find(0).is_none(),
        "SOL slot emptied"
    );
}

#[tokio::test]
async fn insolvent_account_then_bad_debt_is_covered_and_socialized() {
    let env = Env::new().await;
    let (victim, liq) = env.underwater().await;
    // Insurance for USDC: 100 USDC from the liquidator's wallet.
    env.send(
        &[ix::insurance_fund(
            &liq.key.pubkey(),
            &liq.token(&env.usdc),
            &env.usdc.mint,
            100_000_000,
        )],
        &[&liq.key],
    )
    .await
    .unwrap();
    // SOL crashes to 50: AV = 500 < LV = 750; the surplus cap leaves no protocol cut (π_e = 3%).
    env.set_price(&env.sol, "50", "0").await;
    let pairs = env.pairs(&victim, None, None).await;
    let out = env
        .send(
            &[ix::liquidate(
                &liquidate_accounts(&victim, &liq, &env.sol, &env.usdc),
                u64::MAX,
                &pairs,
            )],
            &[&liq.key],
        )
        .await
        .unwrap();
    let e = &events::parse::<LiquidationEvent>(&out.logs)[0];
    assert_eq!(e.seized, 10_000_000_000, "all collateral");
    assert_eq!((e.to_insurance, e.to_treasury), (0, 0));
    assert!(
        (I80F48::from_bits(e.penalty_effective) - I80F48::from_num(0.03)).abs()
            < I80F48::from_num(1e-9)
    );
    // x = ceil(500 / 1.03) = 485.436894 USDC (dust rule: all collateral, x rounded up).
    let debt_left = 750_000_000 - e.repaid;
    let m = env.market(&env.usdc).await;
    let index_before = m.deposit_index.get();
    let shares = m.total_deposit_shares.get();
    let lender_before = m.total_deposits().unwrap();
    // Not eligible while... it is eligible: no collateral left. Resolve.
    let pairs = env.pairs(&victim, None, None).await;
    let out = env
        .send(
            &[ix::bad_debt_resolve(
                &victim.account,
                &env.usdc.mint,
                &pairs,
            )],
            &[],
        )
        .await
        .unwrap();
    let b = &events::parse::<BadDebtResolved>(&out.logs)[0];
    assert_eq!(b.debt, debt_left);
    assert_eq!(b.covered, 100_000_000);
    assert_eq!(b.socialized, debt_left - 100_000_000);
    assert_eq!(b.deficit, 0);
    let m = env.market(&env.usdc).await;
    // The index falls by socialized / shares rounded up: depositors bear the rounding.
    let expected =
        index_before - scalpel::math::div_ceil(I80F48::from_num(b.socialized), shares).unwrap();
    assert_eq!(
        m.deposit_index.get(),
        expected,
        "index falls by socialized / shares, rounded up"
    );
    let lost = lender_before - m.total_deposits().unwrap();
    assert!(
        lost == b.socialized || lost == b.socialized + 1,
        "{lost} vs {}",
        b.socialized
    );
    assert_eq!(
        env.balance(&pda::insurance_vault(&env.usdc.market)).await,
        0
    );
    assert!(env.margin(&victim.account).await.is_empty());
    assert_eq!(m.total_borrow_shares.get(), I80F48::ZERO);
}

#[tokio::test]
async fn liquidation_refusals_change_nothing() {
    let env = Env::new().await;
    let (victim, liq) = env.underwater().await;
    let pairs = env.pairs(&victim, None, None).await;
    let a = liquidate_accounts(&victim, &liq, &env.sol, &env.usdc);
    let go = |a: &ix::LiquidateAccounts, p: &[(Pubkey, Pubkey)]| ix::liquidate(a, u64::MAX, p);

    // The owner may not liquidate itself.
    let own = ix::LiquidateAccounts {
        liquidator: victim.key.pubkey(),
        liquidator_liab_token: victim.token(&env.usdc),
        liquidator_asset_token: victim.token(&env.sol),
        ..a
    };
    env.expect_rejected(&[go(&own, &pairs)], &[&victim.key], "SelfLiquidation")
        .await;
    // i = j.
    let same = ix::LiquidateAccounts {
        asset_mint: env.usdc.mint,
        liquidator_asset_token: liq.token(&env.usdc),
        ..a
    };
    env.expect_rejected(&[go(&same, &pairs)], &[&liq.key], "LiquidationSameMarket")
        .await;
    // USDC's vault as SOL's vault.
    let mut wrong = go(&a, &pairs);
    wrong.accounts[4].pubkey = env.usdc.vault();
    env.expect_rejected(&[wrong], &[&liq.key], "WrongVault")
        .await;
    // A vault of the asset market posing as the liquidator's receiving account.
    for vault in [
        env.sol.vault(),
        pda::insurance_vault(&env.sol.market),
        pda::treasury_vault(&env.sol.market),
    ] {
        let posing = ix::LiquidateAccounts {
            liquidator_asset_token: vault,
            ..a
        };
        env.expect_rejected(&[go(&posing, &pairs)], &[&liq.key], "DuplicateAccount")
            .await;
    }
    // Incomplete and substituted health accounts.
    env.expect_rejected(
        &[go(&a, &pairs[..1])],
        &[&liq.key],
        "HealthAccountsMismatch",
    )
    .await;
    let subst = vec![(pairs[0].0, pairs[1].1), pairs[1]];
    env.expect_rejected(&[go(&a, &subst)], &[&liq.key], "OracleMismatch")
        .await;
    let swapped = vec![pairs[1], pairs[0]];
    env.expect_rejected(&[go(&a, &swapped)], &[&liq.key], "HealthAccountsMismatch")
        .await;
    // Missing signer.
    let mut unsigned = go(&a, &pairs);
    for m in unsigned.accounts.iter_mut() {
        if m.pubkey == liq.key.pubkey() {
            m.is_signer = false;
        }
    }
    env.expect_rejected(&[unsigned], &[], "AccountNotSigner")
        .await;
    // Zero max_repay.
    env.expect_rejected(
        &[ix::liquidate(&a, 0, &pairs)],
        &[&liq.key],
        "NothingToLiquidate",
    )
    .await;
    // Price older than the 300 s liquidation age (60 s would still be fine).
    env.chain.advance_time(120).await.unwrap();
    let v = view(&env, &victim).await;
    assert!(v.liquidatable, "a 120 s old price still serves liquidation");
    env.chain.advance_time(200).await.unwrap();
    env.expect_rejected(&[go(&a, &pairs)], &[&liq.key], "OracleStale")
        .await;
    // A healthy account.
    env.set_price(&env.sol, "100", "0").await;
    env.set_price(&env.usdc, "1", "0").await;
    env.expect_rejected(&[go(&a, &pairs)], &[&liq.key], "NotLiquidatable")
        .await;
    // Bad debt on an account that still has collateral.
    env.expect_rejected(
        &[ix::bad_debt_resolve(
            &victim.account,
            &env.usdc.mint,
            &pairs,
        )],
        &[],
        "BadDebtNotEligible",
    )
    .await;
}

/// Bad debt larger than the market's deposits: depositors lose at most 99%, the rest is the
/// market's deficit, and the market keeps accepting deposits.
#[tokio::test]
async fn bad_debt_beyond_deposits_leaves_a_deficit_not_a_dead_market() {
    let env = Env::new().await;
    let lender = env.lender(100_000_000, 1_900_000_000).await;
    let victim = env.borrower(10_000_000_000, 100_000_000).await;
    // SOL to 0.01: 10 SOL are worth 0.10 USD against 100 USDC of debt.
    let liq = env.user(&[(&env.usdc, 1_000_000_000)]).await;
    env.set_price(&env.sol, "0.01", "0").await;
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
    .unwrap();
    let pairs = env.pairs(&victim, None, None).await;
    let out = env
        .send(
            &[ix::bad_debt_resolve(
                &victim.account,
                &env.usdc.mint,
                &pairs,
            )],
            &[],
        )
        .await
        .unwrap();
    let b = &events::parse::<BadDebtResolved>(&out.logs)[0];
    let deposits_before = 100_000_000u64; // the lender's 100 USDC
    assert_eq!(b.covered, 0, "no insurance in this market");
    assert!(
        b.socialized <= deposits_before * 99 / 100,
        "{}",
        b.socialized
    );
    assert_eq!(b.socialized + b.deficit, b.debt);
    let m = env.market(&env.usdc).await;
    assert_eq!(m.deficit, b.deficit);
    assert!(
        m.deposit_index.get() >= I80F48::from_num(0.0099),
        "{}",
        m.deposit_index.get()
    );
    // The market still takes deposits.
    env.send(
        &[ix::deposit(&lender.mv(&env.usdc), 1_000_000_000)],
        &[&lender.key],
    )
    .await
    .unwrap();
}

/// After a year of interest (both indices ≠ 1) the instruction executes the shared plan to the
/// native unit, and moves shares exactly as the share math says: the seized deposit's shares are
/// burned rounded up and the repaid debt's rounded down, both against the liquidatee.
#[tokio::test]
async fn exact_liquidation_after_interest_accrued() {
    use scalpel::health_accounts::PriceAge;
    use scalpel::math::{liquidation::plan_liquidation, shares, token_value, HealthPosition};
    let env = Env::new().await;
    env.lender(100_000_000_000, 0).await;
    // A SOL lender and a SOL borrower, so that SOL's deposit index moves too.
    let sol_lender = env.user(&[(&env.sol, 100_000_000_000)]).await;
    env.send(
        &[ix::deposit(&sol_lender.mv(&env.sol), 100_000_000_000)],
        &[&sol_lender.key],
    )
    .await
    .unwrap();
    let sol_borrower = env.user(&[(&env.usdc, 50_000_000_000)]).await;
    env.send(
        &[ix::deposit(&sol_borrower.mv(&env.usdc), 50_000_000_000)],
        &[&sol_borrower.key],
    )
    .await
    .unwrap();
    let pairs = env.pairs(&sol_borrower, Some(&env.sol), None).await;
    env.send(
        &[ix::borrow(
            &sol_borrower.mv(&env.sol),
            80_000_000_000,
            &pairs,
        )],
        &[&sol_borrower.key],
    )
    .await
    .unwrap();
    let victim = env.borrower(10_000_000_000, 750_000_000).await;
    env.chain.advance_time(365 * 86_400).await.unwrap();
    env.send(
        &[
            ix::market_accrue(&env.sol.market),
            ix::market_accrue(&env.usdc.market),
        ],
        &[],
    )
    .await
    .unwrap();
    let (sol, usdc) = (env.market(&env.sol).await, env.market(&env.usdc).await);
    assert!(sol.deposit_index.get() > I80F48::ONE && usdc.borrow_index.get() > I80F48::ONE);
    env.set_price(&env.sol, "80", "0").await;
    env.set_price(&env.usdc, "1", "0").await;

    // The plan, computed off-chain with the program's own functions.
    let acc = env.margin(&victim.account).await;
    let markets = env.markets().await;
    let resolved = health::account_inputs(&env.chain, &acc, &markets, PriceAge::Maintenance)
        .await
        .unwrap();
    let inputs: Vec<HealthPosition> = resolved.iter().map(|r| r.input).collect();
    let params = env.protocol().await.liquidation_params().unwrap();
    let plan =
        plan_liquidation(&inputs, 0, 1, resolved[0].penalty, false, u64::MAX, &params).unwrap();
    let (dep_shares, debt_shares) = (acc.positions[0].shares(), acc.positions[1].shares());
    let (sol_total, usdc_total) = (
        sol.total_deposit_shares.get(),
        usdc.total_borrow_shares.get(),
    );

    let liq = env.user(&[(&env.usdc, 10_000_000_000)]).await;
    let out = env
        .send(
            &[ix::liquidate(
                &liquidate_accounts(&victim, &liq, &env.sol, &env.usdc),
                u64::MAX,
                &env.pairs(&victim, None, None).await,
            )],
            &[&liq.key],
        )
        .await
        .unwrap();
    let e = &events::parse::<LiquidationEvent>(&out.logs)[0];
    assert_eq!(
        (
            e.repaid,
            e.seized,
            e.to_liquidator,
            e.to_insurance,
            e.to_treasury
        ),
        (
            plan.repay,
            plan.seized,
            plan.to_liquidator,
            plan.to_insurance,
            plan.to_treasury
        )
    );
    // Shares: exactly the share math at the indices the instruction accrued to (no time passed
    // since the accrual above, so they are the stored ones).
    let (sol, usdc) = (env.market(&env.sol).await, env.market(&env.usdc).await);
    let w = shares::withdraw(dep_shares, e.seized, sol.deposit_index.get())
        .unwrap()
        .unwrap();
    let r = shares::repay(debt_shares, e.repaid, usdc.borrow_index.get()).unwrap();
    let acc = env.margin(&victim.account).await;
    assert_eq!(acc.positions[0].shares(), w.new_shares);
    assert_eq!(acc.positions[1].shares(), r.new_shares);
    assert_eq!(
        sol.total_deposit_shares.get(),
        sol_total + w.deposit_shares_delta
    );
    assert_eq!(
        usdc.total_borrow_shares.get(),
        usdc_total + r.borrow_shares_delta
    );
    // Balances after, read back at the index, are rounded against the liquidatee by at most one
    // unit each, so `end` after is the plan's within one unit's value of each token.
    let after = health::account_inputs(
        &env.chain,
        &acc,
        &env.markets().await,
        PriceAge::Maintenance,
    )
    .await
    .unwrap();
    assert!(inputs[0].deposit - e.seized - after[0].input.deposit <= 1);
    assert!(after[1].input.debt - (inputs[1].debt - e.repaid) <= 1);
    let unit = token_value(1, I80F48::from_num(80), 9).unwrap()
        + token_value(1, I80F48::ONE, 6).unwrap() * I80F48::from_num(1.02);
    let end_after = I80F48::from_bits(e.end_after);
    assert!(
        (plan.health_after.end - end_after).abs() <= unit,
        "plan {} vs executed {end_after}",
        plan.health_after.end
    );
}
