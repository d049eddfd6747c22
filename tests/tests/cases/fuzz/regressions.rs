//! Program bugs the fuzzer found: each as the shrunk fuzz sequence, replayed with the known-bug
//! tolerances off, and as a minimal reproduction through the ordinary test harness. Both are
//! ignored until the program is fixed; then they pass, lose their `#[ignore]`, and the bug's
//! tolerance in `actions.rs` (the default run's) goes.

use super::actions::{Action, WITHDRAW_ALL_FROM_DEBT};
use super::{replay, Case, Initial};
use crate::program_test::*;
use scalpel_client::ix;

/// [`WITHDRAW_ALL_FROM_DEBT`], as the fuzzer found it: trader 0 deposits 20% of its SOL,
/// borrows half its room in USDC, then withdraws "everything" (`u64::MAX`) from USDC.
#[test]
#[ignore = "program bug: withdraw(u64::MAX) from a debt position fails with MathOverflow, not InsufficientDeposit"]
fn fuzz_withdraw_all_from_a_debt_position() {
    assert!(!WITHDRAW_ALL_FROM_DEBT.is_empty());
    replay(Case {
        open: 0b00001,
        initial: vec![
            Some(Initial {
                market: 0,
                deposit_bps: 2_000,
                borrow_bps: Some(5_000),
            }),
            None,
            None,
            None,
            None,
        ],
        actions: vec![Action::Withdraw {
            user: 0,
            market: 1,
            bps: None,
            pick: false,
        }],
    });
}

/// Minimal reproduction of [`WITHDRAW_ALL_FROM_DEBT`]: `withdraw` computes the "whole deposit"
/// with `deposit_balance` of the position's shares before checking that the position is a
/// deposit; negative (debt) shares make `floor_u64` fail. Any other amount is refused with
/// `InsufficientDeposit`, and so should `u64::MAX` be.
#[tokio::test]
#[ignore = "program bug: withdraw(u64::MAX) from a debt position fails with MathOverflow, not InsufficientDeposit"]
async fn withdraw_all_from_a_debt_position_is_insufficient_deposit() {
    let env = Env::new().await;
    env.lender(100_000_000_000, 0).await;
    let b = env.borrower(10_000_000_000, 100_000_000).await;
    let pairs = env.pairs(&b, None, None).await;
    env.expect_rejected(
        &[ix::withdraw(&b.mv(&env.usdc), 1, &pairs)],
        &[&b.key],
        "InsufficientDeposit",
    )
    .await;
    env.expect_rejected(
        &[ix::withdraw(&b.mv(&env.usdc), u64::MAX, &pairs)],
        &[&b.key],
        "InsufficientDeposit",
    )
    .await;
}
