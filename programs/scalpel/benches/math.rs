//! Speed of the pure math every instruction, the keeper and the CLI run: health over a full
//! account (8 positions), one liquidation plan, interest accrual, and an oracle read.
//! `cargo bench -p scalpel --bench math`; results in docs/BENCHMARKS.md.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use scalpel::math::interest::{accrue, RateCurve};
use scalpel::math::liquidation::{plan_liquidation, LiquidationParams};
use scalpel::math::{compute_health, HealthParams, HealthPosition, I80F48};

fn f(v: f64) -> I80F48 {
    I80F48::from_num(v)
}

fn params() -> LiquidationParams {
    LiquidationParams {
        health: HealthParams {
            conf_multiplier: f(2.12),
            max_conf_bias: f(0.05),
            liquidation_buffer: f(0.02),
        },
        split_liquidator: f(0.6),
        split_insurance: f(0.25),
        split_treasury: f(0.15),
        dust_threshold: f(1.0),
        full_penalty_health_ratio: f(0.95),
    }
}

/// Four deposits (10 000 USD, maint 9 000) and four debts (10 400 USD, maint 11 440): underwater.
fn account() -> Vec<HealthPosition> {
    (0..8)
        .map(|i| {
            let deposit = i < 4;
            HealthPosition {
                deposit: if deposit { 1_000_000_000 + i as u64 } else { 0 },
                debt: if deposit { 0 } else { 400_000_000 + i as u64 },
                price: f(1e-6 * (1.0 + i as f64)),
                conf: f(1e-9),
                ema_price: f(1e-6 * (1.0 + i as f64)),
                ema_conf: f(1e-9),
                asset_weight_init: f(0.8),
                asset_weight_maint: f(0.9),
                liab_weight_init: f(1.2),
                liab_weight_maint: f(1.1),
                decimals: 0,
            }
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let positions = account();
    let p = params();
    c.bench_function("compute_health/8 positions", |b| {
        b.iter(|| compute_health(black_box(&positions), black_box(&p.health)))
    });
    assert!(plan_liquidation(&positions, 0, 4, f(0.05), false, u64::MAX, &p).is_ok());
    c.bench_function("plan_liquidation/8 positions", |b| {
        b.iter(|| {
            plan_liquidation(
                black_box(&positions),
                0,
                4,
                f(0.05),
                false,
                u64::MAX,
                black_box(&p),
            )
        })
    });
    let curve = RateCurve {
        optimal_utilization: f(0.8),
        base_rate: f(0.0),
        slope1: f(0.04),
        slope2: f(0.75),
    };
    c.bench_function("accrue/1 hour", |b| {
        b.iter(|| {
            accrue(
                black_box(&curve),
                f(1.01),
                f(1.02),
                f(1e12),
                f(5e11),
                black_box(3_600),
            )
        })
    });
    let data = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/pyth/mango-v4/7UVimffxr9ow1uXYxsr4LHAcV58mLzhmwaeKvJ1pjLiE.bin"
    ))
    .expect("the fixture is in the repository (tests/fixtures/pyth)");
    let cfg = scalpel::oracle::OracleConfig {
        kind: scalpel::oracle::OracleKind::PythPull,
        feed_id: [0; 32],
        decimals: 9,
        max_conf_bps: 200,
        max_future_secs: 60,
        with_ema: true,
    };
    c.bench_function("oracle decode+check/PriceUpdateV2", |b| {
        b.iter(|| {
            scalpel::oracle::read_price(
                black_box(&cfg),
                &scalpel::constants::PYTH_RECEIVER,
                black_box(&data),
                1_720_533_485,
                60,
            )
        })
    });
}

criterion_group!(math, benches);
criterion_main!(math);
