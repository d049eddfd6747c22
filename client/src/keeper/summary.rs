//! What one pass did ([`PassSummary`]) and why it left accounts alone ([`Skipped`]).

use serde::Serialize;
use solana_sdk::pubkey::Pubkey;
use std::collections::BTreeMap;

/// What one pass did; the numbers a log line and the tests check.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct PassSummary {
    /// `wallet` or `account`.
    pub mode: String,
    /// Margin accounts read.
    pub scanned: usize,
    /// Liquidatable at the start of the pass.
    pub liquidatable: usize,
    /// Accounts that received at least one liquidation.
    pub liquidated: usize,
    /// Liquidation instructions that landed.
    pub liquidations: usize,
    /// USD value repaid (at oracle prices).
    pub repaid_usd: f64,
    /// USD value of the liquidator's bonus (collateral received minus repaid).
    pub bonus_usd: f64,
    /// The profit check's estimate for the transactions that landed: bonus minus fees, priority
    /// fees and swap costs, USD.
    pub profit_usd: f64,
    /// Accounts, transactions or reads that failed (the pass continued). A refused re-check
    /// counts here and in `skipped`.
    pub failures: usize,
    /// Accounts left alone (or left before their target), by reason: one count per account per
    /// pass, for the reason that stopped it.
    pub skipped: Skipped,
    /// Insolvent accounts (no collateral left) whose debt was sent to `bad_debt_resolve`.
    pub bad_debt_resolved: usize,
    /// Compute units the landed liquidation transactions consumed (as the node reports them;
    /// real SBF units on a cluster or with `SBF_OUT_DIR`, a builtin's flat cost natively).
    pub compute_units: u64,
    /// Landed liquidations, as the program's events report them.
    #[serde(skip)]
    pub events: Vec<LiquidationEventSummary>,
}

/// Why a pass left liquidatable accounts alone: each count is accounts.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Skipped {
    /// The profit check failed: the bonus does not pay for the fees and the swap, or not by
    /// `min_profit_usd`. Checked again every pass (prices move), without backoff.
    pub unprofitable: usize,
    /// The account failed before and sits out this pass (module `backoff`).
    pub backing_off: usize,
    /// Wallet mode: the bot holds none of the debt tokens the account could be repaid in.
    pub insufficient_inventory: usize,
    /// Account mode: the bot's margin account cannot take on any of it and keep
    /// `health_init ≥ 0` (or is itself being liquidated).
    pub insufficient_account_health: usize,
    /// The program would accept no liquidation of it (no pair with valid prices plans).
    pub no_plan: usize,
    /// The bot's own account (the program refuses self-liquidation).
    pub own_account: usize,
    /// The re-check simulation was refused, by the program's error name (`NotLiquidatable`:
    /// someone got there first).
    pub recheck_refused: BTreeMap<String, usize>,
    /// A transaction the re-check passed was refused when sent, by error name.
    pub send_refused: BTreeMap<String, usize>,
    /// Simulating or sending failed at the transport after retries.
    pub rpc_errors: usize,
}

impl Skipped {
    /// Accounts skipped for any reason.
    pub fn total(&self) -> usize {
        self.unprofitable
            + self.backing_off
            + self.insufficient_inventory
            + self.insufficient_account_health
            + self.no_plan
            + self.own_account
            + self.recheck_refused.values().sum::<usize>()
            + self.send_refused.values().sum::<usize>()
            + self.rpc_errors
    }

    /// `Name=n,Name=n` of a by-name count (empty when none), for log fields.
    pub fn by_name(counts: &BTreeMap<String, usize>) -> String {
        counts
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl std::fmt::Display for Skipped {
    /// The non-zero reasons, `reason=n` separated by spaces (`none` when nothing was skipped).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        for (name, n) in [
            ("unprofitable", self.unprofitable),
            ("backing_off", self.backing_off),
            ("insufficient_inventory", self.insufficient_inventory),
            (
                "insufficient_account_health",
                self.insufficient_account_health,
            ),
            ("no_plan", self.no_plan),
            ("own_account", self.own_account),
            ("rpc_errors", self.rpc_errors),
        ] {
            if n > 0 {
                parts.push(format!("{name}={n}"));
            }
        }
        for (kind, map) in [
            ("recheck_refused", &self.recheck_refused),
            ("send_refused", &self.send_refused),
        ] {
            for (k, v) in map {
                parts.push(format!("{kind}:{k}={v}"));
            }
        }
        if parts.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&parts.join(" "))
        }
    }
}

/// One landed liquidation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LiquidationEventSummary {
    /// Liquidated account.
    pub account: Pubkey,
    /// Asset market index.
    pub asset_index: u16,
    /// Liability market index.
    pub liab_index: u16,
    /// `x`.
    pub repaid: u64,
    /// `S`.
    pub seized: u64,
    /// Liquidator's share.
    pub to_liquidator: u64,
    /// Insurance share.
    pub to_insurance: u64,
    /// Treasury share.
    pub to_treasury: u64,
    /// `health_end` after (USD).
    pub end_after: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_total() {
        let mut s = Skipped::default();
        assert_eq!(s.to_string(), "none");
        s.unprofitable = 2;
        s.backing_off = 1;
        s.recheck_refused.insert("NotLiquidatable".into(), 3);
        assert_eq!(
            s.to_string(),
            "unprofitable=2 backing_off=1 recheck_refused:NotLiquidatable=3"
        );
        assert_eq!(s.total(), 6);
        assert_eq!(Skipped::by_name(&s.recheck_refused), "NotLiquidatable=3");
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["recheck_refused"]["NotLiquidatable"], 3);
    }
}
