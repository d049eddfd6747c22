//! Program bugs the fuzzer found, fixed since: each as the shrunk fuzz sequence, replayed, and as
//! a minimal reproduction through the ordinary test harness.

use super::actions::Action;
use super::{replay, Case, Initial};
use crate::program_test::*;
use scalpel_client::ix;

/// `withdraw(u64::MAX)` in a market where the account holds a debt failed with `MathOverflow`
/// (`deposit_balance` of negative shares) instead of `InsufficientDeposit`, as the fuzzer found
/// it: trader 0 deposits 20% of its SOL, borrows half its room in USDC, then withdraws
/// "everything" (`u64::MAX`) from USDC.
#[test]
fn fuzz_withdraw_all_from_a_debt_position() {
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

/// Minimal reproduction: `withdraw` computed the "whole deposit" with `deposit_balance` of the
/// position's shares before checking that the position is a deposit; negative (debt) shares
/// made `floor_u64` fail. Any other amount is refused with `InsufficientDeposit`, and so is
/// `u64::MAX`.
#[tokio::test]
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
