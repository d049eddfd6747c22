//! Backoff in passes for accounts that keep failing: after the `n`th failure in a row an
//! account sits out `min(2^(n−1), cap)` passes (1, 2, 4, …), so a liquidation the program keeps
//! refusing, or one the bot cannot fund, costs one attempt per growing interval instead of one
//! per pass. A success forgets the account, and so does any change of its data (someone traded,
//! repaid or liquidated it: the next pass tries again at once). A failure for lack of funds also
//! ends when the bot's funds change.

use solana_sdk::pubkey::Pubkey;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

/// A 64-bit fingerprint of some bytes (the account's data, the bot's funds).
pub fn fingerprint(bytes: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// One account's failure record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    /// Failures in a row.
    failures: u32,
    /// Passes still to sit out.
    waiting: u32,
    /// The account's data when it last failed.
    data: u64,
    /// The bot's funds when it last failed, for a failure for lack of funds.
    funds: Option<u64>,
}

/// The failure records of one bot, kept across passes.
#[derive(Clone, Debug, Default)]
pub struct Backoff {
    cap: u32,
    entries: HashMap<Pubkey, Entry>,
}

impl Backoff {
    /// Waits of at most `cap` passes (at least 1).
    pub fn new(cap: u32) -> Self {
        Self {
            cap: cap.max(1),
            entries: HashMap::new(),
        }
    }

    /// Whether `account` sits out this pass. Its record is dropped when its data (`data`) or,
    /// for a failure for lack of funds, the bot's funds (`funds`) changed since it failed;
    /// otherwise one pass of its wait is used up.
    pub fn skip(&mut self, account: &Pubkey, data: u64, funds: u64) -> bool {
        let Some(e) = self.entries.get_mut(account) else {
            return false;
        };
        if e.data != data || e.funds.is_some_and(|f| f != funds) {
            self.entries.remove(account);
            return false;
        }
        if e.waiting == 0 {
            return false;
        }
        e.waiting -= 1;
        true
    }

    /// Records a failure of `account`, whose data is `data`; `funds` is the bot's funds'
    /// fingerprint when the failure was for lack of them.
    pub fn failed(&mut self, account: &Pubkey, data: u64, funds: Option<u64>) {
        let failures = self
            .entries
            .get(account)
            .filter(|e| e.data == data)
            .map_or(1, |e| e.failures.saturating_add(1));
        let waiting = 1u32
            .checked_shl(failures - 1)
            .unwrap_or(u32::MAX)
            .min(self.cap);
        self.entries.insert(
            *account,
            Entry {
                failures,
                waiting,
                data,
                funds,
            },
        );
    }

    /// Forgets `account` (it was liquidated or resolved).
    pub fn succeeded(&mut self, account: &Pubkey) {
        self.entries.remove(account);
    }

    /// Forgets every account not in `live` (no longer liquidatable).
    pub fn retain(&mut self, live: &HashSet<Pubkey>) {
        self.entries.retain(|k, _| live.contains(k));
    }

    /// Failures in a row and passes still to sit out, if `account` has failed.
    pub fn state(&self, account: &Pubkey) -> Option<(u32, u32)> {
        self.entries.get(account).map(|e| (e.failures, e.waiting))
    }

    /// Accounts with a failure record.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no account has a failure record.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The passes (1-based) in which an account that fails every attempt is attempted.
    fn attempts(cap: u32, passes: u32) -> Vec<u32> {
        let mut b = Backoff::new(cap);
        let k = Pubkey::new_unique();
        let mut out = Vec::new();
        for pass in 1..=passes {
            if !b.skip(&k, 7, 0) {
                out.push(pass);
                b.failed(&k, 7, None);
            }
        }
        out
    }

    #[test]
    fn waits_double_up_to_the_cap() {
        // Sits out 1, 2, 4, 8 passes.
        assert_eq!(attempts(64, 30), vec![1, 3, 6, 11, 20]);
        // Capped at 2: 1, 2, 2, 2, …
        assert_eq!(attempts(2, 12), vec![1, 3, 6, 9, 12]);
        assert_eq!(attempts(1, 5), vec![1, 3, 5]);
    }

    #[test]
    fn success_and_changes_reset() {
        let mut b = Backoff::new(64);
        let k = Pubkey::new_unique();
        b.failed(&k, 1, None);
        b.failed(&k, 1, None);
        assert_eq!(b.state(&k), Some((2, 2)));
        // The account's data changed: tried at once, and its next failure counts from one.
        assert!(!b.skip(&k, 2, 0));
        assert_eq!(b.state(&k), None);
        b.failed(&k, 2, None);
        assert_eq!(b.state(&k), Some((1, 1)));
        b.succeeded(&k);
        assert!(!b.skip(&k, 2, 0));
        // A failure for lack of funds ends when the funds change, not otherwise.
        b.failed(&k, 2, Some(10));
        assert!(b.skip(&k, 2, 10));
        b.failed(&k, 2, Some(10));
        assert!(b.skip(&k, 2, 10));
        assert!(!b.skip(&k, 2, 11));
        assert!(b.is_empty());
        // Accounts no longer liquidatable are forgotten.
        b.failed(&k, 2, None);
        b.retain(&HashSet::new());
        assert_eq!(b.len(), 0);
    }
}
