//! The attack checklist classes that the other cases do not cover (issue 8, item 10): each is
//! refused with a named error and changes nothing, or (a donation) changes no share price.

use super::sequences::liquidate_sol_usdc;
use crate::program_test::*;
use scalpel::params::{GuardianAction, MarketParams, ProtocolParams};
use scalpel_client::{ix, pda, Chain};
use solana_sdk::{
    instruction::Instruction,
    pubkey::Pubkey,
    signature::{Keypair, Signer},
};
use solana_system_interface::instruction as system_instruction;

/// A funded stranger that pays the fees, so that no role key signs by being the fee payer.
async fn fee_payer(env: &Env) -> Keypair {
    let k = Keypair::new();
    env.send(
        &[system_instruction::transfer(
            &env.admin.pubkey(),
            &k.pubkey(),
            1_000_000_000,
        )],
        &[],
    )
    .await
    .expect("fund the fee payer");
    k
}

/// Sends `ixs` paid by `payer` (plus `signers`), expects the failure `name`, and checks that no
/// account but the payer's changed.
async fn expect_rejected_paid_by(
    env: &Env,
    payer: &Keypair,
    ixs: &[Instruction],
    signers: &[&Keypair],
    name: &str,
) {
    env.chain.track(ixs);
    let without_payer = |s: Snapshot| -> Vec<_> {
        s.0.into_iter()
            .filter(|(k, _)| *k != payer.pubkey())
            .collect()
    };
    let before = without_payer(env.snapshot().await);
    let mut all = vec![payer];
    all.extend_from_slice(signers);
    match env.chain.send(ixs, &all).await.expect("transport") {
        Ok(_) => panic!("expected {name}, but the transaction succeeded"),
        Err(f) => assert_eq!(f.name, name, "logs: {:#?}", f.logs),
    }
    assert!(
        before == without_payer(env.snapshot().await),
        "a rejected transaction ({name}) changed state"
    );
}

/// `ix` with `key` no longer marked as a signer.
fn unsigned(mut ix: Instruction, key: &Pubkey) -> Instruction {
    for m in ix.accounts.iter_mut().filter(|m| m.pubkey == *key) {
        m.is_signer = false;
    }
    ix
}

