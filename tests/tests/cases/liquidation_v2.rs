//! Liquidation v2 (issue 11): `liquidate_to_account` (the liquidator's margin account takes the
//! debt and the collateral, no tokens, no vault liquidity), and the health-scaled penalty
//! checked to the native unit end to end.

use crate::program_test::*;
use scalpel::events::{LiquidationEvent, LIQUIDATION_MODE_ACCOUNT, LIQUIDATION_MODE_WALLET};
use scalpel::math::I80F48;
use scalpel::params::MarketParams;
use scalpel_client::{events, ix, pda, Chain};
use solana_sdk::signature::{Keypair, Signer};

/// A liquidator with only USDC collateral and no SOL or debt tokens liquidates a SOL/USDC
/// account: the liquidatee gets exactly the plan `liquidate` would execute, the liquidator's
/// account receives its SOL share as a deposit and draws the repaid USDC from its deposit.
#[tokio::test]
async fn liquidator_with_only_usdc_collateral_liquidates_into_its_account() {
    let env = Env::new().await;
    let (victim, _) = env.underwater().await;
    let liq = env.depositor(&env.usdc, 2_000_000_000, 0).await;
    let plan = view(&env, &victim).await.plans[0];
    assert_eq!(
        plan.repay, 600_000_000,
        "the 600 USDC of the partial example"
    );
    let (sol_wallet, usdc_wallet) = (liq.token(&env.sol), liq.token(&env.usdc));
    assert_eq!(
        (
            env.balance(&sol_wallet).await,
            env.balance(&usdc_wallet).await
        ),
        (0, 0)
    );
    let sol_vault = env.balance(&env.sol.vault()).await;
    let out = env
        .send(
            &[env.to_account_ix(&victim, &liq, u64::MAX).await],
            &[&liq.key],
        )
        .await
        .expect("liquidate_to_account");
    let e = &events::parse::<LiquidationEvent>(&out.logs)[0];
    assert_eq!(e.mode, LIQUIDATION_MODE_ACCOUNT);
    assert_eq!(e.liquidator_account, liq.account);
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
    assert!(I80F48::from_bits(e.end_after) >= I80F48::ZERO);
    // No token moved: the liquidator's wallet is still empty and the vault still holds the SOL.
    assert_eq!(
        (
            env.balance(&sol_wallet).await,
            env.balance(&usdc_wallet).await
        ),
        (0, 0)
    );
    assert_eq!(env.balance(&env.sol.vault()).await, sol_vault);
    // The liquidator's account: its SOL share as a deposit, 600 USDC drawn from its 2 000.
    let mine = env.margin(&liq.account).await;
    let (sol, usdc) = (env.market(&env.sol).await, env.market(&env.usdc).await);
    let deposit = |m: &scalpel::state::Market, idx: u16| {
        let p = &mine.positions[mine.find(idx).expect("position")];
        scalpel::math::shares::deposit_balance(p.shares(), m.deposit_index.get()).unwrap()
    };
    assert_eq!(deposit(&sol, 0), e.to_liquidator);
    assert_eq!(deposit(&usdc, 1), 2_000_000_000 - e.repaid);
    // The books: SOL deposits fell by S and rose by the liquidator's share; the protocol's
    // shares are pending in the vault.
    assert_eq!(
        (sol.insurance_pending, sol.treasury_pending),
        (e.to_insurance, e.to_treasury)
    );
}

/// A liquidator whose account would end below init health is refused, and nothing changes.
#[tokio::test]
async fn liquidator_account_below_init_health_is_refused() {
    let env = Env::new().await;
    let (victim, _) = env.underwater().await;
    // 10 USDC of collateral: taking 600 USDC of debt against 7.7 SOL at 80 (init 0.8) is
    // 494 USD of init assets for about 619 of init liabilities.
    let liq = env.depositor(&env.usdc, 10_000_000, 0).await;
    let ix = env.to_account_ix(&victim, &liq, u64::MAX).await;
    env.expect_rejected(&[ix], &[&liq.key], "InsufficientHealth")
        .await;
}

