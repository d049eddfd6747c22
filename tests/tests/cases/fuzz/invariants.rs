//! What must hold after every step. The chain is read once per step into a [`Snap`]; accounts
//! are valued with the program's own functions (`scalpel::health_accounts::position_price` and
//! `position_input` through `scalpel_client::health::resolve_positions`, then
//! `scalpel::math::compute_health` and `plan_liquidation`), never with a copy of a formula.
//!
//! 1. Books: each market's vault holds what depositors can claim beyond what borrowers owe, plus
//!    the insurance and treasury shares recorded in it,
//!    `vault + deficit + VAULT_SLACK ≥ total_deposits − total_borrows + pending`; every mint's supply is
//!    what the harness minted, and the known token accounts hold all of it.
//! 2. Shares: each market's share totals are exactly the sum of the accounts' shares; indices
//!    never fall, except the deposit index in a successful `bad_debt_resolve`, and then by no
//!    more than the socialized loss per share.
//! 3. Every refusal is named (the program's, Anchor's or the token program's error); never
//!    `AccountBeingLiquidated`.
//! 4. An account without debt can withdraw everything and close (simulated).
//! 5. A liquidatable account's priced pairs can be liquidated (simulated), exactly as the
//!    shared plan says; a liquidation bounded by `Need` lands `health_end` on zero.
//! 6. A user action at fixed prices and clock leaves no init-healthy account maint-unhealthy.
//! 7. A market's net borrows in its window never exceed its net-borrow limit, valued at the spot
//!    price of the borrow that raised them.

use super::actions::{self, Class, Outcome};
use super::{Stats, World};
use scalpel::errors::ScalpelError;
use scalpel::events::{BadDebtResolved, LiquidationEvent};
use scalpel::health_accounts::{position_price, PriceAge};
use scalpel::math::liquidation::{LiquidationPlan, RepayBound};
use scalpel::math::{compute_health, fx, token_value_ceil, Health, HealthPosition, I80F48};
use scalpel::state::{MarginAccount, Market, Protocol};
use scalpel_client::chain::anchor_error_name;
use scalpel_client::health::{self, ResolvedInput};
use scalpel_client::{decode, events, ix, pda, Chain, TxFailure};
use solana_sdk::{account::Account, program_pack::Pack, pubkey::Pubkey, signature::Signer};
use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

/// Native units by which a vault may fall short of `deposits − borrows` through rounding.
///
/// `total_deposits()` floors `Σ shares · deposit_index` and `total_borrows()` ceils
/// `Σ shares · borrow_index`; every operation rounds its own share change against the user
/// (withdrawals and seizures burn ceiled shares, repayments burn floored shares, interest pays
/// depositors at most what borrowers owe), so the vault's surplus over the exact difference
/// never shrinks. What remains is the flooring of the two totals against each other: below one
/// unit each, two in all.
pub const VAULT_SLACK: u64 = 2;

/// A margin account, its positions resolved under `PriceAge::Maintenance` (deposits behind a
/// failing oracle are worth zero, debts keep their last price) and its health.
pub struct Held {
    pub account: MarginAccount,
    /// The account's bytes (the memo's key).
    pub raw: Vec<u8>,
    pub inputs: Vec<ResolvedInput>,
    pub health: Health,
}

impl Held {
    fn position(&self, m: usize) -> Option<&ResolvedInput> {
        self.inputs.iter().find(|r| r.market_index as usize == m)
    }

    /// Deposit in market `m`, native units at the current indices (floored).
    pub fn deposit(&self, m: usize) -> u64 {
        self.position(m).map_or(0, |r| r.input.deposit)
    }

    /// Debt in market `m`, native units at the current indices (ceiled).
    pub fn debt(&self, m: usize) -> u64 {
        self.position(m).map_or(0, |r| r.input.debt)
    }

    /// `maint < 0`, or being liquidated with `end < 0`.
    pub fn liquidatable(&self) -> bool {
        self.health
            .is_liquidatable(self.account.being_liquidated != 0)
    }
}

