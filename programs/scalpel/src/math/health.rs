//! Account health (SPEC section 4): one pure function over resolved positions, used by the
//! program's instructions, `health_view`, the bot and the CLI alike.

use super::fixed::*;

/// Protocol-wide inputs to health.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthParams {
    /// Confidence multiplier `k` for the init-price bias.
    pub conf_multiplier: I80F48,
    /// Largest bias as a fraction of price.
    pub max_conf_bias: I80F48,
    /// Liquidation buffer `b` in `health_end`.
    pub liquidation_buffer: I80F48,
}

/// One position with everything health needs: native balances already rounded (deposit floored,
/// debt ceiled), the checked price per whole token with the token's decimals, and the market's
/// weights (interpolated during a shift).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthPosition {
    /// Deposit in native units.
    pub deposit: u64,
    /// Debt in native units.
    pub debt: u64,
    /// Oracle price, USD per whole token.
    pub price: I80F48,
    /// Oracle confidence, USD per whole token.
    pub conf: I80F48,
    /// The oracle's EMA price, USD per whole token: initial health values a deposit at
    /// `min(price, ema_price)` and a debt at `max(price, ema_price)` (equal to `price` when the
    /// feed is steady).
    pub ema_price: I80F48,
    /// The EMA's confidence, USD per whole token: initial health widens by the larger one.
    pub ema_conf: I80F48,
    /// Token decimals: `amount` native units are `amount / 10^decimals` tokens.
    pub decimals: u8,
    /// Init asset weight.
    pub asset_weight_init: I80F48,
    /// Maint asset weight.
    pub asset_weight_maint: I80F48,
    /// Init liability weight.
    pub liab_weight_init: I80F48,
    /// Maint liability weight.
    pub liab_weight_maint: I80F48,
}

impl HealthPosition {
    /// Whether the feed is steady (EMA at spot, its confidence no wider): initial health then
    /// equals its spot-only figure, so callers can skip the EMA-bounded computation.
    pub fn steady(&self) -> bool {
        self.ema_price == self.price && self.ema_conf <= self.conf
    }
}

/// Health of an account, in USD.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Health {
    /// `A_init − L_init` with biased prices: must stay ≥ 0 after borrow and withdraw.
    pub init: I80F48,
    /// `A_maint − L_maint`: negative means liquidatable.
    pub maint: I80F48,
    /// `A_maint − (1 + b) · L_maint`: the target a liquidation restores to zero.
    pub end: I80F48,
    /// `A_maint`.
    pub asset_maint: I80F48,
    /// `L_maint`.
    pub liab_maint: I80F48,
    /// Unweighted deposit value at raw prices (`AV` of the surplus cap).
    pub asset_value: I80F48,
    /// Unweighted debt value at raw prices (`LV` of the surplus cap).
    pub liab_value: I80F48,
    /// `A_init`.
    pub asset_init: I80F48,
    /// `L_init`.
    pub liab_init: I80F48,
    /// Only the maintenance figures were computed ([`compute_maint_health`]): `init`,
    /// `asset_init` and `liab_init` are zero, not the account's.
    pub maint_only: bool,
}

impl Health {
    /// `A_maint / L_maint`, `None` (infinite) without debt.
    pub fn ratio(&self) -> Option<I80F48> {
        if self.liab_maint <= I80F48::ZERO {
            return None;
        }
        self.asset_maint.checked_div(self.liab_maint)
    }

    /// Liquidatable: `maint < 0`, or (hysteresis) already being liquidated with `end < 0`.
    pub fn is_liquidatable(&self, being_liquidated: bool) -> bool {
        self.maint < I80F48::ZERO || (being_liquidated && self.end < I80F48::ZERO)
    }

    /// Its debt may be forgiven (`bad_debt_resolve`): insolvent at raw prices (deposits worth
    /// less than debts, which also makes it liquidatable) and no deposits worth `dust` in all
    /// left to seize. A solvent account with a dust deposit keeps its debt: forgiving it would
    /// let anyone borrow against dust and walk away with insurance and depositor money.
    #[cfg_attr(not(target_os = "solana"), inline)]
    pub fn is_bad_debt(&self, dust: I80F48) -> bool {
        self.asset_value < self.liab_value && self.asset_value < dust
    }
}

/// `(p_low, p_high) = p ∓ min(k · conf, max_bias · p)`, `p_low` floored at zero.
pub fn biased_prices(
    price: I80F48,
    conf: I80F48,
    params: &HealthParams,
) -> MathResult<(I80F48, I80F48)> {
    let bias = params
        .conf_multiplier
        .safe_mul(conf)?
        .min(params.max_conf_bias.safe_mul(price)?)
        .max(I80F48::ZERO);
    let low = price.safe_sub(bias)?.max(I80F48::ZERO);
    let high = price.safe_add(bias)?;
    Ok((low, high))
}

