//! `scalpel_client::quote` against the program: health bit for bit with `health_view`, the
//! liquidation price flips `liquidatable` where it says, and the quoted plan is what `liquidate`
//! executes (SPEC sections 4, 5 and 10).

use crate::program_test::*;
use scalpel::events::LiquidationEvent;
use scalpel::instructions::HealthView;
use scalpel::math::I80F48;
use scalpel_client::quote::{quote, PairQuote, Quote, Side};
use scalpel_client::{events, health, ix, Chain};
use solana_sdk::{pubkey::Pubkey, signature::Signer};

async fn view(env: &Env, u: &User) -> HealthView {
    let pairs = env.pairs(u, None, None).await;
    let out = env
        .chain
        .simulate(&[ix::health_view(&u.account, &pairs)], &[&env.admin])
        .await
        .expect("transport")
        .expect("health_view");
    health::decode_view(&out.return_data.expect("return data")).expect("decode")
}

async fn quoted(env: &Env, u: &User) -> Quote {
    quote(&env.chain, &u.account).await.expect("quote")
}

/// The quote's health is the program's, bit for bit.
fn assert_same_health(q: &Quote, v: &HealthView) {
    let h = &q.health.raw;
    assert_eq!(h.init.to_bits(), v.init, "init");
    assert_eq!(h.maint.to_bits(), v.maint, "maint");
    assert_eq!(h.end.to_bits(), v.end, "end");
    assert_eq!(h.asset_maint.to_bits(), v.asset_maint, "asset_maint");
    assert_eq!(h.liab_maint.to_bits(), v.liab_maint, "liab_maint");
    assert_eq!(h.ratio().map(|r| r.to_bits()), v.ratio, "ratio");
    assert_eq!(q.liquidatable, v.liquidatable, "liquidatable");
    assert_eq!(q.being_liquidated, v.being_liquidated, "being_liquidated");
}

/// Every plan of the quote matches the view's entry for the same pair, and vice versa.
fn assert_same_plans(q: &Quote, v: &HealthView) {
    assert!(!v.plans_truncated);
    let quoted: Vec<&PairQuote> = q.plans.iter().filter(|p| p.plan.is_some()).collect();
    assert_eq!(quoted.len(), v.plans.len(), "{q:#?}\n{v:#?}");
    for (p, w) in quoted.iter().zip(&v.plans) {
        let raw = p.plan.as_ref().map(|x| x.raw).expect("plan");
        assert_eq!(
            (p.asset_market_index, p.liab_market_index),
            (w.asset_market_index, w.liab_market_index)
        );
        assert_eq!(
            (
                raw.repay,
                raw.seized,
                raw.to_liquidator,
                raw.to_insurance,
                raw.to_treasury,
                raw.health_after.maint.to_bits(),
                raw.health_after.end.to_bits()
            ),
            (
                w.repay,
                w.seized,
                w.to_liquidator,
                w.to_insurance,
                w.to_treasury,
                w.maint_after,
                w.end_after
            )
        );
    }
}

/// Lender with 100 000 USDC; victim with 10 SOL borrowing 750 USDC at SOL = 100 (healthy:
/// maint = 900 − 750 = 150); liquidator with 10 000 USDC.
async fn setup(env: &Env) -> (User, User, User) {
    let lender = env.lender(100_000_000_000, 0).await;
    let victim = env.borrower(10_000_000_000, 750_000_000).await;
    let liq = env.user(&[(&env.usdc, 10_000_000_000)]).await;
    (lender, victim, liq)
}

/// `price` USD as a decimal string with the test oracles' 8 decimals.
fn price_string(mantissa: i64) -> String {
    format!("{}.{:08}", mantissa / 100_000_000, mantissa % 100_000_000)
}

fn close(a: I80F48, b: f64, tol: f64) -> bool {
    (a - I80F48::from_num(b)).abs() < I80F48::from_num(tol)
}

