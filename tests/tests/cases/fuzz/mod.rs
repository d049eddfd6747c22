//! Stateful invariant fuzzer (issue 8, item 9): random sequences of instructions sent as real
//! transactions to the in-process bank, with the invariants of `invariants.rs` checked after
//! every step. The generator is proptest with a fixed seed, so CI runs the same sequences every
//! time and a failing sequence shrinks to a short one.
//!
//! Default: `SCALPEL_FUZZ_CASES` = 200 sequences of `SCALPEL_FUZZ_STEPS` = 30 steps from
//! `SCALPEL_FUZZ_SEED` = [`DEFAULT_SEED`]; `SCALPEL_FUZZ_SHRINK_SECS` bounds proptest's
//! shrinking of a failure (default 300), which a greedy pass ([`reduce`]) then completes. See
//! docs/TESTING.md.

mod actions;
mod invariants;
mod regressions;

use crate::program_test::*;
use actions::Action;
use invariants::{Memo, Snap};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use scalpel::params::MarketParams;
use scalpel_client::{ix, pyth::PullPrice};
use solana_sdk::account::Account;
use solana_sdk::{
    instruction::Instruction,
    program_pack::Pack,
    pubkey::Pubkey,
    rent::Rent,
    signature::{Keypair, Signer},
};
use solana_system_interface::instruction as system_instruction;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Instant;

/// Traders whose actions the sequences choose among.
pub const USERS: usize = 5;
/// Markets: SOL (index 0), USDC (1) and the thin 8-decimal THIN (2).
pub const MARKETS: usize = 3;
/// The thin market's position in [`World::markets`].
pub const THIN: usize = 2;
/// The seed of the default run.
pub const DEFAULT_SEED: u64 = 0x5CA1_9E1F_0220_0009;

/// A wallet: a keypair, its margin account (index 0, which may not exist) and one token account
/// per market, in market order.
pub struct Actor {
    pub key: Keypair,
    pub account: Pubkey,
    pub tokens: Vec<Pubkey>,
}

/// What an oracle publishes for a market (mantissas at [`EXPO`]); `base` is its listing price,
/// which bounds the moves to a factor of 1 000 either way.
#[derive(Clone, Copy, Debug)]
pub struct Feed {
    pub price: i64,
    pub conf: u64,
    pub base: i64,
    /// The EMA the feed publishes: it follows the price unless a move left it behind (issue
    /// 12's guards then bound borrowing; liquidations must go on).
    pub ema: i64,
}

/// One sequence's world: the bank, three live markets, the traders, a lender, a liquidator and a
/// guardian, and what the harness minted.
pub struct World {
    pub env: Env,
    pub markets: Vec<MarketFixture>,
    /// Margin-account holders: the [`USERS`] traders, then the lender.
    pub holders: Vec<Actor>,
    /// The funded liquidator (a wallet without a margin account).
    pub liquidator: Actor,
    pub guardian: Keypair,
    /// Native units minted per market, the supply each mint must show.
    pub minted: Vec<u64>,
    pub feeds: Vec<Feed>,
    /// The parameters each market was listed with (`Restore` queues them again).
    pub listed: Vec<MarketParams>,
    /// Accounts as last read, minus those a landed transaction may have written since (its
    /// writable accounts) or the harness wrote (oracles): `Snap::read` reads only what is not
    /// here. Nothing else writes an account, so this is what reading everything would return.
    pub cache: RefCell<HashMap<Pubkey, Option<Account>>>,
}