/// Everything the invariants read, at one clock.
pub struct Snap {
    pub now: i64,
    pub protocol: Protocol,
    /// `(market, Market)` in market-index order (the fixtures' order).
    pub markets: Vec<(Pubkey, Market)>,
    pub oracles: HashMap<Pubkey, Account>,
    /// Per holder: its margin account, if it exists.
    pub holders: Vec<Option<Held>>,
    pub vault: Vec<u64>,
    pub insurance: Vec<u64>,
    pub treasury: Vec<u64>,
    /// Per wallet (holders, then the liquidator), per market.
    pub wallets: Vec<Vec<u64>>,
    pub supply: Vec<u64>,
    /// The protocol's and the markets' bytes (the memo's keys).
    pub raw_protocol: Vec<u8>,
    pub raw_markets: Vec<Vec<u8>>,
}

/// Simulations of invariants 4 and 5 already passed, by a hash of every input they read: a
/// simulation is a function of the accounts it reads and the clock, so while none of them
/// changed it is not repeated (a price move does not touch an account without debt, nor a
/// deposit in SOL an account that holds only USDC).
#[derive(Default)]
pub struct Memo {
    passed: HashSet<u64>,
}

impl Memo {
    fn key(parts: &[&[u8]]) -> u64 {
        let mut h = DefaultHasher::new();
        for p in parts {
            p.hash(&mut h);
        }
        h.finish()
    }
}

fn token_amount(a: Option<Account>, what: &str) -> Result<u64, String> {
    let a = a.ok_or_else(|| format!("{what} is missing"))?;
    spl_token::state::Account::unpack(&a.data)
        .map(|t| t.amount)
        .map_err(|e| format!("{what}: {e}"))
}

impl Snap {
    pub fn held(&self, i: usize) -> Option<&Held> {
        self.holders.get(i).and_then(|h| h.as_ref())
    }

    /// Reads every account the invariants need in one batch and values the margin accounts. A
    /// margin account the shared functions cannot value is itself a violation.
    pub async fn read(w: &World) -> Result<Snap, String> {
        let chain = &w.env.chain;
        let now = chain
            .clock()
            .await
            .map_err(|e| format!("clock: {e:#}"))?
            .unix_timestamp;
        let mut keys = vec![pda::protocol()];
        keys.extend(w.markets.iter().map(|m| m.market));
        keys.extend(w.markets.iter().map(|m| m.oracle));
        keys.extend(w.markets.iter().map(|m| m.mint));
        for m in &w.markets {
            keys.extend([
                pda::vault(&m.market),
                pda::insurance_vault(&m.market),
                pda::treasury_vault(&m.market),
            ]);
        }
        keys.extend(w.holders.iter().map(|h| h.account));
        for a in w.wallets() {
            keys.extend(a.tokens.iter().copied());
        }
        let missing: Vec<Pubkey> = {
            let cache = w.cache.borrow();
            keys.iter()
                .filter(|k| !cache.contains_key(k))
                .copied()
                .collect()
        };
        let fetched = chain
            .accounts(&missing)
            .await
            .map_err(|e| format!("reading accounts: {e:#}"))?;
        let got: Vec<Option<Account>> = {
            let mut cache = w.cache.borrow_mut();
            cache.extend(missing.into_iter().zip(fetched));
            keys.iter()
                .map(|k| cache.get(k).cloned().flatten())
                .collect()
        };
        let mut it = got.into_iter();
        let mut next = move || it.next().flatten();

        let raw_protocol = next().ok_or("protocol missing")?.data;
        let protocol = decode::protocol(&raw_protocol).map_err(|e| format!("protocol: {e:#}"))?;
        let mut markets = Vec::new();
        let mut raw_markets = Vec::new();
        for fx in &w.markets {
            let a = next().ok_or("market missing")?;
            let m = decode::market(&a.data).map_err(|e| format!("market: {e:#}"))?;
            markets.push((fx.market, m));
            raw_markets.push(a.data);
        }
        let mut oracles = HashMap::new();
        for fx in &w.markets {
            if let Some(a) = next() {
                oracles.insert(fx.oracle, a);
            }
        }
        let mut supply = Vec::new();
        for _ in &w.markets {
            let a = next().ok_or("mint missing")?;
            let mint = spl_token::state::Mint::unpack(&a.data).map_err(|e| format!("mint: {e}"))?;
            supply.push(mint.supply);
        }
        let (mut vault, mut insurance, mut treasury) = (Vec::new(), Vec::new(), Vec::new());
        for _ in &w.markets {
            vault.push(token_amount(next(), "vault")?);
            insurance.push(token_amount(next(), "insurance vault")?);
            treasury.push(token_amount(next(), "treasury vault")?);
        }
        let hp = protocol.health_params().map_err(|e| e.to_string())?;
        let mut holders = Vec::new();
        for i in 0..w.holders.len() {
            let held = match next() {
                Some(a) if a.owner == scalpel::ID => {
                    let account = decode::margin_account(&a.data)
                        .map_err(|e| format!("holder {i}: {e:#}"))?;
                    let inputs = health::resolve_positions(
                        &account,
                        &markets,
                        &oracles,
                        now,
                        PriceAge::Maintenance,
                    )
                    .map_err(|e| format!("holder {i}'s positions cannot be valued: {e:#}"))?;
                    let hi: Vec<HealthPosition> = inputs.iter().map(|r| r.input).collect();
                    let health = compute_health(&hi, &hp)
                        .map_err(|e| format!("holder {i}'s health cannot be computed: {e}"))?;
                    Some(Held {
                        account,
                        raw: a.data,
                        inputs,
                        health,
                    })
                }
                _ => None,
            };
            holders.push(held);
        }
        let mut wallets = Vec::new();
        for _ in w.wallets() {
            let mut per = Vec::new();
            for _ in &w.markets {
                per.push(token_amount(next(), "wallet")?);
            }
            wallets.push(per);
        }
        Ok(Snap {
            now,
            protocol,
            markets,
            oracles,
            holders,
            vault,
            insurance,
            treasury,
            wallets,
            supply,
            raw_protocol,
            raw_markets,
        })
    }
}