/// Every instruction that needs a signature, each sent without it: `AccountNotSigner`, nothing
/// changed.
#[tokio::test]
async fn every_privileged_instruction_needs_its_signer() {
    let env = Env::new().await;
    let payer = fee_payer(&env).await;
    let admin = env.admin.pubkey();
    let guardian = Keypair::new();
    env.send(&[ix::guardian_set(&admin, &guardian.pubkey())], &[])
        .await
        .unwrap();
    let (victim, liq) = env.underwater().await;
    let next_admin = Keypair::new();
    env.send(&[ix::admin_propose(&admin, &next_admin.pubkey())], &[])
        .await
        .unwrap();
    let pairs = env.pairs(&victim, None, None).await;
    let owner = victim.key.pubkey();
    let mint = token_mint(&env).await;
    let oracle = env.sol.oracle;
    let cases: Vec<(&str, Instruction, Pubkey)> = vec![
        (
            "protocol_init",
            ix::protocol_init(&admin, &admin, ProtocolParams::default()),
            admin,
        ),
        (
            "market_add (admin)",
            ix::market_add(
                &admin,
                &payer.pubkey(),
                test_symbol(&[0xee; 32]),
                &mint,
                &oracle,
                1,
                [1; 32],
                sol_params(),
            ),
            admin,
        ),
        ("account_create", ix::account_create(&owner, 7), owner),
        (
            "account_close",
            ix::account_close(&owner, &victim.account, &[]),
            owner,
        ),
        ("deposit", ix::deposit(&victim.mv(&env.sol), 1), owner),
        (
            "withdraw",
            ix::withdraw(&victim.mv(&env.sol), 1, &pairs),
            owner,
        ),
        (
            "borrow",
            ix::borrow(&victim.mv(&env.usdc), 1, &pairs),
            owner,
        ),
        ("repay", ix::repay(&victim.mv(&env.usdc), 1), owner),
        (
            "liquidate",
            ix::liquidate(
                &liquidate_accounts(&victim, &liq, &env.sol, &env.usdc),
                u64::MAX,
                &pairs,
            ),
            liq.key.pubkey(),
        ),
        (
            "insurance_fund",
            ix::insurance_fund(&liq.key.pubkey(), &liq.token(&env.usdc), &env.usdc.mint, 1),
            liq.key.pubkey(),
        ),
        (
            "admin_propose",
            ix::admin_propose(&admin, &Pubkey::new_unique()),
            admin,
        ),
        (
            "admin_accept",
            ix::admin_accept(&next_admin.pubkey()),
            next_admin.pubkey(),
        ),
        (
            "guardian_set",
            ix::guardian_set(&admin, &Pubkey::new_unique()),
            admin,
        ),
        (
            "params_queue_protocol",
            ix::params_queue_protocol(&admin, ProtocolParams::default()),
            admin,
        ),
        (
            "params_queue_market",
            ix::params_queue_market(
                &admin,
                &env.sol.mint,
                &env.sol.oracle,
                1,
                env.sol.feed_id,
                sol_params(),
            ),
            admin,
        ),
        (
            "params_cancel",
            ix::params_cancel(&guardian.pubkey(), None),
            guardian.pubkey(),
        ),
        (
            "guardian_tighten",
            ix::guardian_tighten(
                &guardian.pubkey(),
                Some(&env.sol.mint),
                GuardianAction::LowerCaps {
                    deposit_cap: 0,
                    borrow_cap: 0,
                },
            ),
            guardian.pubkey(),
        ),
        (
            "admin_set_flags",
            ix::admin_set_flags(&admin, None, 0),
            admin,
        ),
        (
            "treasury_withdraw",
            ix::treasury_withdraw(&admin, &env.usdc.mint, &victim.token(&env.usdc), 1),
            admin,
        ),
    ];
    for (what, ix, signer) in cases {
        println!("{what}: unsigned {signer}");
        expect_rejected_paid_by(
            &env,
            &payer,
            &[unsigned(ix, &signer)],
            &[],
            "AccountNotSigner",
        )
        .await;
    }
    // market_add also needs its payer's signature.
    let add = ix::market_add(
        &admin,
        &payer.pubkey(),
        test_symbol(&[0xee; 32]),
        &mint,
        &oracle,
        1,
        [1; 32],
        sol_params(),
    );
    let other_payer = fee_payer(&env).await;
    expect_rejected_paid_by(
        &env,
        &other_payer,
        &[unsigned(add, &payer.pubkey())],
        &[&env.admin],
        "AccountNotSigner",
    )
    .await;
}

/// A fresh SPL mint (no freeze authority) for listing attempts.
async fn token_mint(env: &Env) -> Pubkey {
    scalpel_client::token::create_mint(&env.chain, &env.admin, &env.mint_authority.pubkey(), 6)
        .await
        .expect("mint")
}

/// Tokens sent straight to a vault are nobody's: no share price moves, no depositor gains,
/// and the next depositor gets exactly the shares it pays for.
#[tokio::test]
async fn a_donation_to_a_vault_changes_no_share_price() {
    let env = Env::new().await;
    let alice = env.lender(1_000_000_000, 0).await;
    let mallory = env.user(&[(&env.usdc, 5_000_000_000)]).await;
    let index = env.market(&env.usdc).await.deposit_index.get();
    let shares = env.margin(&alice.account).await.positions[0].shares();
    let donate = spl_token::instruction::transfer(
        &spl_token::ID,
        &mallory.token(&env.usdc),
        &env.usdc.vault(),
        &mallory.key.pubkey(),
        &[],
        5_000_000_000,
    )
    .unwrap();
    env.send(&[donate], &[&mallory.key]).await.unwrap();
    let m = env.market(&env.usdc).await;
    assert_eq!(m.deposit_index.get(), index);
    assert_eq!(m.total_deposits().unwrap(), 1_000_000_000);
    // Alice can take out what she put in, not a cent of the donation.
    let pairs = env.pairs(&alice, None, Some(&env.usdc)).await;
    env.expect_rejected(
        &[ix::withdraw(&alice.mv(&env.usdc), 1_000_000_001, &pairs)],
        &[&alice.key],
        "InsufficientDeposit",
    )
    .await;
    // A new deposit is priced by the index, not by the vault balance.
    let bob = env.user(&[(&env.usdc, 1_000_000)]).await;
    env.send(&[ix::deposit(&bob.mv(&env.usdc), 1_000_000)], &[&bob.key])
        .await
        .unwrap();
    assert_eq!(
        env.margin(&bob.account).await.positions[0].shares(),
        fixed::types::I80F48::from_num(1_000_000) / index
    );
    assert_eq!(
        env.margin(&alice.account).await.positions[0].shares(),
        shares
    );
}