/// THIN: an illiquid 8-decimal token at 0.50 USD with low asset weights, high liability
/// weights, a 10% penalty and a wider confidence limit, and issue 12's guards switched on: at
/// most 400 USD borrowed net per hour, and the init asset weight scaled down once its deposits
/// are worth more than 5 000 USD (the traders' THIN alone is worth 10 000 USD each).
pub fn thin_params() -> MarketParams {
    MarketParams {
        net_borrow_window_secs: 3_600,
        net_borrow_limit_micro_usd: 400_000_000,
        deposit_weight_scale_start_micro_usd: 5_000_000_000,
        asset_weight_init_bps: 5_000,
        asset_weight_maint_bps: 6_000,
        liab_weight_init_bps: 15_000,
        liab_weight_maint_bps: 14_000,
        liquidation_penalty_bps: 1_000,
        liquidation_penalty_min_bps: 1_000,
        max_conf_bps: 300,
        ..sol_params()
    }
}

/// Wallet funds of each trader: 50 SOL, 10 000 USDC, 20 000 THIN.
const USER_FUNDS: [u64; MARKETS] = [50_000_000_000, 10_000_000_000, 2_000_000_000_000];
/// The lender deposits 5 000 SOL, 1 000 000 USDC and only 2 000 THIN (the thin market).
const LENDER_FUNDS: [u64; MARKETS] = [5_000_000_000_000, 1_000_000_000_000, 200_000_000_000];
/// The liquidator's wallets: enough to repay any debt the traders can reach.
const LIQUIDATOR_FUNDS: [u64; MARKETS] = [1 << 50, 1 << 50, 1 << 56];

impl World {
    /// The standard `Env` plus THIN, the guardian, the traders (bit `i` of `open` set: trader
    /// `i` starts with a margin account, and then deposits `initial[i]`: a fraction in bps of
    /// its wallet in a market), the lender (deposits everything) and the liquidator.
    pub async fn new(open: u8, initial: &[Option<Initial>]) -> World {
        let env = Env::new().await;
        let thin = env.add_pull_market(8, [3; 32], "0.5", thin_params()).await;
        let guardian = Keypair::new();
        env.send(
            &[ix::guardian_set(&env.admin.pubkey(), &guardian.pubkey())],
            &[],
        )
        .await
        .expect("guardian_set");
        let markets = vec![env.sol, env.usdc, thin];
        let mut w = World {
            markets,
            holders: Vec::new(),
            liquidator: dummy_actor(),
            guardian,
            minted: vec![0; MARKETS],
            feeds: vec![
                Feed {
                    price: 100_0000_0000,
                    conf: 0,
                    base: 100_0000_0000,
                    ema: 100_0000_0000,
                },
                Feed {
                    price: 1_0000_0000,
                    conf: 0,
                    base: 1_0000_0000,
                    ema: 1_0000_0000,
                },
                Feed {
                    price: 5000_0000,
                    conf: 0,
                    base: 5000_0000,
                    ema: 5000_0000,
                },
            ],
            listed: vec![sol_params(), usdc_params(), thin_params()],
            cache: RefCell::new(HashMap::new()),
            env,
        };
        for (i, m) in w.markets.iter().enumerate() {
            assert_eq!(w.env.market(m).await.market_index as usize, i);
        }
        for i in 0..USERS {
            let a = w.actor(&USER_FUNDS, open & (1 << i) != 0).await;
            w.holders.push(a);
        }
        let lender = w.actor(&LENDER_FUNDS, true).await;
        let deposits: Vec<Instruction> = (0..MARKETS)
            .map(|m| ix::deposit(&w.token_move(&lender, m), LENDER_FUNDS[m]))
            .collect();
        w.env
            .send(&deposits, &[&lender.key])
            .await
            .expect("lender deposits");
        w.holders.push(lender);
        w.liquidator = w.actor(&LIQUIDATOR_FUNDS, false).await;
        for (i, d) in initial.iter().enumerate().take(USERS) {
            if let (true, Some(d)) = (open & (1 << i) != 0, d) {
                let m = d.market as usize % MARKETS;
                let amount = actions::frac(USER_FUNDS[m], d.deposit_bps).max(1);
                let u = &w.holders[i];
                w.env
                    .send(&[ix::deposit(&w.token_move(u, m), amount)], &[&u.key])
                    .await
                    .expect("initial deposit");
            }
        }
        w.publish_all(None).await;
        w
    }