/// Invariant 3: a refusal names its error. The program's must be one of `ScalpelError` under
/// its own name, Anchor's one of its framework errors, the token program's a `TokenError`; the
/// system program's only where `system_ok` (creating an account that exists). No panic, no
/// `ProgramFailedToComplete`, no unknown code, and never `AccountBeingLiquidated` (a cured or
/// liquidatable account is never frozen). Nor `MathOverflow`: with amounts and prices within
/// the fuzzer's bounds, a failed checked operation is a missing rule, not a refusal.
pub fn named(f: &TxFailure, system_ok: bool) -> Result<(), String> {
    if f.name == ScalpelError::AccountBeingLiquidated.name() {
        return Err("AccountBeingLiquidated appeared".into());
    }
    if f.name == ScalpelError::MathOverflow.name() {
        return Err("MathOverflow: a computation failed where a rule should refuse".into());
    }
    let Some(code) = f.code else {
        return Err(format!("not a program error: {}", f.name));
    };
    if let Some(e) = ScalpelError::from_code(code) {
        return if e.name() == f.name {
            Ok(())
        } else {
            Err(format!(
                "code {code} is {} but was named {}",
                e.name(),
                f.name
            ))
        };
    }
    if anchor_error_name(code).as_deref() == Some(f.name.as_str()) {
        return Ok(());
    }
    let anchor_logged = f.logs.iter().any(|l| l.contains("AnchorError"));
    if code < 6_000 && anchor_logged && !f.name.starts_with("Custom(") {
        return Ok(());
    }
    if f.name.starts_with("TokenError::") {
        return Ok(());
    }
    if system_ok && f.name == "SystemError::AccountAlreadyInUse" {
        return Ok(());
    }
    Err(format!("unnamed failure {} (code {code})", f.name))
}

/// Invariants 1, 2 (shares), 4 and 5: everything that holds of one state.
pub async fn check_state(w: &World, s: &Snap, stats: &mut Stats, memo: &mut Memo) -> Vec<String> {
    let mut v = Vec::new();
    books(w, s, &mut v);
    exits(w, s, &mut v, stats, memo).await;
    liquidations(w, s, &mut v, stats, memo).await;
    v
}

