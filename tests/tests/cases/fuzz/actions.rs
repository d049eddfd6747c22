//! The fuzzer's actions: what a step does, how proptest generates it, and how it is sent. Every
//! action carries raw indices and fractions; sizes are derived from the chain state before the
//! step (a fraction of a wallet, of a deposit, of a debt, of the borrow room init health leaves),
//! so the same action means the same thing whatever came before it. Refusals are expected and
//! recorded; only the invariants decide whether a step is wrong.

use super::invariants::{self, Held, Snap};
use super::{World, MARKETS, THIN, USERS};
use proptest::prelude::*;
use proptest::strategy::{BoxedStrategy, NewTree, Union, ValueTree};
use proptest::test_runner::TestRunner;
use scalpel::events::LiquidationEvent;
use scalpel::health_accounts::{position_price, PriceAge};
use scalpel::math::liquidation::{plan_liquidation, LiquidationPlan};
use scalpel::math::{biased_prices, floor_u64, native_amount, I80F48};
use scalpel::params::{GuardianAction, MarketParams, MAX_LIAB_WEIGHT_BPS};
use scalpel_client::{events, health, ix, Chain, TxFailure, TxOutcome};
use solana_sdk::{
    instruction::Instruction,
    signature::{Keypair, Signer},
};

/// How much a liquidator offers to repay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaxRepay {
    /// `u64::MAX`: the plan decides.
    All,
    /// This fraction (bps) of the liability.
    Bps(u16),
    /// One native unit.
    One,
}

/// A market parameter change queued by the admin and applied after the timelock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamChange {
    /// Lower the maint asset weight and raise the maint liability weight (a shift), keeping
    /// init ≤ maint ≤ 1 ≤ maint ≤ init.
    Tighten { asset_bps: u16, liab_bps: u16 },
    /// A new penalty, clamped into bounds unless `unchecked` (then it may be refused).
    Penalty {
        bps: u16,
        /// `π_min` as a percentage of the new `π` (100: flat).
        min_pct: u8,
        unchecked: bool,
    },
    /// The listing parameters again (loosens what earlier changes tightened).
    Restore,
    /// Caps at a percentage of the current totals (≥ 1 000%: no cap).
    Caps { deposit_pct: u16, borrow_pct: u16 },
    /// Another interest curve.
    Rates {
        base_bps: u32,
        slope1_bps: u32,
        slope2_bps: u32,
        kink_bps: u16,
    },
}

/// A guardian action, applied at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuardianKind {
    PauseMarket {
        flags: u8,
    },
    PauseProtocol {
        flags: u8,
    },
    /// Caps at a percentage of the current totals (refused when that loosens).
    LowerCaps {
        deposit_pct: u16,
        borrow_pct: u16,
    },
    LowerInitAssetWeight {
        drop_bps: u16,
    },
    RaiseInitLiabWeight {
        raise_bps: u16,
    },
    PauseLiquidations {
        secs: u32,
    },
    /// The oracle guards tightened at once: the divergence limit lowered by `divergence_drop_bps`,
    /// the net-borrow limit and the deposit-weight scaling threshold set to a percentage of
    /// today's (a market without one gets `pct` · 1 000 USD); above 100% it loosens, refused.
    TightenOracleGuards {
        divergence_drop_bps: u16,
        limit_pct: u8,
        scale_pct: u8,
    },
}

/// One step. `user` indexes the traders, `target` the holders (traders and lender), `market`
/// the markets; every index is taken modulo its range. Where an action has `pick`, `market`
/// indexes the markets where the action makes sense (a deposit to withdraw, a debt to repay, a
/// market without a deposit to borrow from), or the raw markets when there is none or `pick` is
/// false (to reach the refusals).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Nothing (what shrinking turns irrelevant steps into).
    Skip,
    Create {
        user: u8,
    },
    Deposit {
        user: u8,
        market: u8,
        bps: u16,
    },
    /// `None`: `u64::MAX`, everything.
    Withdraw {
        user: u8,
        market: u8,
        bps: Option<u16>,
        pick: bool,
    },
    /// `bps` of the room init health leaves (above 10 000: refused).
    Borrow {
        user: u8,
        market: u8,
        bps: u16,
        pick: bool,
    },
    /// `None`: `u64::MAX`, all of the debt.
    Repay {
        user: u8,
        market: u8,
        bps: Option<u16>,
        pick: bool,
    },
    Close {
        user: u8,
    },
    /// One native unit of THIN.
    Dust {
        user: u8,
    },
    Insurance {
        user: u8,
        market: u8,
        bps: u16,
    },
    /// Anyone moves a market's pending insurance and treasury shares to their vaults.
    Collect {
        market: u8,
    },
    /// The price moves by `move_bps` (within a factor 1 000 of the listing price) with
    /// confidence `conf_bps` of it, published now; with `ema_lags` the EMA stays where it was
    /// (a pump or a crash the EMA has not caught up with), else it follows.
    Price {
        market: u8,
        move_bps: i32,
        conf_bps: u16,
        ema_lags: bool,
    },
    /// Time passes beyond the market's liquidation age; every other oracle publishes.
    Stale {
        market: u8,
        extra_secs: u16,
    },
    /// The oracle publishes a confidence wider than the market accepts, once (the next
    /// publication is normal again).
    WideConf {
        market: u8,
        extra_bps: u16,
    },
    /// Time passes, every oracle publishes, the markets in the `accrue` bit mask accrue.
    Advance {
        secs: u32,
        accrue: u8,
    },
    /// `pick`: among the liquidatable accounts and their positions; else the raw indices.
    /// `to_account`: `liquidate_to_account` into the lender's margin account (its deposits
    /// back what it takes on) instead of the liquidator's wallet.
    Liquidate {
        target: u8,
        asset: u8,
        liab: u8,
        max_repay: MaxRepay,
        pick: bool,
        to_account: bool,
    },
    /// `pick`: among the accounts eligible for bad debt and their debts; else raw indices.
    BadDebt {
        target: u8,
        market: u8,
        pick: bool,
    },
    Params {
        market: u8,
        change: ParamChange,
    },
    Guardian {
        market: u8,
        kind: GuardianKind,
    },
    /// The admin clears the pause flags of a market, or of the protocol.
    Unpause {
        market: Option<u8>,
    },
}