/// A program posing as SPL Token is refused before any transfer.
#[tokio::test]
async fn a_fake_token_program_is_refused() {
    let env = Env::new().await;
    let u = env.user(&[(&env.usdc, 1_000_000)]).await;
    let mut dep = ix::deposit(&u.mv(&env.usdc), 1_000_000);
    for m in dep
        .accounts
        .iter_mut()
        .filter(|m| m.pubkey == spl_token::ID)
    {
        m.pubkey = anchor_spl::token_2022::ID;
    }
    env.expect_rejected(&[dep], &[&u.key], "InvalidProgramId")
        .await;
}

/// Closing an account and sending lamports back to its address in the same transaction does not
/// revive it: the next instruction on it is refused and the whole transaction changes nothing.
#[tokio::test]
async fn a_closed_account_cannot_be_revived_in_the_same_transaction() {
    let env = Env::new().await;
    let u = env.user(&[(&env.usdc, 1_000_000)]).await;
    let revive = [
        ix::account_close(&u.key.pubkey(), &u.account, &[]),
        system_instruction::transfer(&u.key.pubkey(), &u.account, 10_000_000),
        ix::deposit(&u.mv(&env.usdc), 1_000_000),
    ];
    env.expect_rejected(&revive, &[&u.key], "AccountOwnedByWrongProgram")
        .await;
    // Across transactions too.
    env.send(&revive[..2], &[&u.key])
        .await
        .expect("close, then lamports back");
    env.expect_rejected(&revive[2..], &[&u.key], "AccountOwnedByWrongProgram")
        .await;
}

/// The singleton and a margin account cannot be created twice.
#[tokio::test]
async fn protocol_init_and_account_create_twice_are_refused() {
    let env = Env::new().await;
    let admin = env.admin.pubkey();
    env.expect_rejected(
        &[ix::protocol_init(&admin, &admin, ProtocolParams::default())],
        &[],
        "SystemError::AccountAlreadyInUse",
    )
    .await;
    let u = env.user(&[]).await;
    env.expect_rejected(
        &[ix::account_create(&u.key.pubkey(), 0)],
        &[&u.key],
        "SystemError::AccountAlreadyInUse",
    )
    .await;
    // Listing the same mint twice likewise.
    let again = ix::market_add(
        &admin,
        &admin,
        test_symbol(&[0xee; 32]),
        &env.sol.mint,
        &env.sol.oracle,
        1,
        env.sol.feed_id,
        MarketParams::default(),
    );
    env.expect_rejected(&[again], &[], "SystemError::AccountAlreadyInUse")
        .await;
}

/// A margin account at a valid but non-canonical PDA of the same seeds is refused.
#[tokio::test]
async fn a_non_canonical_bump_is_refused() {
    let env = Env::new().await;
    let u = env.user(&[]).await;
    let owner = u.key.pubkey();
    let index = 3u16.to_le_bytes();
    let (canonical, bump) = Pubkey::find_program_address(
        &[scalpel::constants::MARGIN_SEED, owner.as_ref(), &index],
        &scalpel::ID,
    );
    let other = (0..bump)
        .rev()
        .find_map(|b| {
            Pubkey::create_program_address(
                &[
                    scalpel::constants::MARGIN_SEED,
                    owner.as_ref(),
                    &index,
                    &[b],
                ],
                &scalpel::ID,
            )
            .ok()
        })
        .expect("a non-canonical bump exists");
    let mut create = ix::account_create(&owner, 3);
    for m in create.accounts.iter_mut().filter(|m| m.pubkey == canonical) {
        m.pubkey = other;
    }
    env.expect_rejected(&[create], &[&u.key], "ConstraintSeeds")
        .await;
    // Nor does a liquidation of a real account accept a PDA look-alike market.
    let (victim, liq) = env.underwater().await;
    let pairs = env.pairs(&victim, None, None).await;
    let mut liquidation = ix::liquidate(
        &liquidate_accounts(&victim, &liq, &env.sol, &env.usdc),
        u64::MAX,
        &pairs,
    );
    let fake = pda::market(&Pubkey::new_unique());
    for m in liquidation.accounts.iter_mut().take(4) {
        if m.pubkey == env.sol.market {
            m.pubkey = fake;
        }
    }
    env.expect_rejected(&[liquidation], &[&liq.key], "AccountOwnedByWrongProgram")
        .await;
    // The real one goes through.
    liquidate_sol_usdc(&env, &victim, &liq, u64::MAX).await;
}