/// Invariants 1 and 2 (share totals).
fn books(w: &World, s: &Snap, v: &mut Vec<String>) {
    for (m, (_, mk)) in s.markets.iter().enumerate() {
        let (Ok(d), Ok(b)) = (mk.total_deposits(), mk.total_borrows()) else {
            v.push(format!("market {m}: its totals overflow"));
            continue;
        };
        let backing = s.vault[m] as u128 + mk.deficit as u128 + VAULT_SLACK as u128;
        let pending = mk.insurance_pending as u128 + mk.treasury_pending as u128;
        // Signed: borrowers may hold the vault's pending tokens too (they are lent like any
        // deposit), so deposits − borrows can be negative.
        if (backing as i128) < d as i128 - b as i128 + pending as i128 {
            v.push(format!(
                "market {m}: vault {} + deficit {} + slack {VAULT_SLACK} < deposits {d} − \
                 borrows {b} + pending {pending}",
                s.vault[m], mk.deficit
            ));
        }
        if s.supply[m] != w.minted[m] {
            v.push(format!(
                "market {m}: supply {} but the harness minted {}",
                s.supply[m], w.minted[m]
            ));
        }
        let held: u128 = s.vault[m] as u128
            + s.insurance[m] as u128
            + s.treasury[m] as u128
            + s.wallets.iter().map(|t| t[m] as u128).sum::<u128>();
        if held != s.supply[m] as u128 {
            v.push(format!(
                "market {m}: the token accounts hold {held} of a supply of {}",
                s.supply[m]
            ));
        }
        let (mut dep, mut bor) = (I80F48::ZERO, I80F48::ZERO);
        for h in s.holders.iter().flatten() {
            for p in h.account.active_positions() {
                if p.market_index != mk.market_index {
                    continue;
                }
                let sh = p.shares();
                if sh > I80F48::ZERO {
                    dep += sh;
                } else {
                    bor -= sh;
                }
            }
        }
        if dep != mk.total_deposit_shares.get() || bor != mk.total_borrow_shares.get() {
            v.push(format!(
                "market {m}: share totals {} / {} but the accounts hold {dep} / {bor}",
                mk.total_deposit_shares.get(),
                mk.total_borrow_shares.get()
            ));
        }
    }
}

/// Invariant 4: every account without debt withdraws everything and closes in one
/// transaction (simulated), unless withdrawals are paused or a vault lacks the liquidity.
/// Deposits worth less than a native unit are left to `account_close`, which burns them.
async fn exits(w: &World, s: &Snap, v: &mut Vec<String>, stats: &mut Stats, memo: &mut Memo) {
    if s.protocol.withdrawals_paused(s.now) {
        return;
    }
    'holders: for (i, h) in s.holders.iter().enumerate() {
        let Some(h) = h else { continue };
        if h.account.has_debt() {
            continue;
        }
        let actor = &w.holders[i];
        let mut ixs = Vec::new();
        let mut dust = Vec::new();
        for r in &h.inputs {
            let m = r.market_index as usize;
            if r.input.deposit == 0 {
                dust.push(s.markets[m].0);
                continue;
            }
            if s.markets[m].1.withdrawals_paused(s.now) || s.vault[m] < r.input.deposit {
                continue 'holders;
            }
            ixs.push(ix::withdraw(&w.token_move(actor, m), u64::MAX, &[]));
        }
        ixs.push(ix::account_close(
            &actor.key.pubkey(),
            &actor.account,
            &dust,
        ));
        let (now, index) = (s.now.to_le_bytes(), i.to_le_bytes());
        let mut parts: Vec<&[u8]> = vec![b"exit", &index, &now, &s.raw_protocol, &h.raw];
        let vaults: Vec<[u8; 8]> = s.vault.iter().map(|a| a.to_le_bytes()).collect();
        for r in &h.inputs {
            let m = r.market_index as usize;
            parts.extend([s.raw_markets[m].as_slice(), &vaults[m]]);
        }
        let key = Memo::key(&parts);
        if memo.passed.contains(&key) {
            continue;
        }
        stats.exit_simulations += 1;
        match w
            .env
            .chain
            .simulate(&ixs, &[&w.env.admin, &actor.key])
            .await
        {
            Ok(Ok(_)) => {
                memo.passed.insert(key);
            }
            Ok(Err(f)) => v.push(format!(
                "holder {i} has no debt but cannot withdraw everything and close: {} \
                 (positions {:?})",
                f.name,
                h.inputs
                    .iter()
                    .map(|r| (r.market_index, r.input.deposit))
                    .collect::<Vec<_>>()
            )),
            Err(e) => v.push(format!("holder {i}'s exit: no result from the bank: {e:#}")),
        }
    }
}

