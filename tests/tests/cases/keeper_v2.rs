//! Keeper v2 against the in-process bank: account mode (`liquidate_to_account`, the bot's margin
//! account takes the debt and the collateral), the profit check's threshold and swap cost, and
//! the backoff of an account the bot keeps failing on.

use super::keeper::wallet_bot;
use crate::program_test::*;
use scalpel::health_accounts::PriceAge;
use scalpel::math::I80F48;
use scalpel_client::keeper::{profit, Keeper, KeeperConfig, Mode, PassSummary, ProfitConfig};
use scalpel_client::{health, pda, units, Chain};
use solana_sdk::{signature::Keypair, signer::Signer};

/// The victim's margin account data (unchanged when the keeper left it alone).
async fn data(env: &Env, u: &User) -> Vec<u8> {
    env.chain.account(&u.account).await.unwrap().unwrap().data
}

/// Native deposit and debt of every position of `account`, by market index.
async fn balances(env: &Env, account: &solana_sdk::pubkey::Pubkey) -> Vec<(u16, u64, u64)> {
    let acc = env.margin(account).await;
    let markets = env.markets().await;
    health::account_inputs(&env.chain, &acc, &markets, PriceAge::Maintenance)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.market_index, r.input.deposit, r.input.debt))
        .collect()
}

async fn market_index(env: &Env, m: &MarketFixture) -> u16 {
    env.market(m).await.market_index
}

fn account_mode(min_profit: &str) -> KeeperConfig {
    KeeperConfig {
        mode: Mode::Account,
        profit: ProfitConfig {
            min_profit_usd: units::parse_usd(min_profit).unwrap(),
            ..ProfitConfig::default()
        },
        ..KeeperConfig::default()
    }
}

#[tokio::test]
async fn account_mode_settles_in_the_bots_margin_account() {
    let env = Env::new().await;
    let (victim, _) = env.underwater().await;
    // The bot holds 300 USDC of collateral in its margin account and no tokens at all.
    let bot = env.depositor(&env.usdc, 300_000_000, 0).await;
    let (sol, usdc) = (
        market_index(&env, &env.sol).await,
        market_index(&env, &env.usdc).await,
    );
    assert_eq!(
        balances(&env, &bot.account).await,
        vec![(usdc, 300_000_000, 0)]
    );

    // Wallet mode cannot fund it: the bot holds no USDC tokens.
    let bot_kp = bot.key.insecure_clone();
    let wallet = Keeper::new(&env.chain, &bot_kp, KeeperConfig::default());
    let before = data(&env, &victim).await;
    let s = wallet.pass().await.unwrap();
    assert_eq!((s.liquidatable, s.liquidations), (1, 0), "{s:?}");
    assert_eq!(s.skipped.insufficient_inventory, 1, "{s:?}");
    assert_eq!(data(&env, &victim).await, before);

    // Account mode: `liquidate_to_account`, settled in the margin account.
    let keeper = Keeper::new(&env.chain, &bot_kp, account_mode("0"));
    assert_eq!(keeper.liquidator_account(), bot.account);
    let s: PassSummary = keeper.pass().await.unwrap();
    assert_eq!(s.mode, "account");
    assert_eq!(
        (s.liquidated, s.liquidations, s.failures),
        (1, 1, 0),
        "{s:?}"
    );
    assert_eq!(s.skipped.total(), 0, "{s:?}");
    let e = &s.events[0];
    assert_eq!((e.asset_index, e.liab_index), (sol, usdc));
    assert!(
        e.repaid > 300_000_000,
        "the repay exceeds the bot's deposit: {e:?}"
    );
    assert!(e.end_after >= 0.0, "the victim is back at target: {e:?}");
    // The bot's account: the seized collateral as a deposit, the repay drawn from its USDC
    // deposit first and the rest as debt (share rounding: one native unit).
    let after = balances(&env, &bot.account).await;
    let pos = |m: u16| after.iter().find(|(i, _, _)| *i == m).copied().unwrap();
    let (_, sol_dep, sol_debt) = pos(sol);
    assert!(
        sol_dep.abs_diff(e.to_liquidator) <= 1 && sol_debt == 0,
        "{after:?} {e:?}"
    );
    let (_, usdc_dep, usdc_debt) = pos(usdc);
    assert_eq!(usdc_dep, 0, "{after:?}");
    assert!(
        usdc_debt.abs_diff(e.repaid - 300_000_000) <= 1,
        "{after:?} {e:?}"
    );
    // No token moved through the bot.
    for m in [&env.sol, &env.usdc] {
        assert_eq!(env.balance(&bot.token(m)).await, 0);
    }
    // The victim: the repay and the seizure, nothing else.
    let v = balances(&env, &victim.account).await;
    let vpos = |m: u16| v.iter().find(|(i, _, _)| *i == m).copied().unwrap();
    assert_eq!(vpos(usdc).2, 750_000_000 - e.repaid);
    assert_eq!(vpos(sol).1, 10_000_000_000 - e.seized);
    // The next pass finds nothing to do.
    let s = keeper.pass().await.unwrap();
    assert_eq!((s.liquidatable, s.liquidations), (0, 0));
}