/// Whether invariant 6 (an init-healthy account stays maint-healthy) applies to the step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// A user action at a fixed clock and prices.
    Position,
    /// Prices, time, governance or bad-debt socialization: they may move any account.
    Market,
}

/// A transaction of a step and its result.
pub struct Tx {
    pub label: &'static str,
    pub result: Result<TxOutcome, TxFailure>,
}

/// What a step did.
pub struct Outcome {
    pub class: Class,
    pub txs: Vec<Tx>,
    /// Violations found while running the step (the liquidation checks).
    pub violations: Vec<String>,
    /// The system program may refuse (`account_create` of an existing account).
    pub system_error_ok: bool,
    /// What the action resolved to (holder, markets, amount), for the failure report.
    pub note: String,
    /// Extra census entries (what bounded a landed liquidation).
    pub tags: Vec<String>,
}

impl Outcome {
    /// The successful transactions labelled `label`.
    pub fn landed<'a>(&'a self, label: &'a str) -> impl Iterator<Item = &'a TxOutcome> {
        self.txs
            .iter()
            .filter(move |t| t.label == label)
            .filter_map(|t| t.result.as_ref().ok())
    }
}

fn user() -> impl Strategy<Value = u8> {
    0..USERS as u8
}

fn market() -> impl Strategy<Value = u8> {
    0..MARKETS as u8
}

fn pick() -> impl Strategy<Value = bool> {
    prop_oneof![4 => Just(true), 1 => Just(false)]
}

fn fraction() -> impl Strategy<Value = u16> {
    prop_oneof![3 => 1..=10_000u16, 1 => Just(10_000u16), 1 => 1..=100u16]
}

fn all_or_fraction() -> impl Strategy<Value = Option<u16>> {
    prop_oneof![1 => Just(None), 3 => fraction().prop_map(Some)]
}

/// The action strategy: user actions most often, then prices and liquidations, then time and
/// governance; shrinking tries `Skip` first ([`SkipFirst`]).
pub fn strategy() -> SkipFirst {
    SkipFirst(actions())
}

/// A strategy whose values shrink to [`Action::Skip`] first, and only if the failure needs the
/// step, through its own fields. Proptest simplifies a vector element by element; without this
/// it would search each irrelevant step's numbers before trying to drop it.
#[derive(Debug)]
pub struct SkipFirst(BoxedStrategy<Action>);

/// [`SkipFirst`]'s value tree.
pub struct SkipFirstTree {
    inner: Box<dyn ValueTree<Value = Action>>,
    state: SkipState,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SkipState {
    /// Not simplified yet.
    Fresh,
    /// `Skip` is being tried.
    Trying,
    /// `Skip` kept the failure: nothing is simpler.
    Skipped,
    /// The step is needed: its fields shrink.
    Inner,
}

impl Strategy for SkipFirst {
    type Tree = SkipFirstTree;
    type Value = Action;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        Ok(SkipFirstTree {
            inner: self.0.new_tree(runner)?,
            state: SkipState::Fresh,
        })
    }
}

impl ValueTree for SkipFirstTree {
    type Value = Action;

    fn current(&self) -> Action {
        match self.state {
            SkipState::Trying | SkipState::Skipped => Action::Skip,
            SkipState::Fresh | SkipState::Inner => self.inner.current(),
        }
    }

    fn simplify(&mut self) -> bool {
        match self.state {
            SkipState::Fresh => {
                self.state = SkipState::Trying;
                true
            }
            SkipState::Trying | SkipState::Skipped => {
                self.state = SkipState::Skipped;
                false
            }
            SkipState::Inner => self.inner.simplify(),
        }
    }

    fn complicate(&mut self) -> bool {
        match self.state {
            SkipState::Trying => {
                self.state = SkipState::Inner;
                true
            }
            SkipState::Inner => self.inner.complicate(),
            SkipState::Fresh | SkipState::Skipped => false,
        }
    }
}

