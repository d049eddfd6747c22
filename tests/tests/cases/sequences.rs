//! Safety under sequences (issue 8): each test replays the sequence of instructions that broke a
//! rule, as users and attackers would send it, and checks the rule holds at the end.

use crate::program_test::*;
use fixed::types::I80F48;
use scalpel::events::{BadDebtResolved, LiquidationEvent};
use scalpel::params::{GuardianAction, MarketParams, ProtocolParams};
use scalpel::state::PAUSE_WITHDRAWALS;
use scalpel_client::{events, ix, pda, Chain};
use solana_sdk::{
    instruction::AccountMeta,
    program_pack::Pack,
    pubkey::Pubkey,
    signature::{Keypair, Signer},
};

const DAY: i64 = 86_400;

/// Liquidates `victim`'s SOL against its USDC debt, repaying at most `max_repay`.
pub async fn liquidate_sol_usdc(
    env: &Env,
    victim: &User,
    liq: &User,
    max_repay: u64,
) -> LiquidationEvent {
    let pairs = env.pairs(victim, None, None).await;
    let out = env
        .send(
            &[ix::liquidate(
                &liquidate_accounts(victim, liq, &env.sol, &env.usdc),
                max_repay,
                &pairs,
            )],
            &[&liq.key],
        )
        .await
        .expect("liquidate");
    events::parse::<LiquidationEvent>(&out.logs).remove(0)
}

/// A liquidation of one unit leaves the account `being_liquidated`; its owner repays every debt;
/// it must then withdraw everything and close (it was frozen for ever before).
#[tokio::test]
async fn cured_by_full_repay_then_withdraws_everything_and_closes() {
    let env = Env::new().await;
    let (victim, liq) = env.underwater().await;
    let e = liquidate_sol_usdc(&env, &victim, &liq, 1).await;
    assert!(e.being_liquidated);
    assert_eq!(env.margin(&victim.account).await.being_liquidated, 1);
    // The victim still holds the 750 borrowed USDC; repaying "all" repays exactly the debt.
    env.send(
        &[ix::repay(&victim.mv(&env.usdc), u64::MAX)],
        &[&victim.key],
    )
    .await
    .expect("repay all");
    assert_eq!(
        env.margin(&victim.account).await.being_liquidated,
        0,
        "an account without debt is never being liquidated"
    );
    let pairs = env.pairs(&victim, None, Some(&env.sol)).await;
    env.send(
        &[ix::withdraw(&victim.mv(&env.sol), u64::MAX, &pairs)],
        &[&victim.key],
    )
    .await
    .expect("withdraw everything");
    env.send(
        &[ix::account_close(
            &victim.key.pubkey(),
            &victim.account,
            &[],
        )],
        &[&victim.key],
    )
    .await
    .expect("close");
    assert!(env.chain.account(&victim.account).await.unwrap().is_none());
}

/// Cured by a deposit instead: a small withdrawal and a borrow within init health go through and
/// clear the flag.
#[tokio::test]
async fn cured_by_deposit_then_withdraws_a_little_and_borrows() {
    let env = Env::new().await;
    let (victim, liq) = env.underwater().await;
    liquidate_sol_usdc(&env, &victim, &liq, 1).await;
    // 5 more SOL: A_maint = 0.9 · 15 · 80 = 1080 against 750 of debt, end = 1080 − 765 > 0.
    let sol = env.wallet(&victim, &env.sol, 5_000_000_000).await;
    env.send(&[ix::deposit(&sol, 5_000_000_000)], &[&victim.key])
        .await
        .expect("deposit while being liquidated");
    let pairs = env.pairs(&victim, None, None).await;
    env.send(
        &[ix::withdraw(&victim.mv(&env.sol), 100_000_000, &pairs)],
        &[&victim.key],
    )
    .await
    .expect("a small withdrawal of a cured account");
    assert_eq!(env.margin(&victim.account).await.being_liquidated, 0);
    env.send(
        &[ix::borrow(&victim.mv(&env.usdc), 10_000_000, &pairs)],
        &[&victim.key],
    )
    .await
    .expect("a borrow within init health");
}

