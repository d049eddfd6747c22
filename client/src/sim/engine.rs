//! One policy on one path: minute by minute, the market price (the path's, pushed by earlier
//! liquidation trades), the oracle's publication of it, the accounts it can have made
//! liquidatable ([`super::triggers`]), the liquidators (after their delay, within their capital,
//! deepest deficit first, as the keeper ranks), bad debt, and the trades' impact on the next
//! price. Health, plans and repays are the program's functions on the program's integers.

use super::book::{units, Book, Loaded, Slot};
use super::config::SimConfig;
use super::impact::Impact;
use super::metrics::{RunMetrics, Tally};
use super::oracle::{publish, Tick};
use super::paths::Path;
use super::policy::{liquidate, Fill, Policy, Target};
use super::program::SimProgram;
use super::triggers::Triggers;
use anyhow::Result;
use rand::{Rng, SeedableRng};
use scalpel::math::Health;
use serde::Serialize;
use std::collections::VecDeque;

/// What every run shares: the protocol, the configuration and the indexed population.
pub struct Prepared<'a> {
    /// The protocol.
    pub prog: &'a SimProgram,
    /// The run's configuration.
    pub cfg: &'a SimConfig,
    /// Path assets by symbol.
    pub assets: Vec<String>,
    /// The population.
    pub book: Book,
}

impl<'a> Prepared<'a> {
    /// Indexes `pop` for the runs.
    pub fn new(
        prog: &'a SimProgram,
        pop: &super::population::Population,
        cfg: &'a SimConfig,
        assets: Vec<String>,
    ) -> Result<Self> {
        Ok(Prepared {
            prog,
            cfg,
            assets,
            book: Book::new(prog, pop)?,
        })
    }
}

/// A Scalpel liquidation sequence recorded for replay against the real program.
#[derive(Clone, Debug, Serialize)]
pub struct ReplayCase {
    /// Path.
    pub path: usize,
    /// Step.
    pub step: usize,
    /// Account index.
    pub account: usize,
    /// `(market, deposit, debt)` native balances before the sequence.
    pub balances: Vec<(usize, u64, u64)>,
    /// Every market's publication at that step.
    #[serde(skip)]
    pub ticks: Vec<Tick>,
    /// The pairs, in order.
    pub fills: Vec<ReplayFill>,
}

/// One recorded pair: what the simulation passed and what the plan said.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
pub struct ReplayFill {
    /// Collateral market.
    pub asset: usize,
    /// Debt market.
    pub liab: usize,
    /// `max_repay` passed.
    pub max_repay: u64,
    /// Repaid.
    pub repaid: u64,
    /// Seized.
    pub seized: u64,
    /// To the liquidator.
    pub to_liquidator: u64,
    /// To insurance.
    pub to_insurance: u64,
    /// To the treasury.
    pub to_treasury: u64,
}

/// What a run returns.
pub struct RunResult {
    /// Its measures.
    pub metrics: RunMetrics,
    /// Market price (with impact) of every asset at every step, when asked for.
    pub market_prices: Option<Vec<Vec<f64>>>,
    /// Recorded sequences (Scalpel only).
    pub cases: Vec<ReplayCase>,
    /// Accounts evaluated with the program's health (the work the triggers left).
    pub evaluations: u64,
}

/// Options of one run.
pub struct RunOptions {
    /// Path index (seeds the sample).
    pub path: usize,
    /// The policy.
    pub policy: Policy,
    /// Return the market prices.
    pub keep_prices: bool,
    /// Sequences to record at most (reservoir sample).
    pub samples: usize,
    /// Seed of the sample.
    pub sample_seed: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Armed in the trigger heaps.
    Watching,
    /// Liquidatable; liquidators act at the step held in the queue.
    Queued,
    /// Liquidatable and due.
    Ready,
    /// A deposit's oracle failed at its last evaluation: looked at again next step.
    Recheck,
    /// Nothing a price can do (no debt, no volatile position, or bad debt resolved).
    Closed,
}

/// One account's run state, kept together (the triggers visit accounts in price order).
#[derive(Clone, Copy, Debug)]
struct Acct {
    state: State,
    being: bool,
    version: u32,
    /// Last step it was evaluated as a candidate.
    stamp: u32,
}

struct Live<'p> {
    prep: &'p Prepared<'p>,
    bal: Vec<Slot>,
    acct: Vec<Acct>,
    triggers: Triggers,
    /// Accounts to look at again next step.
    recheck: Vec<u32>,
    evaluations: u64,
    buf: Loaded,
}