    /// A funded wallet with token accounts in every market and `funds` minted into them.
    async fn actor(&mut self, funds: &[u64; MARKETS], open: bool) -> Actor {
        let env = &self.env;
        let admin = env.admin.pubkey();
        let key = Keypair::new();
        let mut ixs = vec![system_instruction::transfer(
            &admin,
            &key.pubkey(),
            1_000_000_000,
        )];
        let mut signers = Vec::new();
        if open {
            ixs.push(ix::account_create(&key.pubkey(), 0));
            signers.push(&key);
        }
        env.send(&ixs, &signers).await.expect("fund and open");
        let accounts: Vec<Keypair> = (0..MARKETS).map(|_| Keypair::new()).collect();
        let len = spl_token::state::Account::LEN;
        let rent = Rent::default().minimum_balance(len);
        let mut ixs = Vec::new();
        for (m, a) in self.markets.iter().zip(&accounts) {
            ixs.push(system_instruction::create_account(
                &admin,
                &a.pubkey(),
                rent,
                len as u64,
                &spl_token::ID,
            ));
            ixs.push(
                spl_token::instruction::initialize_account3(
                    &spl_token::ID,
                    &a.pubkey(),
                    &m.mint,
                    &key.pubkey(),
                )
                .expect("initialize_account3"),
            );
        }
        let signers: Vec<&Keypair> = accounts.iter().collect();
        env.send(&ixs, &signers).await.expect("token accounts");
        let mut ixs = Vec::new();
        for (i, (m, a)) in self.markets.iter().zip(&accounts).enumerate() {
            ixs.push(
                spl_token::instruction::mint_to(
                    &spl_token::ID,
                    &m.mint,
                    &a.pubkey(),
                    &env.mint_authority.pubkey(),
                    &[],
                    funds[i],
                )
                .expect("mint_to"),
            );
            self.minted[i] += funds[i];
        }
        env.send(&ixs, &[&env.mint_authority])
            .await
            .expect("mint funds");
        Actor {
            account: scalpel_client::pda::margin_account(&key.pubkey(), 0),
            key,
            tokens: accounts.iter().map(|a| a.pubkey()).collect(),
        }
    }

    /// `a`'s accounts for a token-moving instruction in market `m`.
    pub fn token_move(&self, a: &Actor, m: usize) -> ix::TokenMove {
        ix::TokenMove {
            owner: a.key.pubkey(),
            margin_account: a.account,
            mint: self.markets[m].mint,
            user_token: a.tokens[m],
        }
    }

    /// Every wallet whose token accounts the books cover: the holders, then the liquidator.
    pub fn wallets(&self) -> impl Iterator<Item = &Actor> {
        self.holders.iter().chain(std::iter::once(&self.liquidator))
    }

    /// Forgets the cached state of the accounts `ixs` may write.
    pub fn written(&self, ixs: &[Instruction]) {
        let mut cache = self.cache.borrow_mut();
        for meta in ixs.iter().flat_map(|ix| &ix.accounts) {
            if meta.is_writable {
                cache.remove(&meta.pubkey);
            }
        }
    }

    /// Market `m`'s oracle publishes its feed now.
    pub async fn publish(&self, m: usize) {
        self.cache.borrow_mut().remove(&self.markets[m].oracle);
        let now = self.env.now().await;
        let f = self.feeds[m];
        let fx = &self.markets[m];
        self.env
            .set_pull(
                fx,
                PullPrice {
                    feed_id: fx.feed_id,
                    price: f.price,
                    conf: f.conf,
                    expo: EXPO,
                    publish_time: now,
                    partial_signatures: None,
                    ema: Some((f.ema, f.conf)),
                },
            )
            .await;
    }

    /// Every oracle but `skip`'s publishes now.
    pub async fn publish_all(&self, skip: Option<usize>) {
        for m in 0..MARKETS {
            if Some(m) != skip {
                self.publish(m).await;
            }
        }
    }
}