/// Only an insolvent account has its debt forgiven: 0.009 SOL against 0.50 USDC at SOL = 60 is
/// liquidatable (0.486 < 0.50) but solvent (0.54 USD of assets for 0.50 of debt).
#[tokio::test]
async fn solvent_dust_account_keeps_its_debt() {
    let env = Env::new().await;
    env.lender(1_000_000_000, 0).await;
    let u = env.borrower(9_000_000, 500_000).await;
    env.set_price(&env.sol, "60", "0").await;
    assert!(view(&env, &u).await.liquidatable);
    let pairs = env.pairs(&u, None, None).await;
    env.expect_rejected(
        &[ix::bad_debt_resolve(&u.account, &env.usdc.mint, &pairs)],
        &[],
        "BadDebtNotEligible",
    )
    .await;
}

/// An insolvent account's last deposit (worth less than the dust threshold) goes to that market's
/// insurance fund before its debt is forgiven: the owner keeps nothing the insurers paid for.
#[tokio::test]
async fn bad_debt_moves_the_remaining_deposit_to_insurance() {
    let env = Env::new().await;
    let (victim, _liq) = env.underwater().await;
    // 10 SOL at 0.05 = 0.50 USD of collateral against 750 USDC of debt.
    env.set_price(&env.sol, "0.05", "0").await;
    let sol_insurance = pda::insurance_vault(&env.sol.market);
    let before = env.balance(&sol_insurance).await;
    let sol_deposits = env.market(&env.sol).await.total_deposits().unwrap();
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
        .expect("bad debt");
    let b = &events::parse::<BadDebtResolved>(&out.logs)[0];
    assert_eq!(b.debt, 750_000_000);
    // The deposit is the SOL insurance fund's now: held in the vault until collected.
    assert_eq!(env.market(&env.sol).await.insurance_pending, 10_000_000_000);
    env.send(&[ix::market_collect_fees(&env.sol.mint)], &[])
        .await
        .expect("collect");
    assert_eq!(env.balance(&sol_insurance).await, before + 10_000_000_000);
    let acc = env.margin(&victim.account).await;
    assert!(acc.is_empty(), "no deposit and no debt left: {acc:?}");
    assert_eq!(acc.being_liquidated, 0);
    assert_eq!(
        env.market(&env.sol).await.total_deposits().unwrap(),
        sol_deposits - 10_000_000_000
    );
}

/// A deposit whose oracle fails (its confidence too wide for a minute) is not worth zero for
/// bad-debt eligibility, as the crash simulation found it was: an account merely underwater at
/// that moment keeps its collateral (`BadDebtNotEligible`, every balance unchanged). Valued at
/// its last published price, a deposit that really is dust still goes to insurance.
#[tokio::test]
async fn a_failing_deposit_oracle_does_not_make_bad_debt() {
    let env = Env::new().await;
    // SOL at 80: 10 SOL (800 USD) against 750 USDC, liquidatable but solvent.
    let (victim, _liq) = env.underwater().await;
    // The same price with a 5 USD confidence, beyond SOL's 2% limit.
    env.set_price(&env.sol, "80", "5").await;
    let pairs = env.pairs(&victim, None, None).await;
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
    // A failing feed whose last price leaves the deposit dust (10 SOL at 0.05): resolved, the
    // deposit forfeited to SOL's insurance.
    env.set_price(&env.sol, "0.05", "0.01").await;
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
        .expect("bad debt at the last published price");
    assert_eq!(
        events::parse::<BadDebtResolved>(&out.logs)[0].debt,
        750_000_000
    );
    assert_eq!(env.market(&env.sol).await.insurance_pending, 10_000_000_000);
}

