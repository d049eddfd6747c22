//! The population as the engine holds it: per position only the native balances and the market,
//! in flat arrays; a position's health input is the market's template (what `position_input`
//! returns for it at unit indices, checked against the population once) with the balances and
//! this step's publication filled in. An account the triggers visit is then two cache lines,
//! not a dozen: the runs are bound by memory, not by arithmetic.

use super::oracle::Tick;
use super::policy::per_native;
use super::population::Population;
use super::program::SimProgram;
use super::triggers::Triggers;
use anyhow::{bail, Result};
use scalpel::math::{compute_maint_health, Health, HealthPosition, I80F48};
use std::ops::Range;

/// Most positions an account holds (the program's slots).
pub const MAX: usize = 8;

/// The population, indexed once for every run.
pub struct Book {
    /// Account `i`'s positions are `start[i]..start[i + 1]`.
    start: Vec<u32>,
    /// Opening balances and market of each position, flat.
    pub(super) slots: Vec<Slot>,
    /// Market of each position, flat (what the policies read).
    pub(super) markets: Vec<u16>,
    /// Per market: the health input of a position in it, balances and price zero.
    templates: Vec<HealthPosition>,
    /// Per market: the path asset (`None`: a fixed price).
    pub(super) asset_of: Vec<Option<usize>>,
    /// Per market: maintenance asset and liability weights, `f64` (the triggers' exposure).
    weights: Vec<[f64; 2]>,
    /// Per market: accounts with a deposit there and another deposit besides (a failing
    /// oracle there changes what they can be liquidated for).
    pub(super) multi_deposit: Vec<Vec<u32>>,
    /// Accounts with a single volatile position: their trigger is their liquidation price.
    pub(super) exact: Vec<bool>,
}

impl Book {
    /// Indexes `pop`, checking that every opening position is its market's template with its
    /// balances (so a position rebuilt here is the program's `position_input` exactly).
    pub fn new(prog: &SimProgram, pop: &Population) -> Result<Book> {
        let templates: Vec<HealthPosition> = prog
            .markets
            .iter()
            .enumerate()
            .map(|(m, _)| {
                let zero = scalpel::oracle::OraclePrice {
                    token_price: I80F48::ZERO,
                    token_conf: I80F48::ZERO,
                    publish_time: 0,
                    ema_price: I80F48::ZERO,
                    ema_conf: I80F48::ZERO,
                    decimals: prog.markets[m].decimals,
                };
                prog.position(m, 0, false, &zero)
            })
            .collect::<Result<_>>()?;
        let mut b = Book {
            start: vec![0],
            slots: Vec::new(),
            markets: Vec::new(),
            asset_of: prog.markets.iter().map(|m| m.asset).collect(),
            weights: templates
                .iter()
                .map(|t| {
                    [
                        t.asset_weight_maint.to_num::<f64>(),
                        t.liab_weight_maint.to_num::<f64>(),
                    ]
                })
                .collect(),
            templates,
            multi_deposit: vec![Vec::new(); prog.markets.len()],
            exact: Vec::new(),
        };
        for (i, a) in pop.accounts.iter().enumerate() {
            if a.positions.len() > MAX {
                bail!(
                    "account {i} holds {} positions; the program allows {MAX}",
                    a.positions.len()
                );
            }
            for (p, &m) in a.positions.iter().zip(&a.markets) {
                let mut t = b.templates[m];
                (t.deposit, t.debt, t.price, t.conf) = (p.deposit, p.debt, p.price, p.conf);
                (t.ema_price, t.ema_conf) = (p.ema_price, p.ema_conf);
                if t != *p {
                    bail!("account {i}: a position differs from its market's template");
                }
                b.slots.push(Slot {
                    deposit: p.deposit,
                    debt: p.debt,
                });
                b.markets.push(m as u16);
            }
            b.start.push(b.slots.len() as u32);
            let deposits = a.positions.iter().filter(|x| x.deposit > 0).count();
            if deposits > 1 {
                for (x, &m) in a.positions.iter().zip(&a.markets) {
                    if x.deposit > 0 {
                        b.multi_deposit[m].push(i as u32);
                    }
                }
            }
            let volatile = a
                .markets
                .iter()
                .filter(|&&m| b.asset_of[m].is_some())
                .count();
            b.exact.push(volatile == 1);
        }
        Ok(b)
    }

