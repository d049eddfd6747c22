//! Every bad-input class of SPEC section 11 that applies to the core instructions: each fails
//! with its named error and leaves every account byte and balance unchanged.

use super::user_flows::borrower_setup;
use crate::program_test::*;
use scalpel::params::MarketParams;
use scalpel_client::{ix, pda, pyth::PullPrice, token};
use solana_sdk::{
    instruction::Instruction,
    pubkey::Pubkey,
    signature::{Keypair, Signer},
};

fn unsigned(mut ix: Instruction, key: &Pubkey) -> Instruction {
    for m in ix.accounts.iter_mut() {
        if m.pubkey == *key {
            m.is_signer = false;
        }
    }
    ix
}

fn replace(mut ix: Instruction, from: &Pubkey, to: &Pubkey) -> Instruction {
    for m in ix.accounts.iter_mut() {
        if m.pubkey == *from {
            m.pubkey = *to;
        }
    }
    ix
}

#[tokio::test]
async fn governance_inputs_are_checked() {
    let env = Env::new().await;
    let mint = token::create_mint(&env.chain, &env.admin, &env.mint_authority.pubkey(), 6)
        .await
        .unwrap();
    let oracle = Pubkey::new_unique();
    let feed = [9; 32];
    let m = MarketFixture {
        mint,
        market: pda::market(&mint),
        oracle,
        feed_id: feed,
    };
    env.set_price(&m, "2", "0").await;
    let add_named = |admin: &Pubkey, symbol: [u8; 16], params: MarketParams| {
        ix::market_add(
            admin,
            &env.admin.pubkey(),
            symbol,
            &mint,
            &oracle,
            1,
            feed,
            params,
        )
    };
    let add = |admin: &Pubkey, params: MarketParams| add_named(admin, test_symbol(&feed), params);

    // A ticker that is empty, has a space or a control byte, or bytes after its padding.
    let mut after_padding = *b"SOL\0\0\0\0\0\0\0\0\0\0\0\0\0";
    after_padding[5] = b'X';
    for symbol in [
        [0u8; 16],
        *b"S L\0\0\0\0\0\0\0\0\0\0\0\0\0",
        *b"SOL\n\0\0\0\0\0\0\0\0\0\0\0\0",
        after_padding,
    ] {
        env.expect_rejected(
            &[add_named(&env.admin.pubkey(), symbol, sol_params())],
            &[],
            "InvalidSymbol",
        )
        .await;
    }

    // Non-admin signer.
    let mallory = Keypair::new();
    env.expect_rejected(
        &[add(&mallory.pubkey(), sol_params())],
        &[&mallory],
        "Unauthorized",
    )
    .await;
    // Out-of-bound parameters, each named.
    let bad = [
        (
            MarketParams {
                asset_weight_init_bps: 9_500,
                ..sol_params()
            },
            "InvalidAssetWeights",
        ),
        (
            MarketParams {
                liab_weight_maint_bps: 9_000,
                ..sol_params()
            },
            "InvalidLiabilityWeights",
        ),
        (
            MarketParams {
                liquidation_penalty_bps: 2_600,
                ..sol_params()
            },
            "InvalidLiquidationPenalty",
        ),
        (
            MarketParams {
                liquidation_penalty_bps: 1_200,
                ..sol_params()
            },
            "PenaltyTooHighForWeight",
        ),
        (
            MarketParams {
                max_age_liquidation_secs: 10,
                ..sol_params()
            },
            "InvalidOracleAge",
        ),
        (
            MarketParams {
                max_conf_bps: 5_000,
                ..sol_params()
            },
            "InvalidConfidenceLimit",
        ),
        (
            MarketParams {
                optimal_utilization_bps: 10_000,
                ..sol_params()
            },
            "InvalidInterestCurve",
        ),
    ];
    for (p, name) in bad {
        env.expect_rejected(&[add(&env.admin.pubkey(), p)], &[], name)
            .await;
    }
    // Wrong PDA for a vault.
    let wrong_vault = replace(
        add(&env.admin.pubkey(), sol_params()),
        &pda::vault(&m.market),
        &pda::vault(&env.sol.market),
    );
    env.expect_rejected(&[wrong_vault], &[], "ConstraintSeeds")
        .await;
    // Oracle: feed id differs, Partial verification, wrong owner.
    let wrong_feed = ix::market_add(
        &env.admin.pubkey(),
        &env.admin.pubkey(),
        test_symbol(&[0xee; 32]),
        &mint,
        &oracle,
        1,
        [8; 32],
        sol_params(),
    );
    env.expect_rejected(&[wrong_feed], &[], "OracleFeedMismatch")
        .await;
    let now = env.now().await;
    env.set_pull(
        &m,
        PullPrice {
            feed_id: feed,
            price: 200_000_000,
            conf: 0,
            expo: EXPO,
            publish_time: now,
            partial_signatures: Some(5),
            ema: None,
        },
    )
    .await;
    env.expect_rejected(
        &[add(&env.admin.pubkey(), sol_params())],
        &[],
        "OracleNotFullyVerified",
    )
    .await;
    // A legacy kind pointed at a pull account: wrong owner for that kind.
    env.set_price(&m, "2", "0").await;
    let legacy_kind = ix::market_add(
        &env.admin.pubkey(),
        &env.admin.pubkey(),
        test_symbol(&[0xee; 32]),
        &mint,
        &oracle,
        0,
        feed,
        sol_params(),
    );
    env.expect_rejected(&[legacy_kind], &[], "OracleWrongOwner")
        .await;
    let bad_kind = ix::market_add(
        &env.admin.pubkey(),
        &env.admin.pubkey(),
        test_symbol(&[0xee; 32]),
        &mint,
        &oracle,
        7,
        feed,
        sol_params(),
    );
    env.expect_rejected(&[bad_kind], &[], "InvalidOracleKind")
        .await;
    // And the good one lands.
    env.send(&[add(&env.admin.pubkey(), sol_params())], &[])
        .await
        .unwrap();
    assert_eq!(env.protocol().await.market_count, 3);
    // Listing the same mint twice fails at account creation (already in use).
    assert!(env
        .send(&[add(&env.admin.pubkey(), sol_params())], &[])
        .await
        .is_err());
}