impl<'p> Live<'p> {
    /// Loads account `i` at this step's publications and evaluates it.
    fn evaluate(&mut self, i: usize, ticks: &[Tick], unit: &[f64]) -> Option<Health> {
        self.buf.load(&self.prep.book, &self.bal, i, ticks, unit);
        self.evaluations += 1;
        self.buf.health(self.prep.prog)
    }

    /// Back to waiting for a price that could liquidate it (the loaded account).
    fn rearm(&mut self, i: usize, h: &Health) {
        if self.buf.any_dead_deposit() {
            self.acct[i].state = State::Recheck;
            self.recheck.push(i as u32);
            return;
        }
        let a = &mut self.acct[i];
        a.version = a.version.wrapping_add(1);
        let armed = self.buf.arm(
            &mut self.triggers,
            i as u32,
            a.version,
            h.maint.to_num::<f64>(),
        );
        a.state = if armed {
            State::Watching
        } else {
            State::Closed
        };
    }

    /// Liquidatable now: queued for the liquidators; else armed again.
    fn judge(
        &mut self,
        i: usize,
        h: Option<Health>,
        policy: Policy,
        due: usize,
        q: &mut VecDeque<(usize, u32)>,
    ) {
        match h {
            Some(h) if policy.liquidatable(&h, self.acct[i].being) => {
                self.acct[i].state = State::Queued;
                q.push_back((due, i as u32));
            }
            Some(h) => self.rearm(i, &h),
            None => self.acct[i].state = State::Closed,
        }
    }

    /// `bad_debt_resolve`: deposits forfeited, the debt to insurance and depositors.
    fn resolve_bad_debt(&mut self, tally: &mut Tally, i: usize, h: &Health) {
        tally.bad_debt(h.liab_value.to_num::<f64>());
        tally.wiped(i);
        for k in self.prep.book.range(i) {
            (self.bal[k].deposit, self.bal[k].debt) = (0, 0);
        }
        self.acct[i].state = State::Closed;
    }
}