/// A third market the victim chose, holding a 1-unit deposit, whose feed goes stale, cannot
/// block the liquidation of the (SOL, USDC) pair; that stale deposit cannot be seized.
#[tokio::test]
async fn stale_third_deposit_does_not_block_liquidation() {
    let env = Env::new().await;
    let eth = env.add_pull_market(8, [4; 32], "1000", sol_params()).await;
    env.lender(100_000_000_000, 0).await;
    let victim = env.user(&[(&env.sol, 10_000_000_000)]).await;
    env.send(
        &[ix::deposit(&victim.mv(&env.sol), 10_000_000_000)],
        &[&victim.key],
    )
    .await
    .unwrap();
    let eth_mv = env.wallet(&victim, &eth, 1).await;
    env.send(&[ix::deposit(&eth_mv, 1)], &[&victim.key])
        .await
        .unwrap();
    let pairs = env.pairs(&victim, Some(&env.usdc), None).await;
    env.send(
        &[ix::borrow(&victim.mv(&env.usdc), 750_000_000, &pairs)],
        &[&victim.key],
    )
    .await
    .unwrap();
    // Six minutes later only SOL and USDC publish: ETH is stale beyond the liquidation age.
    env.chain.advance_time(360).await.unwrap();
    env.set_price(&env.sol, "80", "0").await;
    env.set_price(&env.usdc, "1", "0").await;
    let liq = env.user(&[(&env.usdc, 10_000_000_000)]).await;
    let t_eth = env.wallet(&liq, &eth, 0).await.user_token;
    let pairs = env.pairs(&victim, None, None).await;
    let seize_eth = ix::liquidate(
        &ix::LiquidateAccounts {
            asset_mint: eth.mint,
            liquidator_asset_token: t_eth,
            ..liquidate_accounts(&victim, &liq, &env.sol, &env.usdc)
        },
        u64::MAX,
        &pairs,
    );
    env.expect_rejected(&[seize_eth], &[&liq.key], "OracleStale")
        .await;
    let e = liquidate_sol_usdc(&env, &victim, &liq, u64::MAX).await;
    assert!(e.repaid > 0);
    assert!(!e.being_liquidated);
}

/// An account without debt withdraws and closes without any fresh price.
#[tokio::test]
async fn no_debt_account_withdraws_and_closes_without_prices() {
    let env = Env::new().await;
    let u = env
        .user(&[(&env.sol, 1_000_000_000), (&env.usdc, 5_000_000)])
        .await;
    env.send(
        &[
            ix::deposit(&u.mv(&env.sol), 1_000_000_000),
            ix::deposit(&u.mv(&env.usdc), 5_000_000),
        ],
        &[&u.key],
    )
    .await
    .unwrap();
    env.chain.advance_time(DAY).await.unwrap();
    let pairs = env.pairs(&u, None, Some(&env.sol)).await;
    env.send(
        &[ix::withdraw(&u.mv(&env.sol), u64::MAX, &pairs)],
        &[&u.key],
    )
    .await
    .expect("withdraw SOL with a day-old USDC price");
    env.send(&[ix::withdraw(&u.mv(&env.usdc), u64::MAX, &[])], &[&u.key])
        .await
        .expect("withdraw USDC");
    env.send(
        &[ix::account_close(&u.key.pubkey(), &u.account, &[])],
        &[&u.key],
    )
    .await
    .expect("close");
}