    /// Accounts.
    pub fn len(&self) -> usize {
        self.start.len() - 1
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Account `i`'s positions in the flat arrays.
    pub fn range(&self, i: usize) -> Range<usize> {
        self.start[i] as usize..self.start[i + 1] as usize
    }
}

/// One position's balances as a run changes them (its market is the book's, read-only and
/// shared by the runs: 16 bytes a position keep a run's balances in the core's cache).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    /// Deposit, native units.
    pub deposit: u64,
    /// Debt, native units.
    pub debt: u64,
}

/// One account loaded for evaluation: its positions' health inputs at this step's publications
/// (a deposit behind a failing oracle is worth zero, a debt keeps the published price:
/// `position_price`'s rules) and what the liquidators and triggers read alongside.
pub struct Loaded {
    /// Health inputs.
    pub pos: [HealthPosition; MAX],
    /// Positions used.
    pub len: usize,
    /// Oracle accepted, per position.
    pub valid: [bool; MAX],
    /// USD per native unit, `f64` (zero for a deposit whose oracle failed).
    pub unit: [f64; MAX],
    price: [f64; MAX],
    weight: [f64; MAX],
    asset: [Option<usize>; MAX],
    /// The market whose template slot `j` holds (`u16::MAX`: none yet). Accounts of one shape
    /// follow each other, so most loads only write balances and prices.
    market: [u16; MAX],
}

impl Loaded {
    /// An empty buffer.
    pub fn new(b: &Book) -> Loaded {
        let t = b.templates.first().copied().unwrap_or(HealthPosition {
            deposit: 0,
            debt: 0,
            price: I80F48::ZERO,
            conf: I80F48::ZERO,
            ema_price: I80F48::ZERO,
            ema_conf: I80F48::ZERO,
            decimals: 0,
            asset_weight_init: I80F48::ZERO,
            asset_weight_maint: I80F48::ZERO,
            liab_weight_init: I80F48::ZERO,
            liab_weight_maint: I80F48::ZERO,
        });
        Loaded {
            pos: [t; MAX],
            len: 0,
            valid: [true; MAX],
            unit: [0.0; MAX],
            price: [0.0; MAX],
            weight: [0.0; MAX],
            asset: [None; MAX],
            market: [u16::MAX; MAX],
        }
    }

    /// The health inputs.
    pub fn positions(&self) -> &[HealthPosition] {
        &self.pos[..self.len]
    }