/// A fully borrowed collateral vault blocks `liquidate` (the liquidator's share cannot be paid)
/// but not `liquidate_to_account`.
#[tokio::test]
async fn fully_borrowed_vault_does_not_block_liquidation_into_an_account() {
    let env = Env::new().await;
    let (victim, wallet_liq) = env.underwater().await;
    // Someone borrows every SOL in the vault against USDC.
    let sol_borrower = env.user(&[(&env.usdc, 5_000_000_000)]).await;
    env.send(
        &[ix::deposit(&sol_borrower.mv(&env.usdc), 5_000_000_000)],
        &[&sol_borrower.key],
    )
    .await
    .unwrap();
    let all = env.balance(&env.sol.vault()).await;
    let pairs = env.pairs(&sol_borrower, Some(&env.sol), None).await;
    env.send(
        &[ix::borrow(&sol_borrower.mv(&env.sol), all, &pairs)],
        &[&sol_borrower.key],
    )
    .await
    .expect("borrow the vault dry");
    assert_eq!(env.balance(&env.sol.vault()).await, 0);
    let wallet = ix::liquidate(
        &liquidate_accounts(&victim, &wallet_liq, &env.sol, &env.usdc),
        u64::MAX,
        &env.pairs(&victim, None, None).await,
    );
    env.expect_rejected(&[wallet], &[&wallet_liq.key], "InsufficientLiquidity")
        .await;
    let liq = env.depositor(&env.usdc, 2_000_000_000, 0).await;
    let out = env
        .send(
            &[env.to_account_ix(&victim, &liq, u64::MAX).await],
            &[&liq.key],
        )
        .await
        .expect("not blocked by the vault");
    let e = &events::parse::<LiquidationEvent>(&out.logs)[0];
    assert_eq!(e.repaid, 600_000_000);
    assert!(!view(&env, &victim).await.liquidatable);
}

/// Bad input, each named, nothing changed: another owner's account, the liquidatee's own owner,
/// a liquidator account being liquidated, the liquidator's health accounts missing or stale,
/// a missing signature, the same market twice. The liquidator holds 400 USDC, so it ends with
/// 200 USDC of debt and its health accounts are read (an account left without debt needs no
/// price, as for `withdraw`).
#[tokio::test]
async fn liquidate_to_account_refusals() {
    let env = Env::new().await;
    let (victim, _) = env.underwater().await;
    let liq = env.depositor(&env.usdc, 400_000_000, 0).await;
    let good = env.to_account_ix(&victim, &liq, u64::MAX).await;
    // Another wallet signs for liq's account.
    let mallory = Keypair::new();
    env.send(
        &[solana_system_interface::instruction::transfer(
            &env.admin.pubkey(),
            &mallory.pubkey(),
            1_000_000_000,
        )],
        &[],
    )
    .await
    .unwrap();
    let mut stolen = good.clone();
    for m in stolen.accounts.iter_mut() {
        if m.pubkey == liq.key.pubkey() {
            m.pubkey = mallory.pubkey();
        }
    }
    env.expect_rejected(&[stolen], &[&mallory], "NotAccountOwner")
        .await;
    // The liquidatee's owner liquidating itself into its own account.
    let mut own = good.clone();
    for m in own.accounts.iter_mut() {
        if m.pubkey == liq.key.pubkey() {
            m.pubkey = victim.key.pubkey();
        } else if m.pubkey == liq.account {
            m.pubkey = victim.account;
        }
    }
    env.expect_rejected(&[own], &[&victim.key], "SelfLiquidation")
        .await;
    // Without the liquidator's health accounts, or with them for the positions before.
    let theirs = 2 * env.pairs(&victim, None, None).await.len();
    let mut short = good.clone();
    short.accounts.truncate(6 + theirs);
    env.expect_rejected(&[short], &[&liq.key], "HealthAccountsMismatch")
        .await;
    let mut before = good.clone();
    before.accounts.truncate(6 + theirs);
    before
        .accounts
        .extend(ix::health_metas(&env.pairs(&liq, None, None).await));
    env.expect_rejected(&[before], &[&liq.key], "HealthAccountsMismatch")
        .await;
    // Unsigned.
    let mut unsigned = good.clone();
    for m in unsigned.accounts.iter_mut() {
        if m.pubkey == liq.key.pubkey() {
            m.is_signer = false;
        }
    }
    env.expect_rejected(&[unsigned], &[], "AccountNotSigner")
        .await;
    // The same market as asset and liability.
    let mut same = good.clone();
    same.accounts[2].pubkey = pda::market(&env.usdc.mint);
    env.expect_rejected(&[same], &[&liq.key], "LiquidationSameMarket")
        .await;
    // A liquidator account that is itself being liquidated (its flag set in the bank).
    let raw = env.chain.account(&liq.account).await.unwrap().unwrap();
    let mut flagged = env.margin(&liq.account).await;
    flagged.being_liquidated = 1;
    let mut data = raw.data.clone();
    data[8..].copy_from_slice(bytemuck::bytes_of(&flagged));
    env.chain
        .set_account(
            &liq.account,
            solana_sdk::account::Account {
                data,
                ..raw.clone()
            },
        )
        .await;
    env.expect_rejected(
        std::slice::from_ref(&good),
        &[&liq.key],
        "LiquidatorBeingLiquidated",
    )
    .await;
    env.chain.set_account(&liq.account, raw).await;
    env.send(&[good], &[&liq.key])
        .await
        .expect("the good one lands");
}