/// A queued change moves wA_maint 0.95 → 0.75 gradually and the penalty 5% → 24%: early in the
/// shift the new penalty with the old-ish weight makes κ ≤ 0 (1.02 − 1.144 · 0.93 < 0 with the
/// liquidator's 14.4% alone), yet a liquidation must go through, at the gentler penalty.
#[tokio::test]
async fn liquidation_mid_weight_shift_with_a_penalty_change() {
    let env = Env::new().await;
    let start = MarketParams {
        asset_weight_init_bps: 7_500,
        asset_weight_maint_bps: 9_500,
        liquidation_penalty_bps: 500,
        ..sol_params()
    };
    let x = env.add_pull_market(9, [5; 32], "100", start).await;
    env.lender(100_000_000_000, 0).await;
    let victim = env.user(&[]).await;
    let x_mv = env.wallet(&victim, &x, 10_000_000_000).await;
    env.send(&[ix::deposit(&x_mv, 10_000_000_000)], &[&victim.key])
        .await
        .unwrap();
    // A_init = 0.75 · 1000 = 750 ≥ 700 · 1.05 = 735.
    let pairs = env.pairs(&victim, Some(&env.usdc), None).await;
    env.send(
        &[ix::borrow(&victim.mv(&env.usdc), 700_000_000, &pairs)],
        &[&victim.key],
    )
    .await
    .unwrap();
    let target = MarketParams {
        asset_weight_init_bps: 7_000,
        asset_weight_maint_bps: 7_500,
        liquidation_penalty_bps: 2_400,
        liquidation_penalty_min_bps: 2_400,
        ..start
    };
    env.send(
        &[ix::params_queue_market(
            &env.admin.pubkey(),
            &x.mint,
            &x.oracle,
            1,
            x.feed_id,
            target,
        )],
        &[],
    )
    .await
    .expect("queue");
    env.chain.advance_time(DAY).await.unwrap();
    env.send(&[ix::params_apply_market(&x.mint, &x.oracle)], &[])
        .await
        .expect("apply");
    // A tenth of the way: wA_maint = 0.93. At 74: A_maint = 688.2 < 700, liquidatable, with a
    // surplus of only 5.7% (the protocol's cut is capped, the liquidator's is not).
    env.chain.advance_time(DAY / 10).await.unwrap();
    env.set_price(&x, "74", "0").await;
    env.set_price(&env.usdc, "1", "0").await;
    let liq = env.user(&[(&env.usdc, 10_000_000_000)]).await;
    let t_x = env.wallet(&liq, &x, 0).await.user_token;
    let pairs = env.pairs(&victim, None, None).await;
    let out = env
        .send(
            &[ix::liquidate(
                &ix::LiquidateAccounts {
                    asset_mint: x.mint,
                    liquidator_asset_token: t_x,
                    ..liquidate_accounts(&victim, &liq, &env.sol, &env.usdc)
                },
                u64::MAX,
                &pairs,
            )],
            &[&liq.key],
        )
        .await
        .expect("liquidation mid-shift");
    let e = events::parse::<LiquidationEvent>(&out.logs).remove(0);
    assert_eq!(
        e.penalty_bps, 500,
        "the smaller penalty until the shift ends"
    );
    assert!(
        e.repaid > 0 && e.seized < 10_000_000_000,
        "partial: repaid {} seized {}",
        e.repaid,
        e.seized
    );
    assert!(I80F48::from_bits(e.end_after) >= I80F48::ZERO);
}

