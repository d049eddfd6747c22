//! Planning an account's liquidations within the bot's funds: the program's `plan_liquidation`
//! per pair, chained until the account is back at target; in account mode the largest plan the
//! bot's margin account carries at `health_init ≥ 0`.

use super::*;

/// One planned liquidation call.
#[derive(Clone, Debug)]
pub struct PlannedPair {
    /// Collateral market index.
    pub asset_index: u16,
    /// Liability market index.
    pub liab_index: u16,
    /// What the program will execute.
    pub plan: LiquidationPlan,
    /// USD value of the repay at the scanned price.
    pub repaid_usd: f64,
    /// USD value of the liquidator's share minus the repay.
    pub bonus_usd: f64,
    /// What it moves for the bot, for the profit check.
    pub gain: Gain,
    /// The liquidatee's health pairs before it.
    pub health: Vec<(Pubkey, Pubkey)>,
    /// Account mode: the bot account's health pairs after it (empty in wallet mode).
    pub liquidator_health: Vec<(Pubkey, Pubkey)>,
    /// Account mode: the bot's margin account after it.
    pub liquidator_after: Option<Box<MarginAccount>>,
}

/// A target's planned pairs within what the bot can fund.
#[derive(Clone, Debug, Default)]
pub struct TargetPlan {
    /// The pairs, in order.
    pub steps: Vec<PlannedPair>,
    /// Pairs the program would accept that the bot could not fund at all.
    pub unfunded: usize,
}

/// How one pair fits the bot's funds.
// A return value, matched at once and never stored in bulk: its size costs nothing.
#[allow(clippy::large_enum_variant)]
enum Fit {
    /// The plan, and in account mode the bot's account after it.
    Plan(LiquidationPlan, Option<Box<MarginAccount>>),
    /// The program would accept none.
    None,
    /// The program would, but the bot cannot fund any of it.
    Unfunded,
}