/// π_min 2%, π 8%, r_full 0.95 (the default): an account at a maintenance health ratio of
/// exactly 0.98 pays π = 4.4%, and the liquidation lands to the native unit on the formula.
#[tokio::test]
async fn health_scaled_penalty_end_to_end() {
    let env = Env::new().await;
    let x = env
        .add_pull_market(
            9,
            [5; 32],
            "120",
            MarketParams {
                liquidation_penalty_bps: 800,
                liquidation_penalty_min_bps: 200,
                ..sol_params()
            },
        )
        .await;
    env.lender(100_000_000_000, 0).await;
    let victim = env.user(&[]).await;
    let x_mv = env.wallet(&victim, &x, 10_000_000_000).await;
    env.send(&[ix::deposit(&x_mv, 10_000_000_000)], &[&victim.key])
        .await
        .unwrap();
    // Init: 10 · 120 · 0.8 = 960 ≥ 900 · 1.05 = 945.
    let pairs = env.pairs(&victim, Some(&env.usdc), None).await;
    env.send(
        &[ix::borrow(&victim.mv(&env.usdc), 900_000_000, &pairs)],
        &[&victim.key],
    )
    .await
    .unwrap();
    // X falls to 98: A_maint = 10 · 98 · 0.9 = 882, L_maint = 900, HR = 0.98: t = 0.4,
    // π = 2% + 6% · 0.4 = 4.4%. AV/LV − 1 = 8.9%: π_L = 2.64%, π_P = min(6.25%, 1.76%): π_e = π.
    env.set_price(&x, "98", "0").await;
    let v = view(&env, &victim).await;
    let plan = v.plans[0];
    assert!(
        (I80F48::from_bits(plan.penalty) - I80F48::from_num(0.044)).abs() < I80F48::from_num(1e-12)
    );
    // κ = 1.02 · 1 − 1.044 · 0.9 = 0.0804; end = 882 − 918 = −36 USD;
    // x = ⌈36 / 0.0804 · 10⁶⌉ = ⌈447 761 194.03⌉ USDC units.
    let x_exact = (36u128 * 1_000_000 * 10_000).div_ceil(804);
    assert_eq!(plan.repay as u128, x_exact);
    // S = ⌊x · 1.044 / 98⌋ in 10⁻⁹ X: x · 1 044 / 98 (the 10⁻⁶ and 10⁻³ scale out).
    let s_exact = x_exact * 1_044 / 98;
    let within_one = |got: u64, want: u128| (got as u128).abs_diff(want) <= 1;
    assert!(
        within_one(plan.seized, s_exact),
        "{} vs {s_exact}",
        plan.seized
    );
    // π_I = 1.76% · 25/40 = 1.1%, π_T = 0.66%.
    assert!(within_one(plan.to_insurance, x_exact * 11 / 98));
    assert!(within_one(plan.to_treasury, x_exact * 66 / 980));
    let liq = env.user(&[(&env.usdc, 10_000_000_000)]).await;
    let liq_x = env.wallet(&liq, &x, 0).await;
    let out = env
        .send(
            &[ix::liquidate(
                &ix::LiquidateAccounts {
                    liquidatee: victim.account,
                    asset_mint: x.mint,
                    liab_mint: env.usdc.mint,
                    liquidator: liq.key.pubkey(),
                    liquidator_liab_token: liq.token(&env.usdc),
                    liquidator_asset_token: liq_x.user_token,
                },
                u64::MAX,
                &env.pairs(&victim, None, None).await,
            )],
            &[&liq.key],
        )
        .await
        .expect("liquidate");
    let e = &events::parse::<LiquidationEvent>(&out.logs)[0];
    assert_eq!(e.mode, LIQUIDATION_MODE_WALLET);
    assert_eq!(
        (e.repaid, e.seized, e.to_insurance, e.to_treasury, e.penalty),
        (
            plan.repay,
            plan.seized,
            plan.to_insurance,
            plan.to_treasury,
            plan.penalty
        )
    );
    assert_eq!(
        e.penalty_bps, 800,
        "the full penalty in force, for reference"
    );
    let end = I80F48::from_bits(e.end_after);
    assert!(
        end >= I80F48::ZERO && end < I80F48::from_num(0.000_01),
        "{end}"
    );
    // The flat 8% would have taken more: x = ⌈36 / (1.02 − 1.08 · 0.9)⌉ = 750 USDC and
    // S = 750 · 1.08 / 98 = 8.27 X, against 447.76 USDC and 4.77 X here.
    assert!(e.seized < 5_000_000_000);
}