fn actions() -> BoxedStrategy<Action> {
    let arms: Vec<(u32, BoxedStrategy<Action>)> = vec![
        (1, Just(Action::Skip).boxed()),
        (2, user().prop_map(|user| Action::Create { user }).boxed()),
        (
            14,
            (user(), market(), fraction())
                .prop_map(|(user, market, bps)| Action::Deposit { user, market, bps })
                .boxed(),
        ),
        (
            6,
            (user(), market(), all_or_fraction(), pick())
                .prop_map(|(user, market, bps, pick)| Action::Withdraw {
                    user,
                    market,
                    bps,
                    pick,
                })
                .boxed(),
        ),
        (
            14,
            (
                user(),
                market(),
                prop_oneof![4 => 5_000..=10_000u16, 2 => 1..=5_000u16, 1 => 10_001..=15_000u16],
                pick(),
            )
                .prop_map(|(user, market, bps, pick)| Action::Borrow {
                    user,
                    market,
                    bps,
                    pick,
                })
                .boxed(),
        ),
        (
            5,
            (user(), market(), all_or_fraction(), pick())
                .prop_map(|(user, market, bps, pick)| Action::Repay {
                    user,
                    market,
                    bps,
                    pick,
                })
                .boxed(),
        ),
        (2, user().prop_map(|user| Action::Close { user }).boxed()),
        (2, user().prop_map(|user| Action::Dust { user }).boxed()),
        (
            2,
            (user(), market(), 1..=1_000u16)
                .prop_map(|(user, market, bps)| Action::Insurance { user, market, bps })
                .boxed(),
        ),
        (
            2,
            market()
                .prop_map(|market| Action::Collect { market })
                .boxed(),
        ),
        (
            16,
            (
                market(),
                prop_oneof![
                    8 => -1_500..=1_500i32,
                    5 => -8_000..=-1_500i32,
                    1 => -9_990..=-8_000i32,
                    2 => 1_500..=20_000i32,
                ],
                prop_oneof![3 => Just(0u16), 2 => 1..=150u16],
                prop::bool::weighted(0.3),
            )
                .prop_map(|(market, move_bps, conf_bps, ema_lags)| Action::Price {
                    market,
                    move_bps,
                    conf_bps,
                    ema_lags,
                })
                .boxed(),
        ),
        (
            2,
            (market(), 0..=600u16)
                .prop_map(|(market, extra_secs)| Action::Stale { market, extra_secs })
                .boxed(),
        ),
        (
            2,
            (market(), 1..=500u16)
                .prop_map(|(market, extra_bps)| Action::WideConf { market, extra_bps })
                .boxed(),
        ),
        (
            4,
            (
                prop_oneof![2 => 1..=3_600u32, 2 => 3_600..=86_400u32, 1 => 86_400..=30 * 86_400u32],
                0..8u8,
            )
                .prop_map(|(secs, accrue)| Action::Advance { secs, accrue })
                .boxed(),
        ),
        (
            14,
            (
                0..=USERS as u8,
                market(),
                market(),
                prop_oneof![
                    5 => Just(MaxRepay::All),
                    2 => fraction().prop_map(MaxRepay::Bps),
                    1 => Just(MaxRepay::One),
                ],
                pick(),
                prop_oneof![3 => Just(false), 1 => Just(true)],
            )
                .prop_map(
                    |(target, asset, liab, max_repay, pick, to_account)| Action::Liquidate {
                        target,
                        asset,
                        liab,
                        max_repay,
                        pick,
                        to_account,
                    },
                )
                .boxed(),
        ),
        (
            3,
            (
                0..=USERS as u8,
                market(),
                prop_oneof![3 => Just(true), 1 => Just(false)],
            )
                .prop_map(|(target, market, pick)| Action::BadDebt {
                    target,
                    market,
                    pick,
                })
                .boxed(),
        ),
        (
            3,
            (market(), param_change())
                .prop_map(|(market, change)| Action::Params { market, change })
                .boxed(),
        ),
        (
            2,
            (market(), guardian_kind())
                .prop_map(|(market, kind)| Action::Guardian { market, kind })
                .boxed(),
        ),
        (
            2,
            proptest::option::of(market())
                .prop_map(|market| Action::Unpause { market })
                .boxed(),
        ),
    ];
    Union::new_weighted(arms).boxed()
}

fn param_change() -> impl Strategy<Value = ParamChange> {
    prop_oneof![
        3 => (0..=3_000u16, 0..=3_000u16)
            .prop_map(|(asset_bps, liab_bps)| ParamChange::Tighten { asset_bps, liab_bps }),
        2 => (
            0..=3_000u16,
            prop_oneof![1 => Just(100u8), 1 => 0..=100u8],
            prop_oneof![4 => Just(false), 1 => Just(true)],
        )
            .prop_map(|(bps, min_pct, unchecked)| ParamChange::Penalty { bps, min_pct, unchecked }),
        2 => Just(ParamChange::Restore),
        1 => (50..=1_000u16, 50..=1_000u16)
            .prop_map(|(deposit_pct, borrow_pct)| ParamChange::Caps { deposit_pct, borrow_pct }),
        1 => (0..=500u32, 0..=2_000u32, 0..=50_000u32, 100..=9_900u16).prop_map(
            |(base_bps, slope1_bps, slope2_bps, kink_bps)| ParamChange::Rates {
                base_bps,
                slope1_bps,
                slope2_bps,
                kink_bps,
            }
        ),
    ]
}