#[tokio::test]
async fn account_and_deposit_inputs_are_checked() {
    let env = Env::new().await;
    let u = env
        .user(&[(&env.sol, 5_000_000_000), (&env.usdc, 1_000_000)])
        .await;
    let other = env.user(&[(&env.sol, 1_000_000_000)]).await;
    let dep = ix::deposit(&u.mv(&env.sol), 1_000_000_000);

    // Missing signer.
    env.expect_rejected(
        &[unsigned(dep.clone(), &u.key.pubkey())],
        &[],
        "AccountNotSigner",
    )
    .await;
    // Someone else's margin account.
    env.expect_rejected(
        &[replace(dep.clone(), &u.account, &other.account)],
        &[&u.key],
        "NotAccountOwner",
    )
    .await;
    // Wrong owner: a token account where the margin account goes.
    env.expect_rejected(
        &[replace(dep.clone(), &u.account, &u.token(&env.sol))],
        &[&u.key],
        "AccountOwnedByWrongProgram",
    )
    .await;
    // Wrong account type: the protocol where a market goes.
    env.expect_rejected(
        &[replace(dep.clone(), &env.sol.market, &pda::protocol())],
        &[&u.key],
        "AccountDiscriminatorMismatch",
    )
    .await;
    // Substituted vault: USDC's vault for the SOL market.
    env.expect_rejected(
        &[replace(dep.clone(), &env.sol.vault(), &env.usdc.vault())],
        &[&u.key],
        "WrongVault",
    )
    .await;
    // The user's USDC token account for a SOL deposit.
    env.expect_rejected(
        &[replace(
            dep.clone(),
            &u.token(&env.sol),
            &u.token(&env.usdc),
        )],
        &[&u.key],
        "WrongMint",
    )
    .await;
    // Zero and more than the wallet holds.
    env.expect_rejected(&[ix::deposit(&u.mv(&env.sol), 0)], &[&u.key], "ZeroAmount")
        .await;
    env.expect_rejected(
        &[ix::deposit(&u.mv(&env.sol), u64::MAX)],
        &[&u.key],
        "TokenError::InsufficientFunds",
    )
    .await;
    // Wrong PDA on account creation.
    let mut create = ix::account_create(&u.key.pubkey(), 1);
    create = replace(
        create,
        &pda::margin_account(&u.key.pubkey(), 1),
        &pda::margin_account(&u.key.pubkey(), 2),
    );
    env.expect_rejected(&[create], &[&u.key], "ConstraintSeeds")
        .await;

    // Close: not empty, then not owner.
    env.send(&[dep], &[&u.key]).await.unwrap();
    env.expect_rejected(
        &[ix::account_close(&u.key.pubkey(), &u.account, &[])],
        &[&u.key],
        "AccountNotEmpty",
    )
    .await;
    env.expect_rejected(
        &[ix::account_close(&other.key.pubkey(), &u.account, &[])],
        &[&other.key],
        "NotAccountOwner",
    )
    .await;
}