#[tokio::test]
async fn quote_is_the_programs_health_price_and_plan() {
    let env = Env::new().await;
    let (lender, victim, liq) = setup(&env).await;

    // Healthy at SOL = 100: the same health as health_view, no plans.
    let q = quoted(&env, &victim).await;
    let v = view(&env, &victim).await;
    assert_same_health(&q, &v);
    assert!(!q.liquidatable && q.plans.is_empty() && v.plans.is_empty());
    assert!(close(q.health.raw.maint, 150.0, 1e-9), "{:?}", q.health);
    assert_eq!(q.health.maint, "150.000000");
    assert_eq!(q.health.ratio.as_deref(), Some("1.200000"));
    assert_eq!(q.positions.len(), 2);
    let sol = &q.positions[0];
    assert_eq!((sol.market_index, sol.side), (0, Side::Deposit));
    assert_eq!(sol.amount, "10.000000000");
    assert_eq!(sol.price, "100.000000");
    // SOL: 750 / (10 · 0.9) = 83.333333 USD, a 16.67% drop.
    let p_sol = sol.liquidation_price_raw.expect("SOL liquidation price");
    assert!(close(p_sol, 750.0 / 9.0, 1e-6), "{p_sol}");
    assert_eq!(sol.liquidation_price.as_deref(), Some("83.333333"));
    assert_eq!(sol.liquidation_price_change_pct.as_deref(), Some("-16.67"));
    // USDC debt: 900 / 750 = 1.2 USD.
    let usdc = &q.positions[1];
    assert_eq!((usdc.market_index, usdc.side), (1, Side::Debt));
    assert_eq!(usdc.amount, "750.000000");
    let p_usdc = usdc.liquidation_price_raw.expect("USDC liquidation price");
    assert!(close(p_usdc, 1.2, 1e-6), "{p_usdc}");

    // One oracle step (1e-8 USD) either side of the SOL price flips liquidatable in health_view.
    let scale = I80F48::from_num(100_000_000);
    let steps = p_sol * scale;
    let below = steps.ceil().to_num::<i64>() - 1;
    let above = steps.floor().to_num::<i64>() + 1;
    assert_eq!(price_string(below), "83.33333333");
    env.set_price(&env.sol, &price_string(below), "0").await;
    let v = view(&env, &victim).await;
    assert!(v.liquidatable, "{v:?}");
    assert!(health::fixed(v.maint) < I80F48::ZERO);
    assert_same_health(&quoted(&env, &victim).await, &v);
    env.set_price(&env.sol, &price_string(above), "0").await;
    let v = view(&env, &victim).await;
    assert!(!v.liquidatable, "{v:?}");
    assert!(health::fixed(v.maint) >= I80F48::ZERO);
    assert_same_health(&quoted(&env, &victim).await, &v);

    // No debt: never liquidatable, no liquidation price, infinite ratio.
    let q = quoted(&env, &lender).await;
    assert_same_health(&q, &view(&env, &lender).await);
    assert_eq!(q.positions.len(), 1);
    assert_eq!(q.positions[0].side, Side::Deposit);
    assert!(q.positions[0].liquidation_price.is_none());
    assert!(q.health.ratio.is_none() && q.plans.is_empty());

    // SOL at 80: maint = −30, end = −45. The quoted plan is the view's and liquidate's.
    env.set_price(&env.sol, "80", "0").await;
    let q = quoted(&env, &victim).await;
    let v = view(&env, &victim).await;
    assert_same_health(&q, &v);
    assert!(q.liquidatable);
    assert_same_plans(&q, &v);
    assert_eq!(q.plans.len(), 1);
    let pair = &q.plans[0];
    assert_eq!((pair.asset_market_index, pair.liab_market_index), (0, 1));
    assert!(
        pair.error.is_none() && pair.blocked_by.is_none(),
        "{pair:?}"
    );
    let plan = pair.plan.as_ref().expect("plan");
    // x = 45 / 0.075 = 600 USDC, S = 600 · 1.05 / 80 = 7.875 SOL (one lamport low at worst).
    assert_eq!(plan.raw.repay, 600_000_000);
    assert_eq!(plan.repay, "600.000000");
    assert_eq!(plan.bound, "need");
    assert_eq!(plan.penalty_effective, "0.050000");
    assert_eq!(plan.kappa, "0.075000");
    let alt = pair.alternatives.as_ref().expect("alternatives");
    assert_eq!(alt.full.raw.repay, 750_000_000);
    assert_eq!(alt.close_factor_50.raw.repay, 375_000_000);
    // The SOL liquidation price is now above the price: healthy again above 83.33.
    let p = q.positions[0].liquidation_price_raw.expect("price");
    assert!(close(p, 750.0 / 9.0, 1e-6), "{p}");

    let pairs = env.pairs(&victim, None, None).await;
    let accounts = ix::LiquidateAccounts {
        liquidatee: victim.account,
        asset_mint: env.sol.mint,
        liab_mint: env.usdc.mint,
        liquidator: liq.key.pubkey(),
        liquidator_liab_token: liq.token(&env.usdc),
        liquidator_asset_token: liq.token(&env.sol),
    };
    let out = env
        .send(&[ix::liquidate(&accounts, u64::MAX, &pairs)], &[&liq.key])
        .await
        .expect("liquidate");
    let ev = events::parse::<LiquidationEvent>(&out.logs);
    assert_eq!(ev.len(), 1);
    let e = &ev[0];
    let raw = plan.raw;
    assert_eq!(
        (
            e.repaid,
            e.seized,
            e.to_liquidator,
            e.to_insurance,
            e.to_treasury
        ),
        (
            raw.repay,
            raw.seized,
            raw.to_liquidator,
            raw.to_insurance,
            raw.to_treasury
        )
    );
    assert_eq!(e.maint_before, q.health.raw.maint.to_bits());
    assert_eq!(e.end_before, q.health.raw.end.to_bits());
    assert_eq!(e.maint_after, raw.health_after.maint.to_bits());
    assert_eq!(e.end_after, raw.health_after.end.to_bits());
    assert_eq!(e.penalty_effective, raw.penalty_effective.to_bits());

    // Healthy after: the quote agrees with the view and has no plans.
    let q = quoted(&env, &victim).await;
    let v = view(&env, &victim).await;
    assert_same_health(&q, &v);
    assert!(!q.liquidatable && q.plans.is_empty());
}