/// A captured admin key lists a worthless mint with high weights and tries to borrow against it,
/// or from it, in the same slot: refused until a timelocked change activates the market.
#[tokio::test]
async fn listing_is_quarantined_until_a_timelocked_change() {
    let env = Env::new().await;
    env.lender(100_000_000_000, 0).await;
    let x = env.list_pull_market(9, [7; 32], "100", sol_params()).await;
    let u = env.user(&[(&env.sol, 10_000_000_000)]).await;
    let x_mv = env.wallet(&u, &x, 10_000_000_000).await;
    env.send(&[ix::deposit(&x_mv, 10_000_000_000)], &[&u.key])
        .await
        .expect("deposits are allowed");
    let pairs = env.pairs(&u, Some(&env.usdc), None).await;
    env.expect_rejected(
        &[ix::borrow(&u.mv(&env.usdc), 1_000_000, &pairs)],
        &[&u.key],
        "InsufficientHealth",
    )
    .await;
    // Nor can the new market be borrowed from, even against real collateral.
    let sol_lender = env.user(&[(&env.sol, 10_000_000_000)]).await;
    env.send(
        &[ix::deposit(&sol_lender.mv(&env.sol), 10_000_000_000)],
        &[&sol_lender.key],
    )
    .await
    .unwrap();
    let pairs = env.pairs(&sol_lender, Some(&x), None).await;
    let x_out = env.wallet(&sol_lender, &x, 0).await;
    env.expect_rejected(
        &[ix::borrow(&x_out, 1_000, &pairs)],
        &[&sol_lender.key],
        "MarketQuarantined",
    )
    .await;
    // After the timelock and the apply, both work.
    env.chain.advance_time(DAY).await.unwrap();
    env.set_price(&x, "100", "0").await;
    env.set_price(&env.usdc, "1", "0").await;
    env.set_price(&env.sol, "100", "0").await;
    env.send(&[ix::params_apply_market(&x.mint, &x.oracle)], &[])
        .await
        .expect("activate");
    let pairs = env.pairs(&u, Some(&env.usdc), None).await;
    env.send(
        &[ix::borrow(&u.mv(&env.usdc), 1_000_000, &pairs)],
        &[&u.key],
    )
    .await
    .expect("borrow against the activated market");
    let pairs = env.pairs(&sol_lender, Some(&x), None).await;
    env.send(&[ix::borrow(&x_out, 1_000, &pairs)], &[&sol_lender.key])
        .await
        .expect("borrow from the activated market");
}

/// A market whose whole (tiny) deposit base is lost to bad debt keeps a floor: the index stays
/// positive and later deposits work.
#[tokio::test]
async fn tiny_market_socialization_keeps_a_floor() {
    let env = Env::new().await;
    let t_params = MarketParams {
        asset_weight_init_bps: 0,
        asset_weight_maint_bps: 5_000,
        ..sol_params()
    };
    let t = env.add_pull_market(0, [8; 32], "1", t_params).await;
    let lender = env.user(&[]).await;
    let lender_t = env.wallet(&lender, &t, 100).await;
    env.send(&[ix::deposit(&lender_t, 50)], &[&lender.key])
        .await
        .unwrap();
    let victim = env.user(&[(&env.sol, 1_000_000_000)]).await;
    env.send(
        &[ix::deposit(&victim.mv(&env.sol), 1_000_000_000)],
        &[&victim.key],
    )
    .await
    .unwrap();
    let victim_t = env.wallet(&victim, &t, 0).await;
    let pairs = env.pairs(&victim, Some(&t), None).await;
    env.send(&[ix::borrow(&victim_t, 50, &pairs)], &[&victim.key])
        .await
        .expect("borrow the whole deposit base");
    env.set_price(&env.sol, "0.0000001", "0").await;
    let pairs = env.pairs(&victim, None, None).await;
    let out = env
        .send(
            &[ix::bad_debt_resolve(&victim.account, &t.mint, &pairs)],
            &[],
        )
        .await
        .expect("bad debt");
    let b = &events::parse::<BadDebtResolved>(&out.logs)[0];
    assert_eq!(b.debt, 50);
    assert!(b.socialized < 50, "socialized {}", b.socialized);
    let m = env.market(&t).await;
    assert!(m.deposit_index.get() > I80F48::ZERO);
    env.send(&[ix::deposit(&lender_t, 50)], &[&lender.key])
        .await
        .expect("the market still takes deposits");
}

/// Collapsing collateral priced below 3.5e-6 USD per whole 9-decimal token is still a positive
/// price: its liquidation must not freeze on `OraclePriceNonPositive`.
#[tokio::test]
async fn collapsing_collateral_at_a_tiny_price_is_liquidated() {
    let env = Env::new().await;
    let (victim, liq) = env.underwater().await;
    env.set_price(&env.sol, "0.000003", "0").await;
    let e = liquidate_sol_usdc(&env, &victim, &liq, u64::MAX).await;
    assert_eq!(e.seized, 10_000_000_000, "the whole (dust) collateral");
}