/// The prices initial health values a position at: `(low, high)` for a deposit and a debt,
/// [`biased_prices`] of `min(spot, ema)` and `max(spot, ema)` with the larger confidence. A price
/// pumped for one update moves the spot, not the EMA, so it lends nothing; maintenance health and
/// liquidation stay on spot. Never above the spot-only figures (`p − min(k·c, m·p)` rises with
/// `p` and falls with `c`).
pub fn init_prices(p: &HealthPosition, params: &HealthParams) -> MathResult<(I80F48, I80F48)> {
    if p.steady() {
        return biased_prices(p.price, p.conf, params);
    }
    let conf = p.conf.max(p.ema_conf);
    let (low, _) = biased_prices(p.price.min(p.ema_price), conf, params)?;
    let (_, high) = biased_prices(p.price.max(p.ema_price), conf, params)?;
    Ok((low, high))
}

/// What one position adds to each sum of health.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
struct Contribution {
    asset_init: I80F48,
    liab_init: I80F48,
    asset_maint: I80F48,
    liab_maint: I80F48,
    asset_value: I80F48,
    liab_value: I80F48,
}

impl Contribution {
    /// Asset values round down and liability values round up, so any rounding makes the
    /// account look less healthy, never more.
    /// With `maint_only`, the init sums are left at zero (the biased prices are not even
    /// computed).
    #[cfg_attr(not(target_os = "solana"), inline(always))]
    fn of(p: &HealthPosition, params: &HealthParams, maint_only: bool) -> MathResult<Self> {
        let mut c = Contribution::default();
        let (low, high) = if maint_only {
            (I80F48::ZERO, I80F48::ZERO)
        } else {
            init_prices(p, params)?
        };
        if p.deposit > 0 {
            let value = token_value(p.deposit, p.price, p.decimals)?;
            c.asset_value = value;
            c.asset_maint = value.safe_mul(p.asset_weight_maint)?;
            if !maint_only {
                let low_value = token_value(p.deposit, low, p.decimals)?;
                c.asset_init = low_value.safe_mul(p.asset_weight_init)?;
            }
        }
        if p.debt > 0 {
            let value = token_value_ceil(p.debt, p.price, p.decimals)?;
            c.liab_value = value;
            c.liab_maint = mul_ceil(value, p.liab_weight_maint)?;
            if !maint_only {
                let high_value = token_value_ceil(p.debt, high, p.decimals)?;
                c.liab_init = mul_ceil(high_value, p.liab_weight_init)?;
            }
        }
        Ok(c)
    }
}

impl Health {
    /// The figures from the six sums.
    #[cfg_attr(not(target_os = "solana"), inline(always))]
    fn from_sums(
        sums: &Contribution,
        params: &HealthParams,
        maint_only: bool,
    ) -> MathResult<Health> {
        let buffered = mul_ceil(
            sums.liab_maint,
            I80F48::ONE.safe_add(params.liquidation_buffer)?,
        )?;
        Ok(Health {
            init: sums.asset_init.safe_sub(sums.liab_init)?,
            maint: sums.asset_maint.safe_sub(sums.liab_maint)?,
            end: sums.asset_maint.safe_sub(buffered)?,
            asset_maint: sums.asset_maint,
            liab_maint: sums.liab_maint,
            asset_value: sums.asset_value,
            liab_value: sums.liab_value,
            asset_init: sums.asset_init,
            liab_init: sums.liab_init,
            maint_only,
        })
    }

    fn sums(&self) -> Contribution {
        Contribution {
            asset_init: self.asset_init,
            liab_init: self.liab_init,
            asset_maint: self.asset_maint,
            liab_maint: self.liab_maint,
            asset_value: self.asset_value,
            liab_value: self.liab_value,
        }
    }