fn dummy_actor() -> Actor {
    Actor {
        key: Keypair::new(),
        account: Pubkey::default(),
        tokens: Vec::new(),
    }
}

/// A trader's opening position: a deposit of `deposit_bps` of its wallet in `market`, then a
/// borrow of `borrow_bps` of its room in the next market.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Initial {
    pub market: u8,
    pub deposit_bps: u16,
    pub borrow_bps: Option<u16>,
}

/// One generated sequence: which traders start with a margin account, then the steps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    pub open: u8,
    /// Per trader with an account: a first deposit (market, bps of its wallet) and a borrow
    /// from the next market (bps of the room init health leaves).
    pub initial: Vec<Option<Initial>>,
    pub actions: Vec<Action>,
}

fn case_strategy(steps: usize) -> impl Strategy<Value = Case> {
    let initial = (
        0..MARKETS as u8,
        500..=10_000u16,
        proptest::option::weighted(0.7, 3_000..=10_000u16),
    )
        .prop_map(|(market, deposit_bps, borrow_bps)| Initial {
            market,
            deposit_bps,
            borrow_bps,
        });
    (
        proptest::collection::vec(proptest::bool::weighted(0.85), USERS),
        proptest::collection::vec(proptest::option::weighted(0.7, initial), USERS),
        proptest::collection::vec(actions::strategy(), steps),
    )
        .prop_map(|(open, initial, actions)| Case {
            open: open
                .iter()
                .enumerate()
                .map(|(i, o)| u8::from(*o) << i)
                .sum(),
            initial,
            actions,
        })
}

/// What the run saw: every transaction's outcome by label, and the invariant simulations.
#[derive(Default)]
pub struct Stats {
    pub sequences: u64,
    pub steps: u64,
    pub outcomes: BTreeMap<String, u64>,
    pub exit_simulations: u64,
    pub liquidation_simulations: u64,
    pub need_bound_checks: u64,
}

impl Stats {
    pub fn count(&mut self, key: String) {
        *self.outcomes.entry(key).or_default() += 1;
    }
}

/// A failed sequence: the step whose invariants failed (`None`: the setup) and the report.
#[derive(Clone, Debug)]
pub struct Failure {
    pub step: Option<usize>,
    pub message: String,
}

impl Failure {
    fn setup(e: String) -> Failure {
        Failure {
            step: None,
            message: format!("after setup: {e}"),
        }
    }
}

/// Runs one sequence, checking every invariant after setup and after each step.
async fn run_case(case: &Case, stats: &Mutex<Stats>) -> Result<(), Failure> {
    let mut w = World::new(case.open, &case.initial).await;
    let mut before = Snap::read(&w).await.map_err(Failure::setup)?;
    // The opening borrows, sized from the deposits (a refusal is fine, as in any step).
    for (i, d) in case.initial.iter().enumerate().take(USERS) {
        let Some(Initial {
            market,
            borrow_bps: Some(bps),
            ..
        }) = *d
        else {
            continue;
        };
        let borrow = Action::Borrow {
            user: i as u8,
            market: (market + 1) % MARKETS as u8,
            bps,
            pick: false,
        };
        actions::run(&mut w, &before, &borrow).await;
        before = Snap::read(&w).await.map_err(Failure::setup)?;
    }
    let mut local = Stats::default();
    let mut memo = Memo::default();
    let v = invariants::check_state(&w, &before, &mut local, &mut memo).await;
    if !v.is_empty() {
        return Err(Failure::setup(v.join("\n")));
    }
    for (i, a) in case.actions.iter().enumerate() {
        let out = actions::run(&mut w, &before, a).await;
        let mut violations = out.violations.clone();
        let after = match Snap::read(&w).await {
            Ok(s) => s,
            Err(e) => {
                violations.push(e);
                return Err(Failure {
                    step: Some(i),
                    message: report(case, i, &out, &violations),
                });
            }
        };
        violations.extend(invariants::check_step(&before, &after, &out, &mut local));
        violations.extend(invariants::check_state(&w, &after, &mut local, &mut memo).await);
        for t in &out.txs {
            local.count(match &t.result {
                Ok(_) => format!("{}: ok", t.label),
                Err(f) => format!("{}: {}", t.label, f.name),
            });
        }
        for t in &out.tags {
            local.count(t.clone());
        }
        local.steps += 1;
        if !violations.is_empty() {
            return Err(Failure {
                step: Some(i),
                message: report(case, i, &out, &violations),
            });
        }
        before = after;
    }
    local.sequences += 1;
    let mut s = stats.lock().expect("stats");
    s.sequences += local.sequences;
    s.steps += local.steps;
    s.exit_simulations += local.exit_simulations;
    s.liquidation_simulations += local.liquidation_simulations;
    s.need_bound_checks += local.need_bound_checks;
    for (k, n) in local.outcomes {
        *s.outcomes.entry(k).or_default() += n;
    }
    Ok(())
}