/// A deposit share worth less than one native unit does not keep an account from closing.
#[tokio::test]
async fn a_sub_unit_deposit_share_does_not_block_close() {
    let env = Env::new().await;
    env.lender(1_000_000_000, 0).await;
    env.borrower(10_000_000_000, 700_000_000).await;
    env.chain.advance_time(365 * DAY).await.unwrap();
    env.send(&[ix::market_accrue(&env.usdc.market)], &[])
        .await
        .unwrap();
    assert!(env.market(&env.usdc).await.deposit_index.get() > I80F48::ONE);
    let u = env.user(&[(&env.usdc, 1)]).await;
    env.send(&[ix::deposit(&u.mv(&env.usdc), 1)], &[&u.key])
        .await
        .unwrap();
    let shares = env.margin(&u.account).await.positions[0].shares();
    assert!(shares > I80F48::ZERO);
    let m = env.market(&env.usdc).await;
    assert_eq!(
        scalpel::math::shares::deposit_balance(shares, m.deposit_index.get()).unwrap(),
        0,
        "the share is worth less than one unit"
    );
    let total = m.total_deposit_shares.get();
    env.send(
        &[ix::account_close(
            &u.key.pubkey(),
            &u.account,
            &[env.usdc.market],
        )],
        &[&u.key],
    )
    .await
    .expect("close with a sub-unit share");
    assert_eq!(
        env.market(&env.usdc).await.total_deposit_shares.get(),
        total - shares
    );
}

/// The guardian's withdrawal pause ends by itself.
#[tokio::test]
async fn guardian_withdrawal_pause_ends_by_itself() {
    let env = Env::new().await;
    let g = Keypair::new();
    env.send(&[ix::guardian_set(&env.admin.pubkey(), &g.pubkey())], &[])
        .await
        .unwrap();
    let u = env.user(&[(&env.usdc, 5_000_000)]).await;
    env.send(&[ix::deposit(&u.mv(&env.usdc), 5_000_000)], &[&u.key])
        .await
        .unwrap();
    env.send(
        &[ix::guardian_tighten(
            &g.pubkey(),
            None,
            GuardianAction::PauseProtocol {
                flags: PAUSE_WITHDRAWALS,
            },
        )],
        &[&g],
    )
    .await
    .expect("pause");
    env.expect_rejected(
        &[ix::withdraw(
            &u.mv(&env.usdc),
            1,
            &env.pairs(&u, None, None).await,
        )],
        &[&u.key],
        "WithdrawalsPaused",
    )
    .await;
    env.chain.advance_time(DAY + 1).await.unwrap();
    env.send(
        &[ix::withdraw(
            &u.mv(&env.usdc),
            1,
            &env.pairs(&u, None, None).await,
        )],
        &[&u.key],
    )
    .await
    .expect("the pause ended by itself");
}

/// Pausing one market's liquidations, then the other side's when the first pause ends, would
/// hold a pair's liquidations twice as long as the protocol allows: refused.
#[tokio::test]
async fn liquidation_pauses_cannot_be_chained_across_markets() {
    let env = Env::new().await;
    let g = Keypair::new();
    env.send(&[ix::guardian_set(&env.admin.pubkey(), &g.pubkey())], &[])
        .await
        .unwrap();
    let pause = |mint: Pubkey| {
        ix::guardian_tighten(
            &g.pubkey(),
            Some(&mint),
            GuardianAction::PauseLiquidations { secs: 4 * 3_600 },
        )
    };
    env.send(&[pause(env.sol.mint)], &[&g])
        .await
        .expect("first pause");
    env.chain.advance_time(4 * 3_600).await.unwrap();
    env.expect_rejected(&[pause(env.usdc.mint)], &[&g], "LiquidationPauseTooLong")
        .await;
}