    /// This health with the positions `old` replaced by `new` (the same positions after a
    /// change of balances): only those contributions are computed again, with the same scope
    /// (all figures, or maintenance only). Fixed-point sums are exact, so the result is
    /// bit-identical to computing it over the changed positions.
    #[cfg_attr(not(target_os = "solana"), inline)]
    pub fn replacing(
        &self,
        old: &[HealthPosition],
        new: &[HealthPosition],
        params: &HealthParams,
    ) -> MathResult<Health> {
        let mut s = self.sums();
        for (o, n) in old.iter().zip(new) {
            let o = Contribution::of(o, params, self.maint_only)?;
            let n = Contribution::of(n, params, self.maint_only)?;
            s.asset_init = s
                .asset_init
                .safe_sub(o.asset_init)?
                .safe_add(n.asset_init)?;
            s.liab_init = s.liab_init.safe_sub(o.liab_init)?.safe_add(n.liab_init)?;
            s.asset_maint = s
                .asset_maint
                .safe_sub(o.asset_maint)?
                .safe_add(n.asset_maint)?;
            s.liab_maint = s
                .liab_maint
                .safe_sub(o.liab_maint)?
                .safe_add(n.liab_maint)?;
            s.asset_value = s
                .asset_value
                .safe_sub(o.asset_value)?
                .safe_add(n.asset_value)?;
            s.liab_value = s
                .liab_value
                .safe_sub(o.liab_value)?
                .safe_add(n.liab_value)?;
        }
        Health::from_sums(&s, params, self.maint_only)
    }
}

/// Computes every health figure (SPEC section 4) as the sums of each position's contribution.
pub fn compute_health(positions: &[HealthPosition], params: &HealthParams) -> MathResult<Health> {
    sum_health(positions, params, false)
}

/// `health_init` at spot prices alone, as if every feed were steady (EMA = spot): how much the
/// EMA bound holds back while a price moves. Shown beside the EMA-bounded `init` by
/// `health_view` and `quote`; never below it.
pub fn compute_init_at_spot(
    positions: &[HealthPosition],
    params: &HealthParams,
) -> MathResult<I80F48> {
    let steady: Vec<HealthPosition> = positions
        .iter()
        .map(|p| HealthPosition {
            ema_price: p.price,
            ema_conf: p.conf,
            ..*p
        })
        .collect();
    Ok(sum_health(&steady, params, false)?.init)
}

/// The maintenance figures only (`maint`, `end`, `A_maint`, `L_maint`, `AV`, `LV`): what a
/// liquidation needs, at about half the cost on the SBF VM. `init` is zero and `maint_only` set.
#[cfg_attr(not(target_os = "solana"), inline(always))]
pub fn compute_maint_health(
    positions: &[HealthPosition],
    params: &HealthParams,
) -> MathResult<Health> {
    sum_health(positions, params, true)
}

#[cfg_attr(not(target_os = "solana"), inline(always))]
fn sum_health(
    positions: &[HealthPosition],
    params: &HealthParams,
    maint_only: bool,
) -> MathResult<Health> {
    let mut s = Contribution::default();
    for p in positions {
        let c = Contribution::of(p, params, maint_only)?;
        s.asset_init = s.asset_init.safe_add(c.asset_init)?;
        s.liab_init = s.liab_init.safe_add(c.liab_init)?;
        s.asset_maint = s.asset_maint.safe_add(c.asset_maint)?;
        s.liab_maint = s.liab_maint.safe_add(c.liab_maint)?;
        s.asset_value = s.asset_value.safe_add(c.asset_value)?;
        s.liab_value = s.liab_value.safe_add(c.liab_value)?;
    }
    Health::from_sums(&s, params, maint_only)
}

