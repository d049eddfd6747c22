//! The scan: every margin account through the program's `compute_health`, the liquidatable
//! ones ranked by deficit, the insolvent ones routed to `bad_debt_resolve`.

use super::*;

/// A liquidatable account, as scanned.
#[derive(Clone, Debug)]
pub struct Target {
    /// Margin account.
    pub account: Pubkey,
    /// Owner (may not liquidate itself).
    pub owner: Pubkey,
    /// `−health_end`, USD: the ranking key.
    pub deficit: I80F48,
    /// Fingerprint of its data (backoff ends when it changes).
    pub fingerprint: u64,
    /// Its hysteresis flag.
    pub being_liquidated: bool,
    /// Its positions, resolved with maintenance prices.
    pub slots: Vec<ResolvedInput>,
    /// Insolvent with no collateral left worth the dust threshold: resolve the debt in these
    /// markets instead, in order.
    pub bad_debt: Vec<BadDebtStep>,
}

/// One `bad_debt_resolve` of a target.
#[derive(Clone, Debug)]
pub struct BadDebtStep {
    /// Mint of the debt's market.
    pub mint: Pubkey,
    /// Health pairs at that point.
    pub pairs: Vec<(Pubkey, Pubkey)>,
}

impl Keeper<'_> {
    /// Scans every margin account: the liquidatable ones, ranked by deficit, with how many
    /// were read and how many failed.
    pub async fn scan(&self, view: &ChainView<'_>) -> Result<(usize, Vec<Target>, usize)> {
        let raw = retry!(
            self,
            self.chain.program_accounts(MarginAccount::DISCRIMINATOR)
        )?;
        let scanned = raw.len();
        let mut failures = 0;
        let mut targets = Vec::new();
        for (key, acc) in raw {
            let account = match decode::margin_account(&acc.data) {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(account = %key, error = %e, "undecodable margin account");
                    failures += 1;
                    continue;
                }
            };
            let slots = match resolve_positions(
                &account,
                view.markets,
                &view.oracles,
                view.now,
                PriceAge::Maintenance,
            ) {
                Ok(slots) => slots,
                Err(e) => {
                    tracing::debug!(account = %key, error = %e, "position not priced; skipping account");
                    continue;
                }
            };
            let inputs: Vec<HealthPosition> = slots.iter().map(|s| s.input).collect();
            let Ok(h) = compute_health(&inputs, &view.params.health) else {
                failures += 1;
                continue;
            };
            let being = account.being_liquidated != 0;
            if !h.is_liquidatable(being) {
                continue;
            }
            let mut bad_debt = Vec::new();
            if bad_debt_eligible(&account, &slots, &h, view) {
                // Nothing left to seize: the debt goes to insurance and depositors. The first
                // resolution forfeits every deposit to its market's insurance; the rest see
                // debts only.
                let mut remaining: Vec<ResolvedInput> = slots.clone();
                for s in slots.iter().filter(|s| s.input.debt > 0) {
                    let pairs = view.pairs_of(&remaining);
                    if let Some((_, m)) = view.by_index.get(&s.market_index) {
                        bad_debt.push(BadDebtStep {
                            mint: m.mint,
                            pairs,
                        });
                    }
                    remaining
                        .retain(|r| r.market_index != s.market_index && r.shares < I80F48::ZERO);
                }
            } else if !slots.iter().any(|s| s.input.debt > 0 && s.priced())
                || !slots.iter().any(|s| s.input.deposit > 0 && s.priced())
            {
                // `liquidate` refuses a pair whose prices fail a check: no pair, no target.
                continue;
            }
            targets.push(Target {
                account: key,
                owner: account.owner,
                deficit: I80F48::ZERO.saturating_sub(h.end),
                fingerprint: backoff::fingerprint(&acc.data),
                being_liquidated: being,
                slots,
                bad_debt,
            });
        }
        targets.sort_by_key(|t| std::cmp::Reverse(t.deficit));
        Ok((scanned, targets, failures))
    }
}

/// Whether `bad_debt_resolve` would accept the account: insolvent with dust deposits at
/// maintenance prices, and still so with a deposit behind a failing oracle valued at its last
/// published price (the program's `PriceAge::BadDebt`).
fn bad_debt_eligible(
    account: &MarginAccount,
    slots: &[ResolvedInput],
    h: &scalpel::math::Health,
    view: &ChainView<'_>,
) -> bool {
    let dust = view.params.dust_threshold;
    if !h.is_bad_debt(dust) {
        return false;
    }
    if slots.iter().all(|s| s.input.deposit == 0 || s.priced()) {
        return true;
    }
    resolve_positions(
        account,
        view.markets,
        &view.oracles,
        view.now,
        PriceAge::BadDebt,
    )
    .ok()
    .and_then(|r| {
        let inputs: Vec<HealthPosition> = r.iter().map(|s| s.input).collect();
        compute_health(&inputs, &view.params.health).ok()
    })
    .is_some_and(|h| h.is_bad_debt(dust))
}