/// The maintenance-weight shift lasts at least a day wherever changes are timelocked.
#[tokio::test]
async fn weight_shift_has_a_minimum_duration() {
    let env = Env::new().await;
    let short = ProtocolParams {
        weight_shift_secs: 3_600,
        ..ProtocolParams::default()
    };
    env.expect_rejected(
        &[ix::params_queue_protocol(&env.admin.pubkey(), short)],
        &[],
        "WeightShiftTooShort",
    )
    .await;
}

/// Mints a vault could be frozen through, or whose transfers another program controls, are
/// refused at listing.
#[tokio::test]
async fn listing_refuses_freeze_authority_and_token_2022_mints() {
    let env = Env::new().await;
    let admin = env.admin.pubkey();
    // A mint with a freeze authority.
    let frozen = Keypair::new();
    let rent = solana_sdk::rent::Rent::default().minimum_balance(spl_token::state::Mint::LEN);
    let create = [
        solana_system_interface::instruction::create_account(
            &admin,
            &frozen.pubkey(),
            rent,
            spl_token::state::Mint::LEN as u64,
            &spl_token::ID,
        ),
        spl_token::instruction::initialize_mint2(
            &spl_token::ID,
            &frozen.pubkey(),
            &env.mint_authority.pubkey(),
            Some(&admin),
            6,
        )
        .unwrap(),
    ];
    env.send(&create, &[&frozen]).await.unwrap();
    let oracle = Pubkey::new_unique();
    let m = MarketFixture {
        mint: frozen.pubkey(),
        market: pda::market(&frozen.pubkey()),
        oracle,
        feed_id: [9; 32],
    };
    env.set_price(&m, "1", "0").await;
    env.expect_rejected(
        &[ix::market_add(
            &admin,
            &admin,
            test_symbol(&[0xee; 32]),
            &m.mint,
            &oracle,
            1,
            [9; 32],
            sol_params(),
        )],
        &[],
        "MintHasFreezeAuthority",
    )
    .await;
    // A mint owned by Token-2022 (same layout, other owner).
    let t22 = Pubkey::new_unique();
    let mut data = vec![0u8; spl_token::state::Mint::LEN];
    Pack::pack(
        spl_token::state::Mint {
            mint_authority: solana_sdk::program_option::COption::Some(admin),
            supply: 0,
            decimals: 6,
            is_initialized: true,
            freeze_authority: solana_sdk::program_option::COption::None,
        },
        &mut data,
    )
    .unwrap();
    env.chain
        .set_account(
            &t22,
            solana_sdk::account::Account {
                lamports: rent,
                data,
                owner: anchor_spl::token_2022::ID,
                executable: false,
                rent_epoch: 0,
            },
        )
        .await;
    env.expect_rejected(
        &[ix::market_add(
            &admin,
            &admin,
            test_symbol(&[0xee; 32]),
            &t22,
            &oracle,
            1,
            [9; 32],
            sol_params(),
        )],
        &[],
        "MintNotSplToken",
    )
    .await;
}

/// `bad_debt_resolve` and `account_close` take extra accounts; the remaining-account layout is
/// checked like the health pairs (a market that is not the position's is refused).
#[tokio::test]
async fn close_refuses_a_substituted_market() {
    let env = Env::new().await;
    let u = env.user(&[(&env.usdc, 1)]).await;
    env.send(&[ix::deposit(&u.mv(&env.usdc), 1)], &[&u.key])
        .await
        .unwrap();
    let mut close = ix::account_close(&u.key.pubkey(), &u.account, &[env.sol.market]);
    close
        .accounts
        .push(AccountMeta::new(env.usdc.market, false));
    env.expect_rejected(&[close], &[&u.key], "HealthAccountsMismatch")
        .await;
    // A real (non-dust) deposit keeps the account open.
    env.expect_rejected(
        &[ix::account_close(
            &u.key.pubkey(),
            &u.account,
            &[env.usdc.market],
        )],
        &[&u.key],
        "AccountNotEmpty",
    )
    .await;
}