/// Account mode when the bot's collateral carries only part of the plan (50 USDC against the
/// 600 the full plan repays): the keeper's binary search on `max_repay` sends the largest
/// liquidation after which the bot's own account stays init-healthy, and it lands: the bot's
/// init health ends within a cent of zero, the victim is liquidated part of the way.
#[tokio::test]
async fn account_mode_takes_what_the_bots_collateral_carries() {
    let env = Env::new().await;
    let (victim, _) = env.underwater().await;
    let full = view(&env, &victim)
        .await
        .plans
        .into_iter()
        .find(|p| p.asset_market_index == 0 && p.liab_market_index == 1)
        .expect("a plan")
        .repay;
    assert_eq!(full, 600_000_000);
    let bot = env.depositor(&env.usdc, 50_000_000, 0).await;
    let keeper = Keeper::new(&env.chain, &bot.key, account_mode("0"));
    let s = keeper.pass().await.unwrap();
    assert_eq!(
        (s.liquidated, s.liquidations, s.failures),
        (1, 1, 0),
        "{s:?}"
    );
    let e = &s.events[0];
    assert!(
        e.repaid > 50_000_000 && e.repaid < full,
        "more than the bot's deposit, less than the full plan: {e:?}"
    );
    assert!(
        e.end_after < 0.0,
        "the victim is still short of target: {e:?}"
    );
    let init = health::fixed(view(&env, &bot).await.init);
    assert!(
        init >= I80F48::ZERO && init < I80F48::from_num(0.01),
        "the bot's init health is used up, not overdrawn: {init}"
    );
}

#[tokio::test]
async fn account_mode_without_a_margin_account_says_how_to_make_one() {
    let env = Env::new().await;
    env.underwater().await;
    let bot = Keypair::new();
    let keeper = Keeper::new(&env.chain, &bot, account_mode("0"));
    let err = format!("{:#}", keeper.pass().await.unwrap_err());
    assert!(
        err.contains("scalpel account create --index 0") && err.contains("deposit"),
        "{err}"
    );
    assert_eq!(
        keeper.liquidator_account(),
        pda::margin_account(&bot.pubkey(), 0)
    );
}