fn guardian_kind() -> impl Strategy<Value = GuardianKind> {
    prop_oneof![
        2 => (1..16u8).prop_map(|flags| GuardianKind::PauseMarket { flags }),
        1 => (1..8u8).prop_map(|flags| GuardianKind::PauseProtocol { flags }),
        2 => (10..=200u16, 10..=200u16)
            .prop_map(|(deposit_pct, borrow_pct)| GuardianKind::LowerCaps { deposit_pct, borrow_pct }),
        2 => (0..=3_000u16).prop_map(|drop_bps| GuardianKind::LowerInitAssetWeight { drop_bps }),
        2 => (0..=5_000u16).prop_map(|raise_bps| GuardianKind::RaiseInitLiabWeight { raise_bps }),
        2 => (1..=5 * 3_600u32).prop_map(|secs| GuardianKind::PauseLiquidations { secs }),
        2 => (0..=1_000u16, 10..=120u8, 10..=120u8).prop_map(
            |(divergence_drop_bps, limit_pct, scale_pct)| GuardianKind::TightenOracleGuards {
                divergence_drop_bps,
                limit_pct,
                scale_pct,
            }
        ),
    ]
}

/// With `pick`, the `k`-th of `h`'s positions that satisfy `pred` (its market); else, or when
/// there is none, market `k`.
fn choose(
    h: Option<&Held>,
    pick: bool,
    k: u8,
    pred: impl Fn(&scalpel_client::health::ResolvedInput) -> bool,
) -> usize {
    let ms: Vec<usize> = h
        .filter(|_| pick)
        .map(|h| {
            h.inputs
                .iter()
                .filter(|r| pred(r))
                .map(|r| r.market_index as usize)
                .collect()
        })
        .unwrap_or_default();
    if ms.is_empty() {
        k as usize % MARKETS
    } else {
        ms[k as usize % ms.len()]
    }
}

/// `bps` of `v`, rounded down.
pub fn frac(v: u64, bps: u16) -> u64 {
    (v as u128 * bps as u128 / 10_000) as u64
}

/// Sends with the admin paying; a transport error (the bank lost the transaction, as when the
/// program panics) is a violation.
async fn send(
    w: &World,
    out: &mut Outcome,
    label: &'static str,
    ixs: &[Instruction],
    signers: &[&Keypair],
) -> Option<TxOutcome> {
    let mut all: Vec<&Keypair> = vec![&w.env.admin];
    all.extend_from_slice(signers);
    let sent = w.env.chain.send(ixs, &all).await;
    w.written(ixs);
    match sent {
        Ok(result) => {
            let ok = result.as_ref().ok().cloned();
            out.txs.push(Tx { label, result });
            ok
        }
        Err(e) => {
            w.cache.borrow_mut().clear();
            out.violations.push(format!(
                "{label}: the bank returned no result (a panic in the program?): {e:#}"
            ));
            None
        }
    }
}

/// Native units of market `m`'s token that `h` may borrow with init health falling to zero, at
/// the init (biased-up) price and liability weight; the program's own functions price it.
fn borrow_room(s: &Snap, h: &Held, m: usize) -> Option<u64> {
    if h.health.init <= I80F48::ZERO {
        return Some(0);
    }
    let (_, market) = &s.markets[m];
    let oracle = s.oracles.get(&market.oracle)?;
    let p = position_price(
        market,
        I80F48::from_num(-1),
        &oracle.owner,
        &oracle.data,
        s.now,
        PriceAge::Maintenance,
    )
    .ok()?
    .price;
    let (_, high) = biased_prices(
        p.token_price,
        p.token_conf,
        &s.protocol.health_params().ok()?,
    )
    .ok()?;
    if high <= I80F48::ZERO {
        return None;
    }
    let value = h.health.init.checked_div(market.weights(s.now).liab_init)?;
    floor_u64(native_amount(value, high, market.decimals).ok()?).ok()
}