/// Invariant 5: every pair of a liquidatable account whose two prices pass every check can be
/// liquidated by the funded liquidator (simulated, `max_repay = u64::MAX`) exactly as the
/// shared plan says. Allowed refusals: `LiquidationsPaused` while a pause of either market
/// runs, `InsufficientLiquidity` when the asset vault holds less than the liquidator's share of the plan.
async fn liquidations(
    w: &World,
    s: &Snap,
    v: &mut Vec<String>,
    stats: &mut Stats,
    memo: &mut Memo,
) {
    let vaults: Vec<[u8; 8]> = s.vault.iter().map(|a| a.to_le_bytes()).collect();
    let liquidator = s.wallets.last().cloned().unwrap_or_default();
    let liquidator: Vec<[u8; 8]> = liquidator.iter().map(|a| a.to_le_bytes()).collect();
    let now = s.now.to_le_bytes();
    for (i, h) in s.holders.iter().enumerate() {
        let Some(h) = h else { continue };
        if !h.account.has_debt() || !h.liquidatable() {
            continue;
        }
        let Ok(pairs) = health::pairs_after(&h.account, &s.markets, None, None) else {
            v.push(format!("holder {i}: no health pairs"));
            continue;
        };
        let assets = h
            .inputs
            .iter()
            .filter(|r| r.input.deposit > 0 && r.priced());
        for a in assets {
            let debts = h.inputs.iter().filter(|r| r.input.debt > 0 && r.priced());
            for l in debts {
                let (am, lm) = (a.market_index as usize, l.market_index as usize);
                let (ai, li, plan) = match actions::plan_for(s, h, am, lm, u64::MAX) {
                    Ok(p) => p,
                    Err(e) => {
                        v.push(format!(
                            "holder {i} is liquidatable (maint {}, end {}) with the priced pair \
                             ({am}, {lm}), but the shared plan refuses: {e}",
                            h.health.maint, h.health.end
                        ));
                        continue;
                    }
                };
                let index = [i as u8, am as u8, lm as u8];
                let mut parts: Vec<&[u8]> = vec![b"liquidation", &index, &now, &s.raw_protocol];
                parts.extend([
                    h.raw.as_slice(),
                    &vaults[am],
                    &liquidator[am],
                    &liquidator[lm],
                ]);
                for r in &h.inputs {
                    let mk = &s.markets[r.market_index as usize];
                    parts.push(&s.raw_markets[r.market_index as usize]);
                    if let Some(o) = s.oracles.get(&mk.1.oracle) {
                        parts.push(&o.data);
                    }
                }
                let key = Memo::key(&parts);
                if memo.passed.contains(&key) {
                    continue;
                }
                stats.liquidation_simulations += 1;
                let liq =
                    ix::liquidate(&actions::liquidate_accounts(w, i, am, lm), u64::MAX, &pairs);
                let signers = [&w.env.admin, &w.liquidator.key];
                match w.env.chain.simulate(&[liq], &signers).await {
                    Ok(Ok(out)) => match events::parse::<LiquidationEvent>(&out.logs).first() {
                        Some(ev) => {
                            if plan.bound == RepayBound::Need {
                                stats.need_bound_checks += 1;
                            }
                            stats.count(format!(
                                "liquidate (simulated): bounded by {:?}",
                                plan.bound
                            ));
                            let found = check_liquidation(s, h, ai, li, &plan, ev, u64::MAX);
                            if found.is_empty() {
                                memo.passed.insert(key);
                            }
                            v.extend(found);
                        }
                        None => v.push("a simulated liquidation emitted no event".into()),
                    },
                    Ok(Err(f)) => {
                        let paused = |m: usize| s.now < s.markets[m].1.liquidation_paused_until;
                        let allowed = match f.name.as_str() {
                            "LiquidationsPaused" => paused(am) || paused(lm),
                            "InsufficientLiquidity" => s.vault[am] < plan.to_liquidator,
                            _ => false,
                        };
                        if !allowed {
                            v.push(format!(
                                "holder {i} is liquidatable (maint {}, end {}, being liquidated \
                                 {}) with the priced pair ({am}, {lm}), but the liquidation \
                                 fails: {}; plan {:?} {} → {}; logs {:?}",
                                h.health.maint,
                                h.health.end,
                                h.account.being_liquidated,
                                f.name,
                                plan.bound,
                                plan.repay,
                                plan.seized,
                                &f.logs[f.logs.len().saturating_sub(6)..]
                            ));
                        }
                    }
                    Err(e) => v.push(format!("holder {i}'s liquidation: no result: {e:#}")),
                }
            }
        }
    }
}