#[tokio::test]
async fn deposit_and_borrow_caps() {
    let env = Env::new().await;
    let capped = MarketParams {
        deposit_cap: 1_000_000,
        borrow_cap: 100_000,
        ..usdc_params()
    };
    let m = env.add_pull_market(6, [3; 32], "1", capped).await;
    let u = env.user(&[(&env.sol, 10_000_000_000)]).await;
    let t = token::create_token_account(&env.chain, &env.admin, &m.mint, &u.key.pubkey())
        .await
        .unwrap();
    token::mint_to(
        &env.chain,
        &env.admin,
        &env.mint_authority,
        &m.mint,
        &t,
        2_000_000,
    )
    .await
    .unwrap();
    let mv = scalpel_client::ix::TokenMove {
        owner: u.key.pubkey(),
        margin_account: u.account,
        mint: m.mint,
        user_token: t,
    };
    env.expect_rejected(
        &[ix::deposit(&mv, 1_000_001)],
        &[&u.key],
        "DepositCapExceeded",
    )
    .await;
    env.send(&[ix::deposit(&mv, 1_000_000)], &[&u.key])
        .await
        .unwrap();
    // Borrow from it with SOL collateral in a second account.
    let b = env.user(&[(&env.sol, 10_000_000_000)]).await;
    env.send(&[ix::deposit(&b.mv(&env.sol), 10_000_000_000)], &[&b.key])
        .await
        .unwrap();
    let tb = token::create_token_account(&env.chain, &env.admin, &m.mint, &b.key.pubkey())
        .await
        .unwrap();
    let bmv = scalpel_client::ix::TokenMove {
        owner: b.key.pubkey(),
        margin_account: b.account,
        mint: m.mint,
        user_token: tb,
    };
    let acc = env.margin(&b.account).await;
    let markets = env.markets().await;
    let pairs = scalpel_client::health::pairs_after(&acc, &markets, Some(2), None).unwrap();
    env.expect_rejected(
        &[ix::borrow(&bmv, 100_001, &pairs)],
        &[&b.key],
        "BorrowCapExceeded",
    )
    .await;
    env.send(&[ix::borrow(&bmv, 100_000, &pairs)], &[&b.key])
        .await
        .unwrap();
}