/// With the hysteresis flag set (a capped first liquidation), the quote follows `end < 0`, and
/// its plan is again the view's and the instruction's.
#[tokio::test]
async fn quote_follows_hysteresis() {
    let env = Env::new().await;
    let (_, victim, liq) = setup(&env).await;
    env.set_price(&env.sol, "80", "0").await;
    let accounts = ix::LiquidateAccounts {
        liquidatee: victim.account,
        asset_mint: env.sol.mint,
        liab_mint: env.usdc.mint,
        liquidator: liq.key.pubkey(),
        liquidator_liab_token: liq.token(&env.usdc),
        liquidator_asset_token: liq.token(&env.sol),
    };
    let pairs = env.pairs(&victim, None, None).await;
    env.send(
        &[ix::liquidate(&accounts, 100_000_000, &pairs)],
        &[&liq.key],
    )
    .await
    .expect("capped liquidation");
    // SOL at 84.5: maint ≥ 0 but end < 0, and the account is being liquidated.
    env.set_price(&env.sol, "84.5", "0").await;
    let q = quoted(&env, &victim).await;
    let v = view(&env, &victim).await;
    assert_same_health(&q, &v);
    assert!(q.being_liquidated && q.liquidatable);
    assert!(q.health.raw.maint >= I80F48::ZERO && q.health.raw.end < I80F48::ZERO);
    assert_same_plans(&q, &v);
    let raw = q.plans[0].plan.as_ref().expect("plan").raw;
    let out = env
        .send(&[ix::liquidate(&accounts, u64::MAX, &pairs)], &[&liq.key])
        .await
        .expect("liquidate");
    let e = &events::parse::<LiquidationEvent>(&out.logs)[0];
    assert_eq!((e.repaid, e.seized), (raw.repay, raw.seized));
    assert_eq!(e.end_after, raw.health_after.end.to_bits());
}