/// A landed (or simulated) liquidation against the shared plan: the same amounts, and what
/// bounded the repayment holds of the result. Bounded by `Need` (the liquidator offered at least
/// the need), `health_end` after is ≥ 0 and within [`need_tolerance`] of 0; otherwise a cap bound
/// it: the whole debt was repaid (`Debt`, `DustDebt`), exactly `max_repay` (`MaxRepay`), the
/// whole collateral seized (`DustCollateral`), or less than the need (`Collateral`).
pub fn check_liquidation(
    s: &Snap,
    h: &Held,
    ai: usize,
    li: usize,
    plan: &LiquidationPlan,
    ev: &LiquidationEvent,
    max_repay: u64,
) -> Vec<String> {
    let mut v = Vec::new();
    let got = (
        ev.repaid,
        ev.seized,
        ev.to_liquidator,
        ev.to_insurance,
        ev.to_treasury,
    );
    let want = (
        plan.repay,
        plan.seized,
        plan.to_liquidator,
        plan.to_insurance,
        plan.to_treasury,
    );
    if got != want {
        v.push(format!(
            "the liquidation (repaid, seized, to liquidator, insurance, treasury) = {got:?} \
             differs from the shared plan {want:?}"
        ));
    }
    let (deposit, debt) = (h.inputs[ai].input.deposit, h.inputs[li].input.debt);
    let capped = match plan.bound {
        RepayBound::Need => {
            let end = I80F48::from_bits(ev.end_after);
            match need_tolerance(s, h, ai, li) {
                Some(tol) if end >= I80F48::ZERO && end <= tol => {}
                tol => v.push(format!(
                    "a liquidation bounded by Need (max_repay {max_repay}) left health_end {end}, \
                     outside [0, {tol:?}] (repaid {}, seized {}, end before {})",
                    ev.repaid,
                    ev.seized,
                    I80F48::from_bits(ev.end_before)
                )),
            }
            true
        }
        RepayBound::Debt | RepayBound::DustDebt => ev.repaid == debt,
        RepayBound::MaxRepay => ev.repaid == max_repay,
        RepayBound::DustCollateral => ev.seized == deposit,
        RepayBound::Collateral => ev.repaid <= plan.repay_needed,
    };
    if !capped {
        v.push(format!(
            "a liquidation bounded by {:?} repaid {} (debt {debt}, max_repay {max_repay}, need {}) \
             and seized {} (deposit {deposit})",
            plan.bound, ev.repaid, plan.repay_needed, ev.seized
        ));
    }
    v
}

/// How far above zero a `Need`-bounded liquidation may leave `health_end`, in USD.
///
/// `x_need = ⌈−end / κ / p_j⌉` native units of the liability `j`, so the repayment overshoots
/// the exact need by less than one unit, which raises `end` by less than `κ · v_j ≤ (1 + b) ·
/// wL_maint_j · v_j` (`v_j`: one unit of `j` at its price). The seizure is floored to a native
/// unit of the collateral `i`: less than one unit `v_i` (weighted by `wA_maint_i ≤ 1`) stays.
/// The tolerance is the sum, plus 10⁻⁹ USD for the fixed-point truncations of the health sums.
pub fn need_tolerance(s: &Snap, h: &Held, ai: usize, li: usize) -> Option<I80F48> {
    let (a, l) = (&h.inputs[ai].input, &h.inputs[li].input);
    let b = s.protocol.health_params().ok()?.liquidation_buffer;
    let unit_l = token_value_ceil(1, l.price, l.decimals).ok()?;
    let unit_a = token_value_ceil(1, a.price, a.decimals).ok()?;
    let liab = unit_l
        .checked_mul(I80F48::ONE.checked_add(b)?)?
        .checked_mul(l.liab_weight_maint)?;
    liab.checked_add(unit_a)?
        .checked_add(I80F48::from_num(1e-9))
}

