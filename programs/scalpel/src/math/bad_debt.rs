//! Socializing bad debt over a market's depositors (SPEC section 6): what insurance did not
//! cover lowers the deposit index, rounded against the depositors, and never to zero.

use super::fixed::*;

/// Outcome of socializing a loss in one market.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Socialization {
    /// Native units taken from depositors through the index.
    pub socialized: u64,
    /// Native units left unrecovered: the market's deficit grows by this.
    pub deficit: u64,
    /// The deposit index after.
    pub deposit_index: I80F48,
}

/// Spreads `loss` native units over `total_shares` deposit shares at `deposit_index`, whose
/// floored value is `deposits`.
///
/// - At least 1% of the deposits, and at least one native unit, stays with the depositors: the
///   index never reaches zero (a market at index zero could never take a deposit again); the
///   rest of the loss is the deficit.
/// - The index falls by `socialized / total_shares` rounded **up**: depositors bear the rounding,
///   so what they can withdraw never exceeds what the vault holds for them.
pub fn socialize(
    loss: u64,
    deposits: u64,
    total_shares: I80F48,
    deposit_index: I80F48,
) -> MathResult<Socialization> {
    let keep = deposits.div_ceil(100).max(1).min(deposits);
    let mut socialized = loss.min(deposits.safe_sub(keep)?);
    let mut index = deposit_index;
    if socialized > 0 && total_shares > I80F48::ZERO {
        let drop = div_ceil(fx(socialized), total_shares)?;
        let after = deposit_index.safe_sub(drop)?;
        if after > I80F48::ZERO {
            index = after;
        } else {
            // Only when the shares' rounding would eat the 1% floor: nothing is socialized.
            socialized = 0;
        }
    } else {
        socialized = 0;
    }
    Ok(Socialization {
        socialized,
        deficit: loss.safe_sub(socialized)?,
        deposit_index: index,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hand_table() {
        // 1 000 units over 1 000 shares at index 1: 100 lost, index 0.9.
        let s = socialize(100, 1_000, fx(1_000), I80F48::ONE).unwrap();
        assert_eq!((s.socialized, s.deficit), (100, 0));
        assert!(fx(1_000) * s.deposit_index <= fx(900));
        assert!(s.deposit_index > I80F48::from_num(0.899_999_999));
        // A tiny market losing everything keeps one unit (its 1% floor rounds up to 1).
        let s = socialize(50, 50, fx(50), I80F48::ONE).unwrap();
        assert_eq!((s.socialized, s.deficit), (49, 1));
        assert!(s.deposit_index > I80F48::ZERO);
        // No depositors: everything is deficit.
        let s = socialize(7, 0, I80F48::ZERO, I80F48::ONE).unwrap();
        assert_eq!((s.socialized, s.deficit), (0, 7));
        // 99 units: 1% rounds up to one unit kept.
        let s = socialize(1_000, 99, fx(99), I80F48::ONE).unwrap();
        assert_eq!((s.socialized, s.deficit), (98, 902));
    }

    proptest! {
        /// Depositors bear the rounding (their claims fall by at least the socialized loss), the
        /// index stays positive, and socialized + deficit is the loss.
        #[test]
        fn rounds_against_depositors_and_keeps_a_floor(
            loss in 0u64..1u64 << 40,
            shares_bits in 1i128..(1i128 << 75),
            index_bits in (1i128 << 40)..(1i128 << 52),
        ) {
            let shares = I80F48::from_bits(shares_bits);
            let index = I80F48::from_bits(index_bits);
            let Some(value) = shares.checked_mul(index) else { return Ok(()) };
            let Ok(deposits) = floor_u64(value) else { return Ok(()) };
            let s = socialize(loss, deposits, shares, index).unwrap();
            prop_assert_eq!(s.socialized + s.deficit, loss);
            prop_assert!(s.deposit_index > I80F48::ZERO);
            prop_assert!(s.deposit_index <= index);
            prop_assert!(s.socialized < deposits.max(1));
            // Claims after ≤ claims before − socialized, computed exactly in bits.
            let after = shares.to_bits().checked_mul(s.deposit_index.to_bits());
            let before = shares.to_bits().checked_mul(index.to_bits());
            if let (Some(after), Some(before)) = (after, before) {
                let lost = (s.socialized as i128) << 96;
                prop_assert!(after <= before - lost, "claims fell by less than the loss");
            }
        }
    }
}