#[tokio::test]
async fn borrow_and_withdraw_inputs_are_checked() {
    let env = Env::new().await;
    let (lender, b) = borrower_setup(&env).await;
    let pairs = env.pairs(&b, None, None).await;
    let mv = b.mv(&env.usdc);

    // Health: 300 more USDC would make init = 800 − 800·1.05 < 0.
    env.expect_rejected(
        &[ix::borrow(&mv, 300_000_000, &pairs)],
        &[&b.key],
        "InsufficientHealth",
    )
    .await;
    // Withdrawing 5 SOL: init = 400 − 525 < 0.
    env.expect_rejected(
        &[ix::withdraw(&b.mv(&env.sol), 5_000_000_000, &pairs)],
        &[&b.key],
        "InsufficientHealth",
    )
    .await;
    // Overflow-sized and over-balance amounts.
    env.expect_rejected(
        &[ix::borrow(&mv, u64::MAX, &pairs)],
        &[&b.key],
        "InsufficientLiquidity",
    )
    .await;
    env.expect_rejected(
        &[ix::withdraw(&b.mv(&env.sol), u64::MAX - 1, &pairs)],
        &[&b.key],
        "InsufficientDeposit",
    )
    .await;
    env.expect_rejected(
        &[ix::withdraw(&b.mv(&env.sol), 10_000_000_001, &pairs)],
        &[&b.key],
        "InsufficientDeposit",
    )
    .await;
    // Borrowing SOL where the account holds a SOL deposit.
    env.expect_rejected(
        &[ix::borrow(&b.mv(&env.sol), 1, &pairs)],
        &[&b.key],
        "BorrowAgainstOwnDeposit",
    )
    .await;
    // Repay where there is no debt.
    env.expect_rejected(
        &[ix::repay(&lender.mv(&env.sol), 1)],
        &[&lender.key],
        "NoDebt",
    )
    .await;

    // Health accounts: incomplete, duplicated, substituted oracle, substituted market, not a market.
    let small = ix::borrow(&mv, 1_000_000, &pairs[..1]);
    env.expect_rejected(&[small], &[&b.key], "HealthAccountsMismatch")
        .await;
    let dup = vec![pairs[0], pairs[0]];
    env.expect_rejected(
        &[ix::borrow(&mv, 1_000_000, &dup)],
        &[&b.key],
        "HealthAccountsMismatch",
    )
    .await;
    let swapped_oracle = vec![(pairs[0].0, pairs[1].1), pairs[1]];
    env.expect_rejected(
        &[ix::borrow(&mv, 1_000_000, &swapped_oracle)],
        &[&b.key],
        "OracleMismatch",
    )
    .await;
    let swapped_market = vec![pairs[1], pairs[0]];
    env.expect_rejected(
        &[ix::borrow(&mv, 1_000_000, &swapped_market)],
        &[&b.key],
        "HealthAccountsMismatch",
    )
    .await;
    let not_market = vec![(b.token(&env.sol), pairs[0].1), pairs[1]];
    env.expect_rejected(
        &[ix::borrow(&mv, 1_000_000, &not_market)],
        &[&b.key],
        "HealthAccountInvalidMarket",
    )
    .await;

    // Prices: wide, non-positive, Partial, other feed, future, stale.
    let now = env.now().await;
    let base = PullPrice {
        feed_id: env.sol.feed_id,
        price: 10_000_000_000,
        conf: 0,
        expo: EXPO,
        publish_time: now,
        partial_signatures: None,
        ema: None,
    };
    let cases = [
        (
            PullPrice {
                conf: 300_000_000,
                ..base
            },
            "OracleConfidenceTooWide",
        ),
        (PullPrice { price: 0, ..base }, "OraclePriceNonPositive"),
        (PullPrice { price: -5, ..base }, "OraclePriceNonPositive"),
        (
            PullPrice {
                partial_signatures: Some(3),
                ..base
            },
            "OracleNotFullyVerified",
        ),
        (
            PullPrice {
                feed_id: [7; 32],
                ..base
            },
            "OracleFeedMismatch",
        ),
        (
            PullPrice {
                publish_time: now + 61,
                ..base
            },
            "OracleFutureTimestamp",
        ),
        (
            PullPrice {
                publish_time: now - 61,
                ..base
            },
            "OracleStale",
        ),
        (PullPrice { expo: 30, ..base }, "OracleExponentOutOfRange"),
    ];
    for (p, name) in cases {
        env.set_pull(&env.sol, p).await;
        env.expect_rejected(&[ix::borrow(&mv, 1_000_000, &pairs)], &[&b.key], name)
            .await;
    }
    // A price 61 s old is too old to borrow but fine for maintenance views (300 s).
    env.set_pull(
        &env.sol,
        PullPrice {
            publish_time: now - 61,
            ..base
        },
    )
    .await;
    let view = env.chain_simulate_health(&b, &pairs).await;
    assert!(
        view.is_ok(),
        "health_view accepts a 61 s old price: {view:?}"
    );
    // Fresh price again: the same borrow now lands.
    env.set_pull(&env.sol, base).await;
    env.send(&[ix::borrow(&mv, 1_000_000, &pairs)], &[&b.key])
        .await
        .unwrap();
}

