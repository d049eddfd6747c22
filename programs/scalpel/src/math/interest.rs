//! Kinked utilization rate curve and index accrual (SPEC section 7). No protocol fee in v1:
//! every unit of borrow interest accrues to depositors.

use super::fixed::*;
use crate::constants::SECONDS_PER_YEAR;

/// Annual borrow rate as a function of utilization, with one kink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateCurve {
    /// Utilization at the kink, in (0, 1).
    pub optimal_utilization: I80F48,
    /// Rate at zero utilization.
    pub base_rate: I80F48,
    /// Rate added from 0 to the kink.
    pub slope1: I80F48,
    /// Rate added from the kink to full utilization.
    pub slope2: I80F48,
}

/// Borrowed over deposited value, clamped to [0, 1]; 0 with nothing borrowed, 1 with borrows and
/// no deposits.
pub fn utilization(deposits: I80F48, borrows: I80F48) -> MathResult<I80F48> {
    if borrows <= I80F48::ZERO {
        return Ok(I80F48::ZERO);
    }
    // Also covers borrows far above deposits, whose quotient could overflow.
    if borrows >= deposits {
        return Ok(I80F48::ONE);
    }
    borrows.safe_div(deposits)
}

/// Annual borrow rate at `util`.
pub fn borrow_rate(curve: &RateCurve, util: I80F48) -> MathResult<I80F48> {
    let u = util.clamp(I80F48::ZERO, I80F48::ONE);
    let opt = curve.optimal_utilization;
    if opt <= I80F48::ZERO || opt >= I80F48::ONE {
        return Err(math_err());
    }
    if u <= opt {
        curve
            .base_rate
            .safe_add(curve.slope1.safe_mul(u.safe_div(opt)?)?)
    } else {
        let above = u.safe_sub(opt)?.safe_div(I80F48::ONE.safe_sub(opt)?)?;
        curve
            .base_rate
            .safe_add(curve.slope1)?
            .safe_add(curve.slope2.safe_mul(above)?)
    }
}

/// New indices after accrual.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accrued {
    /// Deposit index after accrual.
    pub deposit_index: I80F48,
    /// Borrow index after accrual.
    pub borrow_index: I80F48,
    /// Annual borrow rate used.
    pub borrow_rate: I80F48,
    /// Utilization used.
    pub utilization: I80F48,
}

/// Accrues `dt_secs` of interest: the borrow index grows by `rate · dt / year` (rounded up, against
/// borrowers) and depositors receive exactly the interest borrowers now owe (rounded down).
pub fn accrue(
    curve: &RateCurve,
    deposit_index: I80F48,
    borrow_index: I80F48,
    total_deposit_shares: I80F48,
    total_borrow_shares: I80F48,
    dt_secs: u64,
) -> MathResult<Accrued> {
    let deposits = total_deposit_shares.safe_mul(deposit_index)?;
    let borrows = total_borrow_shares.safe_mul(borrow_index)?;
    let util = utilization(deposits, borrows)?;
    let rate = borrow_rate(curve, util)?;
    if dt_secs == 0 || total_borrow_shares <= I80F48::ZERO {
        return Ok(Accrued {
            deposit_index,
            borrow_index,
            borrow_rate: rate,
            utilization: util,
        });
    }
    let growth = rate.mul_int(dt_secs)?.div_int(SECONDS_PER_YEAR)?;
    let new_borrow_index = mul_ceil(borrow_index, I80F48::ONE.safe_add(growth)?)?;
    let interest = total_borrow_shares.safe_mul(new_borrow_index.safe_sub(borrow_index)?)?;
    let new_deposit_index = if total_deposit_shares > I80F48::ZERO {
        deposit_index.safe_add(interest.safe_div(total_deposit_shares)?)?
    } else {
        deposit_index
    };
    Ok(Accrued {
        deposit_index: new_deposit_index,
        borrow_index: new_borrow_index,
        borrow_rate: rate,
        utilization: util,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: f64) -> I80F48 {
        I80F48::from_num(v)
    }

    fn curve() -> RateCurve {
        RateCurve {
            optimal_utilization: f(0.8),
            base_rate: f(0.01),
            slope1: f(0.04),
            slope2: f(0.75),
        }
    }

    #[test]
    fn kinked_curve_table() {
        let c = curve();
        let close = |a: I80F48, b: f64| (a - f(b)).abs() < f(1e-9);
        assert!(close(borrow_rate(&c, f(0.0)).unwrap(), 0.01));
        assert!(close(borrow_rate(&c, f(0.4)).unwrap(), 0.03));
        assert!(close(borrow_rate(&c, f(0.8)).unwrap(), 0.05));
        assert!(close(borrow_rate(&c, f(0.9)).unwrap(), 0.425));
        assert!(close(borrow_rate(&c, f(1.0)).unwrap(), 0.80));
    }

    #[test]
    fn accrual_moves_interest_to_depositors() {
        // 1000 deposited, 500 borrowed at index 1: util 50%, rate 3.5%/yr, one year.
        let a = accrue(
            &curve(),
            f(1.0),
            f(1.0),
            f(1000.0),
            f(500.0),
            SECONDS_PER_YEAR,
        )
        .unwrap();
        assert!((a.borrow_index - f(1.035)).abs() < f(1e-9));
        // Depositors earn 500 * 3.5% = 17.5 over 1000 shares.
        assert!((a.deposit_index - f(1.0175)).abs() < f(1e-9));
        // Value is conserved: deposits grew exactly by borrow interest (to rounding).
        let dep_gain = (a.deposit_index - f(1.0)) * f(1000.0);
        let debt_gain = (a.borrow_index - f(1.0)) * f(500.0);
        assert!(debt_gain >= dep_gain && debt_gain - dep_gain < f(1e-9));
    }
}