/// Runs one action against the chain, from the state `s` read just before.
pub async fn run(w: &mut World, s: &Snap, a: &Action) -> Outcome {
    let mut out = Outcome {
        class: Class::Position,
        txs: Vec::new(),
        violations: Vec::new(),
        system_error_ok: false,
        note: String::new(),
        tags: Vec::new(),
    };
    let holders = w.holders.len();
    match *a {
        Action::Skip => {}
        Action::Create { user } => {
            let u = &w.holders[user as usize % USERS];
            out.system_error_ok = true;
            let create = ix::account_create(&u.key.pubkey(), 0);
            send(w, &mut out, "account_create", &[create], &[&u.key]).await;
        }
        Action::Deposit { user, market, bps } => {
            let (ui, m) = (user as usize % USERS, market as usize % MARKETS);
            let amount = frac(s.wallets[ui][m], bps).max(1);
            out.note = format!("holder {ui}, market {m}, amount {amount}");
            let u = &w.holders[ui];
            let d = ix::deposit(&w.token_move(u, m), amount);
            send(w, &mut out, "deposit", &[d], &[&u.key]).await;
        }
        Action::Dust { user } => {
            let u = &w.holders[user as usize % USERS];
            let d = ix::deposit(&w.token_move(u, THIN), 1);
            send(w, &mut out, "deposit_dust", &[d], &[&u.key]).await;
        }
        Action::Withdraw {
            user,
            market,
            bps,
            pick,
        } => {
            let ui = user as usize % USERS;
            let m = choose(s.held(ui), pick, market, |r| r.input.deposit > 0);
            let (amount, pairs) = match s.held(ui) {
                None => (bps.map_or(u64::MAX, |_| 1), Vec::new()),
                Some(h) => {
                    let deposit = h.deposit(m);
                    let amount = bps.map_or(u64::MAX, |b| frac(deposit, b).max(1));
                    let closes = amount >= deposit;
                    let close = closes.then_some(m as u16);
                    let pairs = health::pairs_after(&h.account, &s.markets, None, close);
                    (amount, pairs.unwrap_or_default())
                }
            };
            out.note = format!("holder {ui}, market {m}, amount {amount}");
            let u = &w.holders[ui];
            let wd = ix::withdraw(&w.token_move(u, m), amount, &pairs);
            send(w, &mut out, "withdraw", &[wd], &[&u.key]).await;
        }
        Action::Borrow {
            user,
            market,
            bps,
            pick,
        } => {
            // With `pick`, a trader whose init health leaves room to borrow.
            let room: Vec<usize> = (0..USERS)
                .filter(|i| s.held(*i).is_some_and(|h| h.health.init > I80F48::ZERO))
                .collect();
            let ui = match (pick, room.is_empty()) {
                (true, false) => room[user as usize % room.len()],
                _ => user as usize % USERS,
            };
            let m = match (pick, s.held(ui)) {
                // Markets without a deposit of the account (a borrow there is not refused for
                // `BorrowAgainstOwnDeposit`).
                (true, Some(h)) => {
                    let free: Vec<usize> = (0..MARKETS)
                        .filter(|m| {
                            h.inputs
                                .iter()
                                .all(|r| r.market_index as usize != *m || r.shares < I80F48::ZERO)
                        })
                        .collect();
                    if free.is_empty() {
                        market as usize % MARKETS
                    } else {
                        free[market as usize % free.len()]
                    }
                }
                _ => market as usize % MARKETS,
            };
            let (amount, pairs) = match s.held(ui) {
                None => (1, Vec::new()),
                Some(h) => {
                    let room = borrow_room(s, h, m).unwrap_or(0);
                    let amount = (room as u128 * bps as u128 / 10_000).min(u64::MAX as u128);
                    let pairs = health::pairs_after(&h.account, &s.markets, Some(m as u16), None);
                    ((amount as u64).max(1), pairs.unwrap_or_default())
                }
            };
            out.note = format!("holder {ui}, market {m}, amount {amount}");
            let u = &w.holders[ui];
            let b = ix::borrow(&w.token_move(u, m), amount, &pairs);
            send(w, &mut out, "borrow", &[b], &[&u.key]).await;
        }
        Action::Repay {
            user,
            market,
            bps,
            pick,
        } => {
            let ui = user as usize % USERS;
            let m = choose(s.held(ui), pick, market, |r| r.input.debt > 0);
            let debt = s.held(ui).map_or(0, |h| h.debt(m));
            let amount = bps.map_or(u64::MAX, |b| frac(debt, b).max(1));
            out.note = format!("holder {ui}, market {m}, amount {amount}");
            let u = &w.holders[ui];
            let r = ix::repay(&w.token_move(u, m), amount);
            send(w, &mut out, "repay", &[r], &[&u.key]).await;
        }
        Action::Close { user } => {
            let ui = user as usize % USERS;
            let dust = s
                .held(ui)
                .map(|h| health::deposit_markets(&h.account, &s.markets))
                .unwrap_or_default();
            let u = &w.holders[ui];
            let c = ix::account_close(&u.key.pubkey(), &u.account, &dust);
            send(w, &mut out, "account_close", &[c], &[&u.key]).await;
        }
        Action::Insurance { user, market, bps } => {
            let (ui, m) = (user as usize % USERS, market as usize % MARKETS);
            let amount = frac(s.wallets[ui][m], bps).max(1);
            let u = &w.holders[ui];
            let f = ix::insurance_fund(&u.key.pubkey(), &u.tokens[m], &w.markets[m].mint, amount);
            send(w, &mut out, "insurance_fund", &[f], &[&u.key]).await;
        }
        Action::Collect { market } => {
            let m = market as usize % MARKETS;
            let c = ix::market_collect_fees(&w.markets[m].mint);
            send(w, &mut out, "market_collect_fees", &[c], &[]).await;
        }
        Action::Price {
            market,
            move_bps,
            conf_bps,
            ema_lags,
        } => {
            out.class = Class::Market;
            let m = market as usize % MARKETS;
            let f = &mut w.feeds[m];
            let moved = f.price as i128 * (10_000 + move_bps as i128) / 10_000;
            let lo = (f.base as i128 / 1_000).max(1);
            f.price = moved.clamp(lo, f.base as i128 * 1_000) as i64;
            f.conf = (f.price as u128 * conf_bps as u128 / 10_000) as u64;
            if !ema_lags {
                f.ema = f.price;
            }
            w.publish(m).await;
        }
        Action::Stale { market, extra_secs } => {
            out.class = Class::Market;
            let m = market as usize % MARKETS;
            let secs = s.markets[m].1.max_age_liquidation_secs as i64 + 1 + extra_secs as i64;
            w.env.chain.advance_time(secs).await.expect("clock");
            w.publish_all(Some(m)).await;
        }
        Action::WideConf { market, extra_bps } => {
            out.class = Class::Market;
            let m = market as usize % MARKETS;
            let limit = s.markets[m].1.max_conf_bps as u128 + extra_bps as u128;
            let normal = w.feeds[m];
            w.feeds[m].conf = (normal.price as u128 * limit / 10_000 + 1) as u64;
            w.publish(m).await;
            w.feeds[m] = normal;
        }
        Action::Advance { secs, accrue } => {
            out.class = Class::Market;
            w.env.chain.advance_time(secs as i64).await.expect("clock");
            w.publish_all(None).await;
            let ixs: Vec<Instruction> = (0..MARKETS)
                .filter(|m| accrue & (1 << m) != 0)
                .map(|m| ix::market_accrue(&w.markets[m].market))
                .collect();
            if !ixs.is_empty() {
                send(w, &mut out, "market_accrue", &ixs, &[]).await;
            }
        }
        Action::Liquidate {
            target,
            asset,
            liab,
            max_repay,
            pick,
            to_account,
        } => {
            let liquidatable: Vec<usize> = (0..holders)
                .filter(|i| s.held(*i).is_some_and(|h| h.liquidatable()))
                .collect();
            let (ti, am, lm) = match (pick, liquidatable.is_empty()) {
                (true, false) => {
                    let ti = liquidatable[target as usize % liquidatable.len()];
                    let h = s.held(ti);
                    (
                        ti,
                        choose(h, true, asset, |r| r.input.deposit > 0),
                        choose(h, true, liab, |r| r.input.debt > 0),
                    )
                }
                _ => (
                    target as usize % holders,
                    asset as usize % MARKETS,
                    liab as usize % MARKETS,
                ),
            };
            liquidate(w, s, &mut out, (ti, am, lm), max_repay, to_account).await;
        }
        Action::BadDebt {
            target,
            market,
            pick,
        } => {
            out.class = Class::Market;
            let dust = s.protocol.dust_threshold();
            let eligible: Vec<usize> = (0..holders)
                .filter(|i| {
                    s.held(*i)
                        .is_some_and(|h| h.account.has_debt() && h.health.is_bad_debt(dust))
                })
                .collect();
            let (ti, m) = match (pick, eligible.is_empty()) {
                (true, false) => {
                    let ti = eligible[target as usize % eligible.len()];
                    let h = s.held(ti).expect("eligible accounts exist");
                    let debts: Vec<usize> = h
                        .inputs
                        .iter()
                        .filter(|r| r.shares < I80F48::ZERO)
                        .map(|r| r.market_index as usize)
                        .collect();
                    (ti, debts[market as usize % debts.len()])
                }
                _ => (target as usize % holders, market as usize % MARKETS),
            };
            let pairs = match s.held(ti) {
                Some(h) => {
                    health::pairs_after(&h.account, &s.markets, None, None).unwrap_or_default()
                }
                None => Vec::new(),
            };
            out.note = format!("holder {ti}, market {m}");
            let b = ix::bad_debt_resolve(&w.holders[ti].account, &w.markets[m].mint, &pairs);
            send(w, &mut out, "bad_debt_resolve", &[b], &[]).await;
        }
        Action::Params { market, change } => {
            out.class = Class::Market;
            let m = market as usize % MARKETS;
            let Some(params) = new_params(s, w, m, change) else {
                out.violations
                    .push(format!("market {m}'s parameters do not read back"));
                return out;
            };
            let fx = w.markets[m];
            let admin = w.env.admin.pubkey();
            let q = ix::params_queue_market(&admin, &fx.mint, &fx.oracle, 1, fx.feed_id, params);
            if send(w, &mut out, "params_queue_market", &[q], &[])
                .await
                .is_some()
            {
                let timelock = s.protocol.timelock_secs as i64;
                w.env.chain.advance_time(timelock).await.expect("clock");
                w.publish_all(None).await;
                let apply = ix::params_apply_market(&fx.mint, &fx.oracle);
                send(w, &mut out, "params_apply_market", &[apply], &[]).await;
            }
        }
        Action::Guardian { market, kind } => {
            out.class = Class::Market;
            let m = market as usize % MARKETS;
            let mk = &s.markets[m].1;
            let Ok(cur) = mk.params() else {
                out.violations
                    .push(format!("market {m}'s parameters do not read back"));
                return out;
            };
            let pct = |total: scalpel::math::MathResult<u64>, pct: u16| {
                (total.unwrap_or(0) as u128 * pct as u128 / 100).min(u64::MAX as u128) as u64
            };
            let (action, on_market) = match kind {
                GuardianKind::PauseMarket { flags } => {
                    (GuardianAction::PauseMarket { flags }, true)
                }
                GuardianKind::PauseProtocol { flags } => {
                    (GuardianAction::PauseProtocol { flags }, false)
                }
                GuardianKind::LowerCaps {
                    deposit_pct,
                    borrow_pct,
                } => (
                    GuardianAction::LowerCaps {
                        deposit_cap: pct(mk.total_deposits(), deposit_pct),
                        borrow_cap: pct(mk.total_borrows(), borrow_pct),
                    },
                    true,
                ),
                GuardianKind::LowerInitAssetWeight { drop_bps } => (
                    GuardianAction::LowerInitAssetWeight {
                        bps: cur.asset_weight_init_bps.saturating_sub(drop_bps as u32),
                    },
                    true,
                ),
                GuardianKind::RaiseInitLiabWeight { raise_bps } => (
                    GuardianAction::RaiseInitLiabWeight {
                        bps: cur.liab_weight_init_bps + raise_bps as u32,
                    },
                    true,
                ),
                GuardianKind::PauseLiquidations { secs } => {
                    (GuardianAction::PauseLiquidations { secs }, true)
                }
                GuardianKind::TightenOracleGuards {
                    divergence_drop_bps,
                    limit_pct,
                    scale_pct,
                } => {
                    let scaled = |v: u64, pct: u8| match v {
                        u64::MAX => 1_000_000_000 * u64::from(pct),
                        v => (v as u128 * u128::from(pct) / 100).min(u64::MAX as u128) as u64,
                    };
                    (
                        GuardianAction::TightenOracleGuards {
                            max_ema_divergence_bps: cur
                                .max_ema_divergence_bps
                                .saturating_sub(divergence_drop_bps),
                            net_borrow_limit_micro_usd: scaled(
                                cur.net_borrow_limit_micro_usd,
                                limit_pct,
                            ),
                            deposit_weight_scale_start_micro_usd: scaled(
                                cur.deposit_weight_scale_start_micro_usd,
                                scale_pct,
                            ),
                        },
                        true,
                    )
                }
            };
            let mint = on_market.then_some(&w.markets[m].mint);
            let g = ix::guardian_tighten(&w.guardian.pubkey(), mint, action);
            send(w, &mut out, "guardian_tighten", &[g], &[&w.guardian]).await;
        }
        Action::Unpause { market } => {
            out.class = Class::Market;
            let mint = market.map(|m| &w.markets[m as usize % MARKETS].mint);
            let u = ix::admin_set_flags(&w.env.admin.pubkey(), mint, 0);
            send(w, &mut out, "admin_set_flags", &[u], &[]).await;
        }
    }
    out
}

