//! Balances as shares of a market's indices: conversions round against the user (deposits and
//! repayments floor the shares credited, withdrawals and borrows ceil the shares charged), so a
//! round trip never gains.

use super::fixed::*;

/// Native deposit balance of `shares` at `deposit_index`, floored.
pub fn deposit_balance(shares: I80F48, deposit_index: I80F48) -> MathResult<u64> {
    floor_u64(shares.safe_mul(deposit_index)?)
}

/// Native debt of `shares` (positive) at `borrow_index`, ceiled.
pub fn debt_balance(shares: I80F48, borrow_index: I80F48) -> MathResult<u64> {
    ceil_u64(mul_ceil(shares, borrow_index)?)
}

/// Effect of an operation on one position and on its market's share totals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShareChange {
    /// The position's new signed shares (positive deposit, negative debt).
    pub new_shares: I80F48,
    /// Change of the market's total deposit shares.
    pub deposit_shares_delta: I80F48,
    /// Change of the market's total borrow shares.
    pub borrow_shares_delta: I80F48,
    /// Native tokens actually moved (repay may take less than asked).
    pub amount: u64,
}

/// Deposit `amount`: repays any debt in the position first, the rest becomes deposit shares.
pub fn deposit(
    shares: I80F48,
    amount: u64,
    deposit_index: I80F48,
    borrow_index: I80F48,
) -> MathResult<ShareChange> {
    let mut change = ShareChange {
        new_shares: shares,
        deposit_shares_delta: I80F48::ZERO,
        borrow_shares_delta: I80F48::ZERO,
        amount,
    };
    let mut left = amount;
    if shares < I80F48::ZERO {
        let r = repay(shares, amount, borrow_index)?;
        change.new_shares = r.new_shares;
        change.borrow_shares_delta = r.borrow_shares_delta;
        left = amount.safe_sub(r.amount)?;
    }
    if left > 0 {
        if deposit_index <= I80F48::ZERO {
            return Err(math_err());
        }
        let minted = fx(left).safe_div(deposit_index)?;
        change.new_shares = change.new_shares.safe_add(minted)?;
        change.deposit_shares_delta = minted;
    }
    Ok(change)
}

/// Withdraw exactly `amount` of a deposit; withdrawing the whole floored balance burns every
/// share so no dust share is left behind.
pub fn withdraw(
    shares: I80F48,
    amount: u64,
    deposit_index: I80F48,
) -> MathResult<Option<ShareChange>> {
    if shares <= I80F48::ZERO {
        return Ok(None);
    }
    let balance = deposit_balance(shares, deposit_index)?;
    if amount > balance {
        return Ok(None);
    }
    let burned = if amount == balance {
        shares
    } else {
        div_ceil(fx(amount), deposit_index)?.min(shares)
    };
    Ok(Some(ShareChange {
        new_shares: shares.safe_sub(burned)?,
        deposit_shares_delta: I80F48::ZERO.safe_sub(burned)?,
        borrow_shares_delta: I80F48::ZERO,
        amount,
    }))
}

/// Borrow `amount` into a position with no deposit; the debt shares are ceiled.
pub fn borrow(
    shares: I80F48,
    amount: u64,
    borrow_index: I80F48,
) -> MathResult<Option<ShareChange>> {
    if shares > I80F48::ZERO {
        return Ok(None);
    }
    let minted = div_ceil(fx(amount), borrow_index)?;
    Ok(Some(ShareChange {
        new_shares: shares.safe_sub(minted)?,
        deposit_shares_delta: I80F48::ZERO,
        borrow_shares_delta: minted,
        amount,
    }))
}