/// Runs `opts.policy` on `path`.
pub fn run(prep: &Prepared, path: &Path, opts: &RunOptions) -> Result<RunResult> {
    let cfg = prep.cfg;
    let prog = prep.prog;
    let book = &prep.book;
    let n = book.len();
    let steps = path.prices.first().map_or(0, Vec::len);
    let n_assets = path.prices.len();
    let mut live = Live {
        prep,
        bal: book.slots.clone(),
        acct: vec![
            Acct {
                state: State::Watching,
                being: false,
                version: 0,
                stamp: u32::MAX,
            };
            n
        ],
        triggers: Triggers::new(
            &path
                .prices
                .iter()
                .map(|p| p.first().copied().unwrap_or(1.0))
                .collect::<Vec<f64>>(),
        ),
        recheck: Vec::new(),
        evaluations: 0,
        buf: Loaded::new(book),
    };
    let mut impact = Impact::new(&cfg.impact, &prep.assets, cfg.event.step_minutes)?;
    let mut tally = Tally::new(n, steps, cfg.population.insurance_usd);
    let mut hist: Vec<Vec<f64>> = vec![Vec::with_capacity(steps); n_assets];
    let mut lows = vec![(f64::INFINITY, f64::INFINITY); n_assets];
    let mut ticks: Vec<Tick> = Vec::with_capacity(prog.markets.len());
    let mut unit: Vec<f64> = Vec::with_capacity(prog.markets.len());
    let mut queue: VecDeque<(usize, u32)> = VecDeque::new();
    let mut ready: Vec<u32> = Vec::new();
    let mut order: Vec<(f64, u32, u32)> = Vec::new();
    let mut healths: Vec<Health> = Vec::new();
    let mut fired = Vec::new();
    let mut cands: Vec<u32> = Vec::new();
    let mut fills: Vec<Fill> = Vec::new();
    let mut sold = vec![0.0; n_assets];
    let mut cases: Vec<ReplayCase> = Vec::new();
    let mut seen = 0usize;
    let mut sampler = rand_chacha::ChaCha8Rng::seed_from_u64(opts.sample_seed);
    sampler.set_stream(opts.path as u64);
    let split = prog.protocol.split_bps;
    let share_ins = f64::from(split[1]) / 1e4;
    let share_protocol = f64::from(split[1] + split[2]) / 1e4;
    let dust = prog.liquidation.dust_threshold;
    let delay = cfg.liquidators.delay_steps as usize;
    let odelay = cfg.oracle.delay_steps as usize;

    for t in 0..steps {
        for (a, h) in hist.iter_mut().enumerate() {
            let p = path.prices[a][t];
            let m = p * impact.factor(a);
            h.push(m);
            lows[a] = (lows[a].0.min(p), lows[a].1.min(m));
        }
        ticks.clear();
        for m in &prog.markets {
            let (price, ret) = match m.asset {
                Some(a) => {
                    let lag = t.saturating_sub(odelay);
                    let prev = hist[a][lag.saturating_sub(1)];
                    (hist[a][lag], (hist[a][lag] / prev).ln())
                }
                None => (0.0, 0.0),
            };
            ticks.push(publish(m, price, ret, t, &cfg.oracle)?);
        }
        units(prog, &ticks, &mut unit);

        // Accounts this step's prices may have made liquidatable (every account at the start).
        cands.clear();
        if t == 0 {
            cands.extend(0..n as u32);
        }
        for (mi, m) in prog.markets.iter().enumerate() {
            if let Some(a) = m.asset {
                fired.clear();
                live.triggers.fired(a, ticks[mi].usd, &mut fired);
                for &(acc, ver) in &fired {
                    let a = &mut live.acct[acc as usize];
                    if a.state != State::Watching || a.version != ver {
                        continue;
                    }
                    if book.exact[acc as usize] {
                        // The trigger is the liquidation price: straight to the liquidators,
                        // who check with the program's health when they act.
                        a.state = State::Queued;
                        queue.push_back((t + delay, acc));
                    } else {
                        cands.push(acc);
                    }
                }
            }
            if !ticks[mi].valid {
                cands.extend(
                    book.multi_deposit[mi]
                        .iter()
                        .filter(|&&i| live.acct[i as usize].state == State::Watching),
                );
            }
        }
        cands.append(&mut live.recheck);
        // Re-armed accounts leave old entries behind: drop them once they outnumber the rest.
        if live.triggers.len() > 4 * n + 1024 {
            let acct = &live.acct;
            live.triggers.compact(|a, v| {
                acct[a as usize].state == State::Watching && acct[a as usize].version == v
            });
        }
        for &acc in &cands {
            let i = acc as usize;
            let a = live.acct[i];
            if a.stamp == t as u32 || !matches!(a.state, State::Watching | State::Recheck) {
                continue;
            }
            live.acct[i].stamp = t as u32;
            let h = live.evaluate(i, &ticks, &unit);
            live.judge(i, h, opts.policy, t + delay, &mut queue);
        }
        while queue.front().is_some_and(|&(due, _)| due <= t) {
            if let Some((_, acc)) = queue.pop_front() {
                live.acct[acc as usize].state = State::Ready;
                ready.push(acc);
            }
        }
        if ready.is_empty() {
            impact.step(&sold);
            continue;
        }

        // The liquidators: deepest deficit first, until the step's capital is spent.
        order.clear();
        healths.clear();
        for &acc in &ready {
            let i = acc as usize;
            let Some(h) = live.evaluate(i, &ticks, &unit) else {
                live.acct[i].state = State::Closed;
                continue;
            };
            if live.buf.bad_debt(prog, &h, &ticks) {
                live.resolve_bad_debt(&mut tally, i, &h);
            } else if !opts.policy.liquidatable(&h, live.acct[i].being) {
                live.rearm(i, &h);
            } else {
                order.push((-h.end.to_num::<f64>(), acc, healths.len() as u32));
                healths.push(h);
            }
        }
        // Accounts are distinct, so the order is total and an unstable sort gives the same one.
        order.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut capital = cfg.liquidators.capital_usd;
        for &(_, acc, k) in &order {
            if capital <= 0.0 {
                break;
            }
            let i = acc as usize;
            let before_h = healths[k as usize];
            let r = book.range(i);
            live.buf.load(book, &live.bal, i, &ticks, &unit);
            let started_unflagged = !live.acct[i].being;
            let sampling = opts.policy == Policy::Scalpel && started_unflagged && opts.samples > 0;
            let before: Vec<(usize, u64, u64)> = if sampling {
                r.clone()
                    .map(|k| {
                        (
                            usize::from(book.markets[k]),
                            live.bal[k].deposit,
                            live.bal[k].debt,
                        )
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let collateral = if tally.was_liquidated(i) {
                0.0
            } else {
                live.buf.collateral_usd()
            };
            fills.clear();
            let mut being = live.acct[i].being;
            let after = {
                let Loaded {
                    pos,
                    len,
                    valid,
                    unit: u,
                    ..
                } = &mut live.buf;
                let mut target = Target {
                    positions: &mut pos[..*len],
                    markets: &book.markets[r.clone()],
                    valid: &valid[..*len],
                    being: &mut being,
                    unit: &u[..*len],
                };
                liquidate(
                    opts.policy,
                    prog,
                    &mut target,
                    before_h,
                    &mut capital,
                    &mut fills,
                )
            };
            live.acct[i].being = being;
            if fills.is_empty() {
                continue;
            }
            live.buf.store(book, &mut live.bal, i);
            if !tally.was_liquidated(i) {
                tally.first(i, collateral);
            }
            for f in &fills {
                // Prices do not change within a step: value at this step's publications.
                let (ma, ml) = (
                    usize::from(book.markets[r.start + f.asset]),
                    usize::from(book.markets[r.start + f.liab]),
                );
                let repaid = f.repay as f64 * unit[ml];
                let seized = f.seized as f64 * unit[ma];
                let (protocol, insurance) = match f.split {
                    Some((_, ins, tre)) => (
                        ins.saturating_add(tre) as f64 * unit[ma],
                        ins as f64 * unit[ma],
                    ),
                    None => {
                        let pen = (seized - repaid).max(0.0);
                        (pen * share_protocol, pen * share_ins)
                    }
                };
                tally.fill(t, i, repaid, seized, insurance);
                if let Some(a) = book.asset_of[ma] {
                    sold[a] += seized - protocol;
                }
                if let Some(a) = book.asset_of[ml] {
                    sold[a] -= repaid;
                }
            }
            if sampling {
                seen += 1;
                let slot = if cases.len() < opts.samples {
                    Some(cases.len())
                } else {
                    let j = sampler.gen_range(0..seen);
                    (j < opts.samples).then_some(j)
                };
                if let Some(s) = slot {
                    let case = ReplayCase {
                        path: opts.path,
                        step: t,
                        account: i,
                        balances: before,
                        ticks: ticks.clone(),
                        fills: fills
                            .iter()
                            .map(|f| replay_fill(f, &book.markets[r.clone()]))
                            .collect(),
                    };
                    if s == cases.len() {
                        cases.push(case);
                    } else {
                        cases[s] = case;
                    }
                }
            }
            let h = match after.or_else(|| live.buf.health(prog)) {
                Some(h) => h,
                None => {
                    live.acct[i].state = State::Closed;
                    continue;
                }
            };
            if h.asset_value < dust {
                tally.wiped(i);
            }
            if live.buf.bad_debt(prog, &h, &ticks) {
                live.resolve_bad_debt(&mut tally, i, &h);
            } else if !opts.policy.liquidatable(&h, live.acct[i].being) {
                live.rearm(i, &h);
            }
        }
        ready.retain(|&acc| live.acct[acc as usize].state == State::Ready);
        impact.step(&sold);
        sold.iter_mut().for_each(|s| *s = 0.0);
    }

    // Debt still underwater at the end is bad debt the protocol is left with (valued at the
    // last publications, a failing one included).
    let alive: Vec<Tick> = ticks.iter().map(|t| Tick { valid: true, ..*t }).collect();
    for i in 0..n {
        if book.range(i).all(|k| live.bal[k].debt == 0) {
            continue;
        }
        if let Some(h) = live.evaluate(i, &alive, &unit) {
            if h.asset_value < h.liab_value {
                tally.bad_debt((h.liab_value - h.asset_value).to_num::<f64>());
            }
        }
    }
    Ok(RunResult {
        metrics: tally.finish(&lows),
        market_prices: opts.keep_prices.then_some(hist),
        cases,
        evaluations: live.evaluations,
    })
}

fn replay_fill(f: &Fill, markets: &[u16]) -> ReplayFill {
    let (l, i, t) = f.split.unwrap_or((f.seized, 0, 0));
    ReplayFill {
        asset: usize::from(markets[f.asset]),
        liab: usize::from(markets[f.liab]),
        max_repay: f.max_repay,
        repaid: f.repay,
        seized: f.seized,
        to_liquidator: l,
        to_insurance: i,
        to_treasury: t,
    }
}