impl Env {
    async fn chain_simulate_health(
        &self,
        u: &User,
        pairs: &[(Pubkey, Pubkey)],
    ) -> Result<(), String> {
        use scalpel_client::Chain;
        match self
            .chain
            .simulate(&[ix::health_view(&u.account, pairs)], &[&self.admin])
            .await
        {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(f)) => Err(f.name),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// The remaining reachable refusals: too many decimals, a full account, withdrawing while being
/// liquidated, paused withdrawals, and a liquidation whose asset market the account does not hold.
#[tokio::test]
async fn remaining_refusals_are_named() {
    let env = Env::new().await;
    let admin = env.admin.pubkey();
    // A 13-decimal mint is beyond MAX_DECIMALS.
    let mint = token::create_mint(&env.chain, &env.admin, &env.mint_authority.pubkey(), 13)
        .await
        .unwrap();
    let oracle = Pubkey::new_unique();
    let m = MarketFixture {
        mint,
        market: pda::market(&mint),
        oracle,
        feed_id: [6; 32],
    };
    env.set_price(&m, "1", "0").await;
    env.expect_rejected(
        &[ix::market_add(
            &admin,
            &admin,
            test_symbol(&[0xee; 32]),
            &mint,
            &oracle,
            1,
            [6; 32],
            sol_params(),
        )],
        &[],
        "InvalidDecimals",
    )
    .await;

    // Eight positions fill the account; a ninth market has no slot.
    let mut extra = Vec::new();
    for i in 0..7u8 {
        extra.push(
            env.add_pull_market(6, [100 + i; 32], "1", usdc_params())
                .await,
        );
    }
    let u = env.user(&[(&env.sol, 1_000_000_000)]).await;
    env.send(&[ix::deposit(&u.mv(&env.sol), 1_000)], &[&u.key])
        .await
        .unwrap();
    let mut tokens = Vec::new();
    for m in &extra {
        let t = token::create_token_account(&env.chain, &env.admin, &m.mint, &u.key.pubkey())
            .await
            .unwrap();
        token::mint_to(
            &env.chain,
            &env.admin,
            &env.mint_authority,
            &m.mint,
            &t,
            1_000,
        )
        .await
        .unwrap();
        tokens.push(t);
    }
    let mv = |m: &MarketFixture, t: Pubkey| ix::TokenMove {
        owner: u.key.pubkey(),
        margin_account: u.account,
        mint: m.mint,
        user_token: t,
    };
    for (m, t) in extra.iter().zip(&tokens).take(6) {
        env.send(&[ix::deposit(&mv(m, *t), 10)], &[&u.key])
            .await
            .unwrap();
    }
    token::mint_to(
        &env.chain,
        &env.admin,
        &env.mint_authority,
        &env.usdc.mint,
        &u.token(&env.usdc),
        1_000,
    )
    .await
    .unwrap();
    env.send(&[ix::deposit(&u.mv(&env.usdc), 10)], &[&u.key])
        .await
        .unwrap();
    assert_eq!(env.margin(&u.account).await.active_positions().count(), 8);
    env.expect_rejected(
        &[ix::deposit(&mv(&extra[6], tokens[6]), 10)],
        &[&u.key],
        "NoFreePositionSlot",
    )
    .await;

    // Paused withdrawals (guardian), then lifted by the admin.
    let g = Keypair::new();
    env.send(&[ix::guardian_set(&admin, &g.pubkey())], &[])
        .await
        .unwrap();
    env.send(
        &[ix::guardian_tighten(
            &g.pubkey(),
            Some(&env.sol.mint),
            scalpel::params::GuardianAction::PauseMarket {
                flags: scalpel::state::MARKET_PAUSE_WITHDRAWALS,
            },
        )],
        &[&g],
    )
    .await
    .unwrap();
    let pairs = env.pairs(&u, None, None).await;
    env.expect_rejected(
        &[ix::withdraw(&u.mv(&env.sol), 1, &pairs)],
        &[&u.key],
        "WithdrawalsPaused",
    )
    .await;
    env.send(&[ix::admin_set_flags(&admin, Some(&env.sol.mint), 0)], &[])
        .await
        .unwrap();

    // A partially liquidated account below init health cannot withdraw (its health, not its
    // flag, refuses it); a liquidation needs the account to hold the asset market it names.
    let (victim, liq) = env.underwater().await;
    let pairs = env.pairs(&victim, None, None).await;
    let a = liquidate_accounts(&victim, &liq, &env.sol, &env.usdc);
    env.send(&[ix::liquidate(&a, 100_000_000, &pairs)], &[&liq.key])
        .await
        .unwrap();
    assert_eq!(env.margin(&victim.account).await.being_liquidated, 1);
    env.expect_rejected(
        &[ix::withdraw(&victim.mv(&env.sol), 1, &pairs)],
        &[&victim.key],
        "InsufficientHealth",
    )
    .await;
    let liq_extra =
        token::create_token_account(&env.chain, &env.admin, &extra[0].mint, &liq.key.pubkey())
            .await
            .unwrap();
    let other = ix::LiquidateAccounts {
        asset_mint: extra[0].mint,
        liquidator_asset_token: liq_extra,
        ..a
    };
    env.expect_rejected(
        &[ix::liquidate(&other, u64::MAX, &pairs)],
        &[&liq.key],
        "NoCollateral",
    )
    .await;
}