impl Keeper<'_> {
    /// Chains pairs until `health_end ≥ 0`: each step takes the plan that restores the most
    /// health (a `Need` plan finishes the account) within `funds`, applies it to a copy of the
    /// balances and of the funds, and goes on while the account stays below target.
    pub fn plan(&self, view: &ChainView<'_>, target: &Target, funds: &Funds) -> TargetPlan {
        let mut slots = target.slots.clone();
        let mut being = target.being_liquidated;
        let mut funds = funds.clone();
        let mut out = TargetPlan::default();
        for _ in 0..self.cfg.max_pairs_per_account {
            let inputs: Vec<HealthPosition> = slots.iter().map(|s| s.input).collect();
            let mut best: Option<(usize, usize, LiquidationPlan, Option<Box<MarginAccount>>)> =
                None;
            let mut unfunded = 0;
            // `liquidate` refuses a pair whose prices fail a check: plan valid pairs only.
            for (li, l) in slots
                .iter()
                .enumerate()
                .filter(|(_, s)| s.input.debt > 0 && s.priced())
            {
                for (ai, a) in slots
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.input.deposit > 0 && s.priced())
                {
                    let fit = self.fit(
                        view,
                        &funds,
                        &inputs,
                        (ai, a.market_index, a.penalty),
                        (li, l.market_index),
                        being,
                    );
                    match fit {
                        Fit::Plan(p, after) => {
                            let better = match &best {
                                None => true,
                                Some((_, _, b, _)) => p.health_after.end > b.health_after.end,
                            };
                            if better {
                                best = Some((ai, li, p, after));
                            }
                        }
                        Fit::Unfunded => unfunded += 1,
                        Fit::None => {}
                    }
                }
            }
            let Some((ai, li, plan, after)) = best else {
                if out.steps.is_empty() {
                    out.unfunded = unfunded;
                }
                break;
            };
            let (asset_index, liab_index) = (slots[ai].market_index, slots[li].market_index);
            let swap_cost_bps = view
                .by_index
                .get(&asset_index)
                .map_or(self.cfg.profit.default_swap_cost_bps, |(_, m)| {
                    self.cfg.profit.swap_cost_of(m)
                });
            // A plan the profit check cannot value is not sent.
            let Ok(gain) = Gain::of(&plan, &slots[ai].input, &slots[li].input, swap_cost_bps)
            else {
                break;
            };
            let mut step = PlannedPair {
                asset_index,
                liab_index,
                plan,
                repaid_usd: usd(gain.repaid),
                bonus_usd: usd(gain.received) - usd(gain.repaid),
                gain,
                health: view.pairs_of(&slots),
                liquidator_health: Vec::new(),
                liquidator_after: None,
            };
            match (&mut funds, after) {
                (Funds::Wallet(budget), _) => {
                    let b = budget.entry(view.mint(liab_index)).or_default();
                    *b = b.saturating_sub(plan.repay);
                }
                (Funds::Account { account, .. }, Some(after)) => {
                    match pairs_after(&after, view.markets, None, None) {
                        Ok(p) => step.liquidator_health = p,
                        Err(_) => break,
                    }
                    **account = *after;
                    step.liquidator_after = Some(after);
                }
                (Funds::Account { .. }, None) => break,
            }
            out.steps.push(step);
            slots[ai].input.deposit = slots[ai].input.deposit.saturating_sub(plan.seized);
            slots[li].input.debt = slots[li].input.debt.saturating_sub(plan.repay);
            // Emptied positions leave the account (and the next step's health accounts).
            slots.retain(|s| s.input.deposit > 0 || s.input.debt > 0);
            being = plan.health_after.end < I80F48::ZERO;
            if !being {
                break;
            }
        }
        out
    }

    /// The plan of one pair within `funds`. Wallet mode: the repay is capped by the bot's
    /// balance of the debt token. Account mode: the largest plan after which the bot's account
    /// keeps `health_init ≥ 0` (the full plan if it can; else a binary search on `max_repay`,
    /// the program's plan and `take_over` at each probe).
    fn fit(
        &self,
        view: &ChainView<'_>,
        funds: &Funds,
        inputs: &[HealthPosition],
        (ai, asset_index, penalty): (usize, u16, PenaltyCurve),
        (li, liab_index): (usize, u16),
        being: bool,
    ) -> Fit {
        let plan = |max_repay: u64| {
            plan_liquidation(inputs, ai, li, penalty, being, max_repay, &view.params).ok()
        };
        match funds {
            Funds::Wallet(budget) => {
                let have = budget.get(&view.mint(liab_index)).copied().unwrap_or(0);
                match plan(u64::MAX) {
                    None => Fit::None,
                    Some(_) if have == 0 => Fit::Unfunded,
                    Some(_) => plan(have).map_or(Fit::None, |p| Fit::Plan(p, None)),
                }
            }
            Funds::Account { account, .. } => {
                let Some(full) = plan(u64::MAX) else {
                    return Fit::None;
                };
                if account.being_liquidated != 0 {
                    return Fit::Unfunded;
                }
                let carried = |p: &LiquidationPlan| {
                    view.taken_over(
                        account,
                        (asset_index, p.to_liquidator),
                        (liab_index, p.repay),
                    )
                    .ok()
                    .filter(|after| view.carries(after))
                };
                if let Some(after) = carried(&full) {
                    return Fit::Plan(full, Some(Box::new(after)));
                }
                // Largest `max_repay` in [1, full.repay) whose plan the account carries: `lo`
                // is carried (or 0), `hi` is not.
                let (mut lo, mut hi) = (0u64, full.repay);
                let mut found = None;
                while hi - lo > 1 {
                    let mid = lo + (hi - lo) / 2;
                    match plan(mid).and_then(|p| carried(&p).map(|a| (p, a))) {
                        Some(ok) => {
                            lo = mid;
                            found = Some(ok);
                        }
                        None => hi = mid,
                    }
                }
                found.map_or(Fit::Unfunded, |(p, a)| Fit::Plan(p, Some(Box::new(a))))
            }
        }
    }

    /// The instruction of one planned step.
    pub(super) fn instruction(
        &self,
        view: &ChainView<'_>,
        target: &Target,
        step: &PlannedPair,
    ) -> Instruction {
        let me = self.liquidator.pubkey();
        let (asset_mint, liab_mint) = (view.mint(step.asset_index), view.mint(step.liab_index));
        match self.cfg.mode {
            Mode::Wallet => ix::liquidate(
                &ix::LiquidateAccounts {
                    liquidatee: target.account,
                    asset_mint,
                    liab_mint,
                    liquidator: me,
                    liquidator_liab_token: ata(&me, &liab_mint),
                    liquidator_asset_token: ata(&me, &asset_mint),
                },
                step.plan.repay,
                &step.health,
            ),
            Mode::Account => ix::liquidate_to_account(
                &ix::LiquidateToAccountAccounts {
                    liquidatee: target.account,
                    asset_mint,
                    liab_mint,
                    liquidator: me,
                    liquidator_account: self.liquidator_account(),
                },
                step.plan.repay,
                &step.health,
                &step.liquidator_health,
            ),
        }
    }
}