/// The failure message: step, action, its transactions, the violations, the sequence so far.
fn report(case: &Case, step: usize, out: &actions::Outcome, violations: &[String]) -> String {
    let txs: Vec<String> = out
        .txs
        .iter()
        .map(|t| match &t.result {
            Ok(_) => format!("{}: ok", t.label),
            Err(f) => format!("{}: {}", t.label, f.name),
        })
        .collect();
    let so_far: Vec<String> = case.actions[..=step]
        .iter()
        .enumerate()
        .filter(|(_, a)| !matches!(a, Action::Skip))
        .map(|(i, a)| format!("  {i:>3}: {a:?}"))
        .collect();
    format!(
        "invariant violated at step {step}: {:?} ({})\ntransactions: {txs:?}\nviolations:\n  {}\n\
         initially open accounts: {:#07b}, initial deposits {:?}\nsequence so far (Skip \
         omitted):\n{}",
        case.actions[step],
        out.note,
        violations.join("\n  "),
        case.open,
        case.initial,
        so_far.join("\n")
    )
}

/// Run parameters, from the environment.
struct FuzzConfig {
    cases: u32,
    steps: usize,
    seed: u64,
    shrink_secs: u32,
}

impl FuzzConfig {
    fn from_env() -> Self {
        fn var<T: std::str::FromStr>(name: &str, default: T) -> T {
            match std::env::var(name) {
                Ok(v) => v
                    .parse()
                    .unwrap_or_else(|_| panic!("{name}={v} does not parse")),
                Err(_) => default,
            }
        }
        let seed = match std::env::var("SCALPEL_FUZZ_SEED") {
            Ok(v) => {
                let v = v.trim_start_matches("0x");
                u64::from_str_radix(v, 16).unwrap_or_else(|_| panic!("SCALPEL_FUZZ_SEED={v}: hex"))
            }
            Err(_) => DEFAULT_SEED,
        };
        FuzzConfig {
            cases: var("SCALPEL_FUZZ_CASES", 200),
            steps: var("SCALPEL_FUZZ_STEPS", 30),
            seed,
            shrink_secs: var("SCALPEL_FUZZ_SHRINK_SECS", 300),
        }
    }

    fn seed_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, chunk) in out.chunks_mut(8).enumerate() {
            chunk.copy_from_slice(
                &(self.seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)).to_le_bytes(),
            );
        }
        out
    }
}

/// [`run_case`] in a runtime of its own (the `#[test]`s are plain synchronous tests).
fn run_blocking(case: &Case, stats: &Mutex<Stats>) -> Result<(), Failure> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run_case(case, stats))
}