async fn refusal(env: &Env, key: &Pubkey) -> String {
    match quote(&env.chain, key).await {
        Ok(q) => panic!("quoted {key}: {q:?}"),
        Err(e) => format!("{e:#}"),
    }
}

#[tokio::test]
async fn quote_names_what_is_not_a_margin_account() {
    let env = Env::new().await;
    let (_, victim, _) = setup(&env).await;
    let e = refusal(&env, &env.sol.market).await;
    assert!(
        e.contains("is a Scalpel market, not a margin account"),
        "{e}"
    );
    let e = refusal(&env, &scalpel_client::pda::protocol()).await;
    assert!(e.contains("protocol account, not a margin account"), "{e}");
    let e = refusal(&env, &victim.token(&env.sol)).await;
    assert!(e.contains("is not a Scalpel account"), "{e}");
    let e = refusal(&env, &Pubkey::new_unique()).await;
    assert!(e.contains("no account at"), "{e}");
    // A stale price is the program's error, by name: the collateral counts as zero and the pair
    // cannot be liquidated until the oracle publishes again.
    env.chain.advance_time(301).await.expect("clock");
    let q = quote(&env.chain, &victim.account).await.expect("quote");
    assert_eq!(q.positions[0].oracle_error.as_deref(), Some("OracleStale"));
    assert_eq!(q.positions[0].value_usd, "0.000000");
    assert!(q.plans.iter().all(|p| p.plan.is_none()));
    assert_eq!(q.plans[0].error.as_deref(), Some("OracleStale"));
}

/// Over JSON-RPC (`RpcChain`, what the CLI uses, against the localnet serving the bank) the
/// quote is the in-process one, and its JSON carries amounts and USD as decimal strings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quote_over_rpc_matches_and_serializes() {
    use std::sync::Arc;
    let env = Arc::new(Env::new().await);
    let (_, victim, _) = setup(&env).await;
    env.set_price(&env.sol, "80", "0").await;
    let net = super::rpc_chain::serve(&env).await;
    let rpc = scalpel_client::rpc::RpcChain::new(&net.rpc_url());
    let remote = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        quote(&rpc, &victim.account),
    )
    .await
    .expect("quote over RPC timed out")
    .expect("quote over RPC");
    let local = quoted(&env, &victim).await;
    assert_eq!(format!("{remote:?}"), format!("{local:?}"));
    let unknown = net.diagnostics().unknown_methods();
    assert!(unknown.is_empty(), "{unknown:?}");

    let j = serde_json::to_value(&remote).expect("json");
    assert_eq!(j["account"], victim.account.to_string());
    assert_eq!(j["liquidatable"], true);
    assert_eq!(j["health"]["maint"], "-30.000000");
    assert_eq!(j["health"]["end"], "-45.000000");
    assert_eq!(j["positions"][0]["side"], "deposit");
    assert_eq!(j["positions"][0]["liquidation_price"], "83.333333");
    assert_eq!(j["positions"][1]["side"], "debt");
    assert_eq!(j["plans"][0]["plan"]["repay"], "600.000000");
    assert_eq!(j["plans"][0]["plan"]["bound"], "need");
    assert_eq!(j["plans"][0]["alternatives"]["full"]["repay"], "750.000000");
    assert!(j["plans"][0]["plan"].get("raw").is_none());
    assert!(j["health"].get("raw").is_none());
}