/// Takes on `amount` of debt in a position that may hold a deposit: the deposit is drawn down
/// first (shares burned rounded up, as a withdrawal), and what it does not cover becomes debt
/// (shares minted rounded up, as a borrow), both against the account. How a liquidator's margin
/// account takes over a liquidatee's debt (`liquidate_to_account`) without the one-sign rule of
/// `borrow` getting in the way.
pub fn take_debt(
    shares: I80F48,
    amount: u64,
    deposit_index: I80F48,
    borrow_index: I80F48,
) -> MathResult<ShareChange> {
    let mut change = ShareChange {
        new_shares: shares,
        deposit_shares_delta: I80F48::ZERO,
        borrow_shares_delta: I80F48::ZERO,
        amount,
    };
    let mut left = amount;
    if shares > I80F48::ZERO {
        let held = deposit_balance(shares, deposit_index)?;
        let drawn = held.min(amount);
        if let Some(w) = withdraw(shares, drawn, deposit_index)? {
            change.new_shares = w.new_shares;
            change.deposit_shares_delta = w.deposit_shares_delta;
        }
        // Drawing the whole balance burns every share (`withdraw`), so debt starts from zero.
        left = amount.safe_sub(drawn)?;
    }
    if left > 0 {
        let b = borrow(change.new_shares, left, borrow_index)?.or_math_err()?;
        change.new_shares = b.new_shares;
        change.borrow_shares_delta = b.borrow_shares_delta;
    }
    Ok(change)
}

/// Repay up to `amount` of the position's debt; paying the whole ceiled debt clears every share,
/// paying more pays exactly the debt.
pub fn repay(shares: I80F48, amount: u64, borrow_index: I80F48) -> MathResult<ShareChange> {
    if shares >= I80F48::ZERO {
        return Ok(ShareChange {
            new_shares: shares,
            deposit_shares_delta: I80F48::ZERO,
            borrow_shares_delta: I80F48::ZERO,
            amount: 0,
        });
    }
    let owed_shares = I80F48::ZERO.safe_sub(shares)?;
    let debt = debt_balance(owed_shares, borrow_index)?;
    let (burned, paid) = if amount >= debt {
        (owed_shares, debt)
    } else {
        (fx(amount).safe_div(borrow_index)?.min(owed_shares), amount)
    };
    Ok(ShareChange {
        new_shares: shares.safe_add(burned)?,
        deposit_shares_delta: I80F48::ZERO,
        borrow_shares_delta: I80F48::ZERO.safe_sub(burned)?,
        amount: paid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(v: f64) -> I80F48 {
        I80F48::from_num(v)
    }

    #[test]
    fn deposit_withdraw_table() {
        let d = deposit(I80F48::ZERO, 1_000, idx(1.1), idx(1.0)).unwrap();
        // 1000 / 1.1 = 909.0909.. shares; balance floors back to 999 or 1000, never more.
        assert!(deposit_balance(d.new_shares, idx(1.1)).unwrap() <= 1_000);
        assert!(deposit_balance(d.new_shares, idx(1.1)).unwrap() >= 999);
        let all = deposit_balance(d.new_shares, idx(1.1)).unwrap();
        let w = withdraw(d.new_shares, all, idx(1.1)).unwrap().unwrap();
        assert_eq!(w.new_shares, I80F48::ZERO);
        assert!(withdraw(d.new_shares, all + 1, idx(1.1)).unwrap().is_none());
    }

    #[test]
    fn borrow_repay_table() {
        let b = borrow(I80F48::ZERO, 500, idx(1.25)).unwrap().unwrap();
        assert_eq!(b.new_shares, idx(-400.0));
        assert_eq!(debt_balance(idx(400.0), idx(1.25)).unwrap(), 500);
        // Overpaying repays exactly the debt.
        let r = repay(b.new_shares, 10_000, idx(1.25)).unwrap();
        assert_eq!(r.amount, 500);
        assert_eq!(r.new_shares, I80F48::ZERO);
        // Partial repay.
        let r = repay(b.new_shares, 125, idx(1.25)).unwrap();
        assert_eq!(r.new_shares, idx(-300.0));
        // Deposit into debt nets: repay 500 then deposit 100.
        let d = deposit(b.new_shares, 600, idx(1.0), idx(1.25)).unwrap();
        assert_eq!(d.new_shares, idx(100.0));
        assert_eq!(d.borrow_shares_delta, idx(-400.0));
        // Borrowing against own deposit is refused.
        assert!(borrow(idx(1.0), 1, idx(1.0)).unwrap().is_none());
    }
}