    /// Account `i` of `b` with `slots` as its positions, at `ticks` (`unit[m]`: USD per native
    /// unit of market `m`).
    pub fn load(&mut self, b: &Book, slots: &[Slot], i: usize, ticks: &[Tick], unit: &[f64]) {
        let r = b.range(i);
        self.len = r.len();
        for (j, k) in r.enumerate() {
            let s = slots[k];
            let market = b.markets[k];
            let m = usize::from(market);
            let t = &ticks[m];
            let p = &mut self.pos[j];
            if self.market[j] != market {
                // The template's decimals and weights; its balances and prices are all written
                // below (a copy of the whole template is a call to `memcpy`). Destructured in
                // full, so a field added to the position cannot be missed here.
                let HealthPosition {
                    deposit: _,
                    debt: _,
                    price: _,
                    conf: _,
                    ema_price: _,
                    ema_conf: _,
                    decimals,
                    asset_weight_init,
                    asset_weight_maint,
                    liab_weight_init,
                    liab_weight_maint,
                } = b.templates[m];
                p.decimals = decimals;
                (p.asset_weight_init, p.asset_weight_maint) =
                    (asset_weight_init, asset_weight_maint);
                (p.liab_weight_init, p.liab_weight_maint) = (liab_weight_init, liab_weight_maint);
                self.market[j] = market;
                self.asset[j] = b.asset_of[m];
            }
            (p.deposit, p.debt) = (s.deposit, s.debt);
            let dead = p.deposit > 0 && !t.valid;
            // The model's feeds are steady: their EMA is the price (docs/SIMULATION.md). A
            // deposit behind a failing oracle is worth zero, as in the template.
            let (price, conf) = if dead {
                (I80F48::ZERO, I80F48::ZERO)
            } else {
                (t.price.token_price, t.price.token_conf)
            };
            (p.price, p.conf, p.ema_price, p.ema_conf) = (price, conf, price, conf);
            self.weight[j] = b.weights[m][usize::from(p.deposit == 0)];
            self.valid[j] = t.valid;
            self.unit[j] = if dead { 0.0 } else { unit[m] };
            self.price[j] = t.usd;
        }
    }

    /// The program's maintenance health of the loaded positions.
    pub fn health(&self, prog: &SimProgram) -> Option<Health> {
        compute_maint_health(self.positions(), &prog.liquidation.health).ok()
    }

    /// Whether `bad_debt_resolve` would accept the loaded account of maintenance health `h`:
    /// insolvent with dust deposits, and still so with a deposit behind a failing oracle valued
    /// at its published price (the program's `PriceAge::BadDebt`).
    pub fn bad_debt(&self, prog: &SimProgram, h: &Health, ticks: &[Tick]) -> bool {
        let dust = prog.liquidation.dust_threshold;
        if !h.is_bad_debt(dust) {
            return false;
        }
        if !self.any_dead_deposit() {
            return true;
        }
        let mut pos = self.pos;
        for (j, p) in pos.iter_mut().enumerate().take(self.len) {
            if p.deposit > 0 && !self.valid[j] {
                let t = &ticks[usize::from(self.market[j])];
                (p.price, p.conf) = (t.price.token_price, t.price.token_conf);
                (p.ema_price, p.ema_conf) = (p.price, p.conf);
            }
        }
        compute_maint_health(&pos[..self.len], &prog.liquidation.health)
            .is_ok_and(|h| h.is_bad_debt(dust))
    }

    /// Whether a deposit's oracle failed (the account is looked at again next step rather than
    /// armed on a price it cannot be liquidated at).
    pub fn any_dead_deposit(&self) -> bool {
        (0..self.len).any(|j| self.pos[j].deposit > 0 && !self.valid[j])
    }

    /// Arms the loaded account in `triggers`.
    pub fn arm(&self, triggers: &mut Triggers, account: u32, version: u32, maint: f64) -> bool {
        triggers.arm(
            account,
            version,
            maint,
            self.positions(),
            &self.asset[..self.len],
            &self.price[..self.len],
            &self.weight[..self.len],
        )
    }

    /// Writes the loaded balances back.
    pub fn store(&self, b: &Book, slots: &mut [Slot], i: usize) {
        for (j, k) in b.range(i).enumerate() {
            (slots[k].deposit, slots[k].debt) = (self.pos[j].deposit, self.pos[j].debt);
        }
    }

    /// USD value of the loaded deposits.
    pub fn collateral_usd(&self) -> f64 {
        (0..self.len)
            .map(|j| self.pos[j].deposit as f64 * self.unit[j])
            .sum()
    }
}

/// USD per native unit of every market at `ticks`.
pub fn units(prog: &SimProgram, ticks: &[Tick], out: &mut Vec<f64>) {
    out.clear();
    out.extend(
        ticks
            .iter()
            .zip(&prog.markets)
            .map(|(t, m)| t.usd * per_native(m.decimals)),
    );
}