/// The queued parameters of a [`ParamChange`] of market `m`, from its current ones.
fn new_params(s: &Snap, w: &World, m: usize, change: ParamChange) -> Option<MarketParams> {
    let mk = &s.markets[m].1;
    let cur = mk.params().ok()?;
    Some(match change {
        ParamChange::Tighten {
            asset_bps,
            liab_bps,
        } => {
            let asset_maint = cur.asset_weight_maint_bps.saturating_sub(asset_bps as u32);
            let liab_maint = (cur.liab_weight_maint_bps + liab_bps as u32).min(MAX_LIAB_WEIGHT_BPS);
            MarketParams {
                asset_weight_maint_bps: asset_maint,
                asset_weight_init_bps: cur.asset_weight_init_bps.min(asset_maint),
                liab_weight_maint_bps: liab_maint,
                liab_weight_init_bps: cur.liab_weight_init_bps.max(liab_maint),
                ..cur
            }
        }
        ParamChange::Penalty {
            bps,
            min_pct,
            unchecked,
        } => {
            let mut p = bps as u64;
            if !unchecked {
                p = p.min(scalpel::constants::bounds::MAX_LIQUIDATION_PENALTY_BPS as u64);
                // (10⁴ + π) · wA < 10⁸, the bound `MarketParams::validate` checks.
                let wa = cur.asset_weight_maint_bps as u64;
                if let Some(q) = (100_000_000u64 - 1).checked_div(wa) {
                    p = p.min(q.saturating_sub(10_000));
                }
            }
            MarketParams {
                liquidation_penalty_bps: p as u16,
                liquidation_penalty_min_bps: (p * min_pct as u64 / 100) as u16,
                ..cur
            }
        }
        ParamChange::Restore => w.listed[m],
        ParamChange::Caps {
            deposit_pct,
            borrow_pct,
        } => {
            let cap = |total: u64, pct: u16| {
                if pct >= 1_000 {
                    u64::MAX
                } else {
                    (total as u128 * pct as u128 / 100).min(u64::MAX as u128) as u64
                }
            };
            MarketParams {
                deposit_cap: cap(mk.total_deposits().ok()?, deposit_pct),
                borrow_cap: cap(mk.total_borrows().ok()?, borrow_pct),
                ..cur
            }
        }
        ParamChange::Rates {
            base_bps,
            slope1_bps,
            slope2_bps,
            kink_bps,
        } => MarketParams {
            base_rate_bps: base_bps,
            slope1_bps,
            slope2_bps,
            optimal_utilization_bps: kink_bps,
            ..cur
        },
    })
}