#[tokio::test]
async fn the_profit_check_skips_below_the_threshold_and_sends_above() {
    let env = Env::new().await;
    let (victim, _) = env.underwater().await;
    let bot = env.depositor(&env.usdc, 10_000_000_000, 0).await;
    let before = data(&env, &victim).await;

    // The estimate the check makes, from the keeper's own plan (no priority fee: the estimate
    // does not depend on the simulation's units).
    let probe = Keeper::new(&env.chain, &bot.key, account_mode("0"));
    let markets = env.markets().await;
    let view = probe.view(&markets).await.unwrap();
    let (_, targets, _) = probe.scan(&view).await.unwrap();
    assert_eq!(targets.len(), 1);
    let funds = probe.funds(&markets).await.unwrap();
    let plan = probe.plan(&view, &targets[0], &funds);
    assert_eq!(plan.steps.len(), 1, "{plan:?}");
    // The test markets' tickers are not "SOL": without `sol_symbol` the fees are valued at the
    // configured SOL price; naming the SOL market's ticker reads its oracle (SOL is at 80).
    let fallback = profit::fee_price(&ProfitConfig::default(), &markets, &view.oracles, view.now);
    assert_eq!(
        (fallback.price, fallback.from_oracle),
        (I80F48::from_num(200), false)
    );
    let cfg = ProfitConfig {
        sol_symbol: env.market(&env.sol).await.symbol().to_string(),
        ..ProfitConfig::default()
    };
    let sol = profit::fee_price(&cfg, &markets, &view.oracles, view.now);
    assert_eq!((sol.price, sol.from_oracle), (I80F48::from_num(80), true));
    let expected = profit::estimate(plan.steps.iter().map(|p| &p.gain), &cfg, sol, 1, None)
        .unwrap()
        .profit;
    assert!(
        expected > I80F48::from_num(5),
        "a bonus worth sending: {expected}"
    );

    // The threshold equal to the profit: skipped (strictly above is required), every pass,
    // without backing off (prices move), and the summary says why.
    let at = |min: I80F48| KeeperConfig {
        profit: ProfitConfig {
            min_profit_usd: min,
            ..cfg.clone()
        },
        ..account_mode("0")
    };
    let strict = Keeper::new(&env.chain, &bot.key, at(expected));
    for _ in 0..2 {
        let s = strict.pass().await.unwrap();
        assert_eq!(s.liquidations, 0, "{s:?}");
        assert_eq!(s.skipped.unprofitable, 1, "{s:?}");
        assert_eq!(s.skipped.backing_off, 0, "{s:?}");
        assert_eq!(s.skipped.to_string(), "unprofitable=1");
        eprintln!("held back: {}", serde_json::to_string(&s).unwrap());
    }
    assert_eq!(strict.backoff_state(&victim.account), None);
    assert_eq!(data(&env, &victim).await, before);

    // A swap cost of 100% of the collateral received makes any liquidation a loss.
    let mut swap = account_mode("0");
    swap.profit.default_swap_cost_bps = 10_000;
    let s = Keeper::new(&env.chain, &bot.key, swap)
        .pass()
        .await
        .unwrap();
    assert_eq!((s.liquidations, s.skipped.unprofitable), (0, 1), "{s:?}");
    // A per-market swap cost by ticker counts too: the SOL market's.
    let mut swap = account_mode("0");
    let symbol = env.market(&env.sol).await.symbol().to_string();
    swap.profit.swap_cost_bps.insert(symbol, 10_000);
    let s = Keeper::new(&env.chain, &bot.key, swap)
        .pass()
        .await
        .unwrap();
    assert_eq!((s.liquidations, s.skipped.unprofitable), (0, 1), "{s:?}");
    assert_eq!(data(&env, &victim).await, before);

    // One step below the profit: sent, and the summary books that profit.
    let s = Keeper::new(&env.chain, &bot.key, at(expected - I80F48::DELTA))
        .pass()
        .await
        .unwrap();
    assert_eq!((s.liquidated, s.liquidations), (1, 1), "{s:?}");
    assert_eq!(s.skipped.total(), 0, "{s:?}");
    assert!(
        (s.profit_usd - expected.to_num::<f64>()).abs() < 1e-9,
        "{} vs {expected}",
        s.profit_usd
    );
    assert!(s.profit_usd < s.bonus_usd, "the fee is deducted: {s:?}");
    eprintln!("sent: {}", serde_json::to_string(&s).unwrap());
}

#[tokio::test]
async fn an_account_the_bot_keeps_failing_on_backs_off_for_growing_numbers_of_passes() {
    let env = Env::new().await;
    let (victim, _) = env.underwater().await;
    // Wallet mode with no USDC: every attempt fails for lack of inventory.
    let bot = wallet_bot(&env).await;
    let keeper = Keeper::new(
        &env.chain,
        &bot,
        KeeperConfig {
            max_backoff_passes: 64,
            ..KeeperConfig::default()
        },
    );
    let mut attempted = Vec::new();
    for pass in 1..=11 {
        let s = keeper.pass().await.unwrap();
        assert_eq!(s.liquidatable, 1);
        assert_eq!(s.liquidations, 0);
        match (s.skipped.insufficient_inventory, s.skipped.backing_off) {
            (1, 0) => attempted.push(pass),
            (0, 1) => {}
            other => panic!("pass {pass}: {other:?} {s:?}"),
        }
    }
    // Sits out 1, 2, then 4 passes after its 1st, 2nd and 3rd failure.
    assert_eq!(attempted, vec![1, 3, 6, 11]);
    assert_eq!(keeper.backoff_state(&victim.account), Some((4, 8)));

    // The bot's funds change: the wait ends at once and the liquidation lands.
    env.mint_usdc_to(&bot.pubkey(), 10_000_000_000).await;
    let s = keeper.pass().await.unwrap();
    assert_eq!((s.liquidated, s.liquidations), (1, 1), "{s:?}");
    assert_eq!(s.skipped.backing_off, 0);
    assert_eq!(keeper.backoff_state(&victim.account), None);
}