/// The report of a failure already seen on the same setup and the same steps up to its failing
/// step: runs are deterministic, so such a case fails there again, identically. Proptest
/// simplifies every step in turn, also those after the failure; this answers those at once.
fn seen_failure(failures: &[(Case, Failure)], case: &Case) -> Option<String> {
    failures.iter().find_map(|(c, f)| {
        let same_prefix = match f.step {
            None => true,
            Some(k) => case.actions.len() > k && case.actions[..=k] == c.actions[..=k],
        };
        (c.open == case.open && c.initial == case.initial && same_prefix).then(|| f.message.clone())
    })
}

/// Reduces proptest's minimal case further, greedily: the steps after the failing one go, then
/// each step becomes `Skip`, each opening position and each initial account goes, whenever the
/// sequence still fails (with any violation). Returns the reduced case and its failure.
fn reduce(case: &Case, stats: &Mutex<Stats>) -> Option<(Case, Failure)> {
    let fails = |c: &Case| -> Option<(Case, Failure)> {
        let f = run_blocking(c, stats).err()?;
        let mut c = c.clone();
        c.actions.truncate(f.step.map_or(0, |k| k + 1));
        Some((c, f))
    };
    let mut best = fails(case)?;
    let mut i = 0;
    while i < best.0.actions.len() {
        if best.0.actions[i] != Action::Skip {
            let mut c = best.0.clone();
            c.actions[i] = Action::Skip;
            if let Some(b) = fails(&c) {
                best = b;
            }
        }
        i += 1;
    }
    for u in 0..USERS {
        for change in 0..2 {
            let mut c = best.0.clone();
            match change {
                0 if c.initial[u].is_some() => c.initial[u] = None,
                1 if c.open & (1 << u) != 0 => c.open &= !(1 << u),
                _ => continue,
            }
            if let Some(b) = fails(&c) {
                best = b;
            }
        }
    }
    Some(best)
}

/// Runs `cases` through proptest with a fixed seed, each case in its own bank and runtime.
fn fuzz(cfg: FuzzConfig) {
    let config = Config {
        cases: cfg.cases,
        failure_persistence: None,
        max_shrink_time: cfg.shrink_secs.saturating_mul(1_000),
        max_shrink_iters: u32::MAX,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &cfg.seed_bytes()),
    );
    let stats = Mutex::new(Stats::default());
    let start = Instant::now();
    let failures: Mutex<Vec<(Case, Failure)>> = Mutex::new(Vec::new());
    let result = runner.run(&case_strategy(cfg.steps), |case| {
        if let Some(m) = seen_failure(&failures.lock().expect("failures"), &case) {
            return Err(TestCaseError::fail(m));
        }
        run_blocking(&case, &stats).map_err(|f| {
            let m = f.message.clone();
            failures.lock().expect("failures").push((case, f));
            TestCaseError::fail(m)
        })
    });
    let reduced = match &result {
        Err(TestError::Fail(_, case)) => reduce(case, &stats),
        _ => None,
    };
    let s = stats.lock().expect("stats");
    eprintln!(
        "fuzz: seed {:#x}, {} sequences passed ({} steps) in {:.1?}; {} exit and {} liquidation \
         simulations, {} liquidations bounded by Need checked",
        cfg.seed,
        s.sequences,
        s.steps,
        start.elapsed(),
        s.exit_simulations,
        s.liquidation_simulations,
        s.need_bound_checks
    );
    for (k, n) in &s.outcomes {
        eprintln!("  {n:>6}  {k}");
    }
    if let Err(e) = result {
        match reduced {
            Some((case, f)) => panic!(
                "{e}\n\nReduced further (steps replaced by Skip while it still fails):\n{}\n\
                 reduced input: {case:#?}",
                f.message
            ),
            None => panic!("{e}"),
        }
    }
}

/// Runs one sequence (the regression tests).
pub fn replay(case: Case) {
    let stats = Mutex::new(Stats::default());
    if let Err(f) = run_blocking(&case, &stats) {
        panic!("{}", f.message);
    }
}

/// The invariants of `invariants.rs` hold after every step of random sequences.
#[test]
fn invariants_hold_under_random_sequences() {
    fuzz(FuzzConfig::from_env());
}