/// The plan the shared `plan_liquidation` makes for `h`'s (asset `am`, liability `lm`) pair,
/// with the positions' indices in `h.inputs`; `Err` names why there is none.
pub fn plan_for(
    s: &Snap,
    h: &Held,
    am: usize,
    lm: usize,
    max_repay: u64,
) -> Result<(usize, usize, LiquidationPlan), String> {
    let find = |m: usize| h.inputs.iter().position(|r| r.market_index as usize == m);
    let (Some(ai), Some(li)) = (find(am), find(lm)) else {
        return Err("no such positions".into());
    };
    let inputs: Vec<_> = h.inputs.iter().map(|r| r.input).collect();
    let params = s.protocol.liquidation_params().map_err(|e| e.to_string())?;
    plan_liquidation(
        &inputs,
        ai,
        li,
        h.inputs[ai].penalty,
        h.account.being_liquidated != 0,
        max_repay,
        &params,
    )
    .map(|p| (ai, li, p))
    .map_err(|e| format!("{e:?}"))
}

/// The liquidator liquidates holder `ti`'s (asset `am`, liability `lm`) pair; a successful one
/// must be the plan the shared functions made (invariant 5's checks on the event).
async fn liquidate(
    w: &World,
    s: &Snap,
    out: &mut Outcome,
    (ti, am, lm): (usize, usize, usize),
    max_repay: MaxRepay,
    to_account: bool,
) {
    let held = s.held(ti);
    let max = match max_repay {
        MaxRepay::All => u64::MAX,
        MaxRepay::Bps(b) => frac(held.map_or(0, |h| h.debt(lm)), b).max(1),
        MaxRepay::One => 1,
    };
    let pairs = held
        .and_then(|h| health::pairs_after(&h.account, &s.markets, None, None).ok())
        .unwrap_or_default();
    let plan = held.map(|h| plan_for(s, h, am, lm, max));
    out.note = format!(
        "holder {ti}, asset {am}, liability {lm}, max_repay {max}{}",
        if to_account {
            ", into the lender's account"
        } else {
            ""
        }
    );
    let sent = if to_account {
        // The lender's margin account takes the plan's debt and collateral; its health
        // accounts after come from the program's own `take_over` (its current ones when there
        // is no plan, to be refused).
        let lender = &w.holders[USERS];
        let mine = s.held(USERS);
        let after = match (mine, &plan) {
            (Some(me), Some(Ok((_, _, p)))) => health::pairs_after_take_over(
                &me.account,
                &s.markets,
                (am as u16, p.to_liquidator),
                (lm as u16, p.repay),
                s.now,
            )
            .ok(),
            (Some(me), _) => health::pairs_after(&me.account, &s.markets, None, None).ok(),
            _ => None,
        }
        .unwrap_or_default();
        let l = ix::liquidate_to_account(
            &ix::LiquidateToAccountAccounts {
                liquidatee: w.holders[ti].account,
                asset_mint: w.markets[am].mint,
                liab_mint: w.markets[lm].mint,
                liquidator: lender.key.pubkey(),
                liquidator_account: lender.account,
            },
            max,
            &pairs,
            &after,
        );
        send(w, out, "liquidate_to_account", &[l], &[&lender.key]).await
    } else {
        let l = ix::liquidate(&liquidate_accounts(w, ti, am, lm), max, &pairs);
        send(w, out, "liquidate", &[l], &[&w.liquidator.key]).await
    };
    let Some(ok) = sent else {
        return;
    };
    let Some(ev) = events::parse::<LiquidationEvent>(&ok.logs)
        .into_iter()
        .next()
    else {
        out.violations
            .push("a liquidation landed without its event".into());
        return;
    };
    match (held, plan) {
        (Some(h), Some(Ok((ai, li, plan)))) => {
            out.tags.push(format!(
                "{}: landed, bounded by {:?}",
                if to_account {
                    "liquidate_to_account"
                } else {
                    "liquidate"
                },
                plan.bound
            ));
            out.violations
                .extend(invariants::check_liquidation(s, h, ai, li, &plan, &ev, max));
        }
        (_, plan) => out.violations.push(format!(
            "the program liquidated holder {ti} ({am}, {lm}) where the shared plan refused: {:?}",
            plan.map(|p| p.err())
        )),
    }
}

/// The accounts of the liquidator's liquidation of holder `ti`'s (`am`, `lm`) pair.
pub fn liquidate_accounts(w: &World, ti: usize, am: usize, lm: usize) -> ix::LiquidateAccounts {
    ix::LiquidateAccounts {
        liquidatee: w.holders[ti].account,
        asset_mint: w.markets[am].mint,
        liab_mint: w.markets[lm].mint,
        liquidator: w.liquidator.key.pubkey(),
        liquidator_liab_token: w.liquidator.tokens[lm],
        liquidator_asset_token: w.liquidator.tokens[am],
    }
}