/// Invariant 7: after a landed borrow (prices and clock fixed within the step), every market
/// whose window total it raised holds at most its limit, valued as the borrow was: the market's
/// spot price under `PriceAge::RiskIncreasing`, rounded up.
fn check_net_borrows(before: &Snap, after: &Snap, out: &Outcome) -> Vec<String> {
    let mut v = Vec::new();
    if out.landed("borrow").next().is_none() {
        return v;
    }
    for (m, ((_, b), (_, a))) in before.markets.iter().zip(&after.markets).enumerate() {
        let limit = a.guards.net_borrow_limit_micro_usd;
        let raised = a.net_borrowed_in_window > b.net_borrowed_in_window
            || a.net_borrow_window_start != b.net_borrow_window_start;
        if limit == u64::MAX || !raised || a.net_borrowed_in_window == 0 {
            continue;
        }
        let Some(oracle) = after.oracles.get(&a.oracle) else {
            v.push(format!("market {m}: its oracle was not read"));
            continue;
        };
        let price = position_price(
            a,
            -I80F48::ONE,
            &oracle.owner,
            &oracle.data,
            after.now,
            PriceAge::RiskIncreasing,
        );
        let value = price.ok().and_then(|p| {
            token_value_ceil(a.net_borrowed_in_window, p.price.token_price, a.decimals).ok()
        });
        let bound = I80F48::from_num(limit).checked_div_int(1_000_000);
        match (value, bound) {
            (Some(value), Some(bound)) if value <= bound => {}
            _ => v.push(format!(
                "market {m}: {} native units borrowed net in the window are worth {value:?} USD, \
                 over the limit of {limit} micro-USD",
                a.net_borrowed_in_window
            )),
        }
    }
    v
}

/// Invariants 2 (indices), 3, 6 and 7: what holds of one step.
pub fn check_step(before: &Snap, after: &Snap, out: &Outcome, _stats: &mut Stats) -> Vec<String> {
    let mut v = Vec::new();
    for t in &out.txs {
        if let Err(f) = &t.result {
            if let Err(e) = named(f, out.system_error_ok) {
                v.push(format!(
                    "{}: {e}; logs {:?}",
                    t.label,
                    &f.logs[f.logs.len().saturating_sub(8)..]
                ));
            }
        }
    }

    let bad_debts: Vec<BadDebtResolved> = out
        .landed("bad_debt_resolve")
        .flat_map(|o| events::parse::<BadDebtResolved>(&o.logs))
        .collect();
    for (m, ((key, b), (_, a))) in before.markets.iter().zip(&after.markets).enumerate() {
        if a.borrow_index.get() < b.borrow_index.get() {
            v.push(format!(
                "market {m}: the borrow index fell from {} to {}",
                b.borrow_index.get(),
                a.borrow_index.get()
            ));
        }
        let (was, is) = (b.deposit_index.get(), a.deposit_index.get());
        if is >= was {
            continue;
        }
        let Some(e) = bad_debts.iter().find(|e| e.market == *key) else {
            v.push(format!(
                "market {m}: the deposit index fell from {was} to {is} without bad debt"
            ));
            continue;
        };
        // The index falls by ⌈socialized / shares⌉ (one fixed-point step of rounding) from
        // its value accrued to now, which is at least the stored one.
        let shares = b.total_deposit_shares.get();
        let fell = (was - is).checked_mul(shares);
        let bound = shares
            .checked_mul(I80F48::DELTA * 2)
            .and_then(|r| r.checked_add(fx(e.socialized)))
            .and_then(|r| r.checked_add(I80F48::DELTA));
        match (fell, bound) {
            (Some(f), Some(b)) if f <= b => {}
            _ => v.push(format!(
                "market {m}: the deposit index fell from {was} to {is}, more than {} socialized \
                 over {shares} shares",
                e.socialized
            )),
        }
    }

    v.extend(check_net_borrows(before, after, out));
    if out.class == Class::Position {
        for (i, hb) in before.holders.iter().enumerate() {
            let Some(hb) = hb else { continue };
            let Some(ha) = after.held(i) else { continue };
            if hb.health.init >= I80F48::ZERO && ha.health.maint < I80F48::ZERO {
                v.push(format!(
                    "holder {i} was init-healthy ({}) and is now maint-unhealthy ({})",
                    hb.health.init, ha.health.maint
                ));
            }
        }
    }
    v
}
