//! The keeper's scan at protocol scale, from raw account bytes: decode each margin account,
//! resolve its positions' prices from the oracle accounts (`resolve_positions`: the program's
//! `position_price` and `position_input`), compute health, and plan the best pair of every
//! liquidatable account (`plan_liquidation`) — the body of `Keeper::scan`, single-threaded, over
//! 1 000, 10 000 and 100 000 accounts of the simulation's population (docs/SIMULATION.md) after a
//! 25% fall of every volatile price. Reproduce: `cargo bench -p scalpel-cli --bench
//! keeper_scan`; the numbers are in docs/BENCHMARKS.md.

use anchor_lang::Discriminator;
use bytemuck::Zeroable;
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use scalpel::health_accounts::PriceAge;
use scalpel::math::liquidation::{plan_liquidation, LiquidationParams};
use scalpel::math::{compute_health, HealthPosition, WrappedI80F48, I80F48};
use scalpel::state::{MarginAccount, Market};
use scalpel_client::decode;
use scalpel_client::health::resolve_positions;
use scalpel_client::pyth::{price_update_v2, PullPrice};
use scalpel_client::sim::{presets, program::T0, Setup};
use solana_sdk::{account::Account, pubkey::Pubkey};
use std::collections::HashMap;

/// Accounts, markets and oracles as a keeper reads them.
struct Fixture {
    raw: Vec<(Pubkey, Account)>,
    markets: Vec<(Pubkey, Market)>,
    oracles: HashMap<Pubkey, Account>,
    params: LiquidationParams,
}

fn fixture(n: usize, shock: f64) -> Fixture {
    let mut cfg = presets::preset("ftx_2022").expect("preset");
    cfg.accounts = n;
    let s = Setup::new(cfg, None).expect("population");
    let mut markets = Vec::new();
    let mut oracles = HashMap::new();
    for (i, m) in s.prog.markets.iter().enumerate() {
        let mut market: Market = *m.market;
        market.oracle = Pubkey::new_unique();
        market.oracle_kind = scalpel::oracle::OracleKind::PythPull as u8;
        market.feed_id = [i as u8 + 1; 32];
        let t = &s.start[i];
        let factor = if m.asset.is_some() { 1.0 - shock } else { 1.0 };
        let data = price_update_v2(&PullPrice {
            feed_id: market.feed_id,
            price: (t.mantissa as f64 * factor) as i64,
            conf: t.conf,
            expo: t.expo,
            publish_time: T0,
            partial_signatures: None,
            ema: None,
        })
        .expect("price account");
        oracles.insert(
            market.oracle,
            Account {
                lamports: 1,
                data,
                owner: scalpel::constants::PYTH_RECEIVER,
                executable: false,
                rent_epoch: 0,
            },
        );
        markets.push((Pubkey::new_unique(), market));
    }
    let raw = s
        .pop
        .accounts
        .iter()
        .map(|a| {
            let mut m = MarginAccount::zeroed();
            m.owner = Pubkey::new_unique();
            for (k, (p, &mk)) in a.positions.iter().zip(&a.markets).enumerate() {
                let shares = if p.deposit > 0 {
                    I80F48::from_num(p.deposit)
                } else {
                    -I80F48::from_num(p.debt)
                };
                m.positions[k].shares = WrappedI80F48::from_num(shares);
                m.positions[k].market_index = mk as u16;
                m.positions[k].active = 1;
            }
            let mut data = MarginAccount::DISCRIMINATOR.to_vec();
            data.extend_from_slice(bytemuck::bytes_of(&m));
            (
                Pubkey::new_unique(),
                Account {
                    lamports: 1,
                    data,
                    owner: scalpel::ID,
                    executable: false,
                    rent_epoch: 0,
                },
            )
        })
        .collect();
    Fixture {
        raw,
        markets,
        oracles,
        params: s.prog.liquidation,
    }
}

/// `Keeper::scan`'s work for the first `n` accounts: (liquidatable, planned).
fn scan(f: &Fixture, n: usize) -> (usize, usize) {
    let (mut liquidatable, mut planned) = (0, 0);
    for (_, acc) in &f.raw[..n] {
        let Ok(account) = decode::margin_account(&acc.data) else {
            continue;
        };
        let Ok(slots) =
            resolve_positions(&account, &f.markets, &f.oracles, T0, PriceAge::Maintenance)
        else {
            continue;
        };
        let inputs: Vec<HealthPosition> = slots.iter().map(|s| s.input).collect();
        let Ok(h) = compute_health(&inputs, &f.params.health) else {
            continue;
        };
        let being = account.being_liquidated != 0;
        if !h.is_liquidatable(being) {
            continue;
        }
        liquidatable += 1;
        let mut best: Option<I80F48> = None;
        for (li, l) in slots.iter().enumerate() {
            if l.input.debt == 0 || !l.priced() {
                continue;
            }
            for (ai, a) in slots.iter().enumerate() {
                if a.input.deposit == 0 || !a.priced() {
                    continue;
                }
                if let Ok(p) =
                    plan_liquidation(&inputs, ai, li, a.penalty, being, u64::MAX, &f.params)
                {
                    if best.is_none_or(|b| p.health_after.end > b) {
                        best = Some(p.health_after.end);
                    }
                }
            }
        }
        planned += usize::from(best.is_some());
    }
    (liquidatable, planned)
}

fn bench(c: &mut Criterion) {
    let f = fixture(100_000, 0.25);
    let (liq, planned) = scan(&f, f.raw.len());
    eprintln!(
        "keeper_scan fixture: {} accounts, {liq} liquidatable after the 25% shock, {planned} planned",
        f.raw.len()
    );
    let mut g = c.benchmark_group("keeper_scan");
    g.sample_size(10);
    for n in [1_000, 10_000, 100_000] {
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter(|| black_box(scan(&f, n)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