/// The oracle price of `p`'s token at which `health_maint` reaches zero, every other price fixed.
///
/// `health_maint` is linear in one token's price: a deposit contributes
/// `deposit_tokens · wA_maint · p` and a debt `−debt_tokens · wL_maint · p`, so with `m` the
/// maintenance health now and `s` that slope (the token amount valued by the program's
/// `token_value` at a "price" equal to the weight), the root is `p − m / s` for a deposit and
/// `p + m / s` for a debt. `None` without debt (never liquidatable), when the slope is zero, when
/// the root is not a positive price, or when it is not representable.
pub fn liquidation_price(health: &Health, p: &HealthPosition) -> Option<I80F48> {
    if health.liab_maint <= I80F48::ZERO {
        return None;
    }
    let (amount, weight, sign) = if p.deposit > 0 {
        (p.deposit, p.asset_weight_maint, -1)
    } else if p.debt > 0 {
        (p.debt, p.liab_weight_maint, 1)
    } else {
        return None;
    };
    let slope = token_value(amount, weight, p.decimals).ok()?;
    if slope <= I80F48::ZERO {
        return None;
    }
    let shift = health.maint.checked_div(slope)?;
    let root = if sign < 0 {
        p.price.checked_sub(shift)?
    } else {
        p.price.checked_add(shift)?
    };
    (root > I80F48::ZERO).then_some(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: f64) -> I80F48 {
        I80F48::from_num(v)
    }

    fn params() -> HealthParams {
        HealthParams {
            conf_multiplier: f(2.12),
            max_conf_bias: f(0.05),
            liquidation_buffer: f(0.02),
        }
    }

    fn pos(deposit: u64, debt: u64, price: f64, conf: f64, w: [f64; 4]) -> HealthPosition {
        HealthPosition {
            deposit,
            debt,
            price: f(price),
            conf: f(conf),
            ema_price: f(price),
            ema_conf: f(conf),
            asset_weight_init: f(w[0]),
            asset_weight_maint: f(w[1]),
            liab_weight_init: f(w[2]),
            liab_weight_maint: f(w[3]),
            decimals: 0,
        }
    }

    fn close(a: I80F48, b: f64) -> bool {
        (a - f(b)).abs() < f(1e-6)
    }

    /// 10 SOL at 100 (conf 0.5) against 600 USDC at 1 (conf 0), hand-computed.
    #[test]
    fn hand_table_two_positions() {
        let w_sol = [0.8, 0.9, 1.2, 1.1];
        let w_usdc = [1.0, 1.0, 1.0, 1.0];
        let h = compute_health(
            &[pos(10, 0, 100.0, 0.5, w_sol), pos(0, 600, 1.0, 0.0, w_usdc)],
            &params(),
        )
        .unwrap();
        // A_maint = 10*100*0.9 = 900; L_maint = 600; maint = 300; end = 900 - 612 = 288.
        assert!(close(h.maint, 300.0));
        assert!(close(h.end, 288.0));
        // p_low = 100 - min(2.12*0.5, 5) = 98.94; A_init = 10*98.94*0.8 = 791.52; L_init = 600.
        assert!(close(h.init, 191.52));
        assert!(close(h.ratio().unwrap(), 1.5));
        assert!(!h.is_liquidatable(false));
    }

    #[test]
    fn hysteresis_and_bias_cap() {
        let w = [0.8, 0.9, 1.2, 1.1];
        let u = [1.0, 1.0, 1.0, 1.0];
        // maint = 900 - 890 = 10 > 0, end = 900 - 907.8 < 0.
        let h = compute_health(
            &[pos(10, 0, 100.0, 0.0, w), pos(0, 890, 1.0, 0.0, u)],
            &params(),
        )
        .unwrap();
        assert!(!h.is_liquidatable(false));
        assert!(h.is_liquidatable(true));
        // A huge confidence is capped at 5% of price.
        let (low, high) = biased_prices(f(100.0), f(50.0), &params()).unwrap();
        assert!(close(low, 95.0) && close(high, 105.0));
    }

    #[test]
    fn no_debt_has_infinite_ratio() {
        let h = compute_health(&[pos(5, 0, 2.0, 0.0, [0.5, 0.6, 1.2, 1.1])], &params()).unwrap();
        assert!(h.ratio().is_none());
        assert!(close(h.maint, 6.0));
        assert!(compute_health(&[], &params()).unwrap().ratio().is_none());
    }

    /// Issue 12 by hand: a deposit at spot 100 with its EMA at 95 counts 95 in init health,
    /// a debt at spot 95 with its EMA at 100 counts 100; the larger confidence widens both;
    /// maintenance stays on spot.
    #[test]
    fn init_prices_take_the_worse_of_spot_and_ema() {
        let p = |price: f64, ema: f64, conf: f64, ema_conf: f64| HealthPosition {
            ema_price: f(ema),
            ema_conf: f(ema_conf),
            ..pos(1, 0, price, conf, [1.0, 1.0, 1.0, 1.0])
        };
        let params = HealthParams {
            conf_multiplier: f(1.0),
            max_conf_bias: f(0.5),
            liquidation_buffer: I80F48::ZERO,
        };
        assert_eq!(
            init_prices(&p(100.0, 95.0, 0.0, 0.0), &params).unwrap(),
            (f(95.0), f(100.0))
        );
        assert_eq!(
            init_prices(&p(95.0, 100.0, 0.0, 0.0), &params).unwrap(),
            (f(95.0), f(100.0))
        );
        // conf max(1, 2) = 2: 95 − 2 and 100 + 2.
        assert_eq!(
            init_prices(&p(100.0, 95.0, 1.0, 2.0), &params).unwrap(),
            (f(93.0), f(102.0))
        );
        // A steady feed: exactly the spot-only biased prices.
        assert_eq!(
            init_prices(&p(100.0, 100.0, 1.0, 0.5), &params).unwrap(),
            biased_prices(f(100.0), f(1.0), &params).unwrap()
        );
        // A non-positive EMA lends nothing against the deposit.
        assert_eq!(
            init_prices(&p(100.0, 0.0, 0.0, 0.0), &params).unwrap().0,
            I80F48::ZERO
        );
        let h = compute_health(&[p(100.0, 95.0, 0.0, 0.0)], &params).unwrap();
        assert_eq!((h.asset_init, h.asset_maint), (f(95.0), f(100.0)));
    }
}
