//! The simulation's plots, as SVG (plotters' SVG backend writes text as SVG text elements, so no
//! system font is needed): path 0's prices with and without liquidation sales per policy, the
//! collateral each policy takes, and the distribution of bad debt over paths.

use anyhow::{anyhow, Result};
use plotters::prelude::*;
use scalpel_client::sim::{policy::Policy, MonteCarlo, Setup, SimReport};
use std::path::Path;

const SIZE: (u32, u32) = (1000, 600);

fn color(p: Policy) -> RGBColor {
    match p {
        Policy::Scalpel => RGBColor(31, 119, 180),
        Policy::ScalpelScaled => RGBColor(23, 190, 207),
        Policy::Binary => RGBColor(214, 39, 40),
        Policy::AaveV3 => RGBColor(44, 160, 44),
        Policy::CloseFactor20 => RGBColor(148, 103, 189),
    }
}

fn err(e: impl std::fmt::Debug) -> anyhow::Error {
    anyhow!("plot: {e:?}")
}

/// Writes every plot into `dir`.
pub fn write_all(dir: &Path, s: &Setup, mc: &MonteCarlo, r: &SimReport) -> Result<()> {
    let minutes = f64::from(s.cfg.event.step_minutes);
    for (a, asset) in r.assets.iter().enumerate() {
        let (Some(base), true) = (mc.path0.get(a), mc.path0_market.len() == Policy::ALL.len())
        else {
            continue;
        };
        let with: Vec<&[f64]> = mc.path0_market.iter().map(|p| p[a].as_slice()).collect();
        prices(
            &dir.join(format!("prices_{asset}.svg")),
            &format!(
                "{} {asset}, path 0: market price with and without liquidation sales",
                r.config.event.name
            ),
            base,
            &with,
            minutes,
        )?;
    }
    collateral(&dir.join("collateral_taken.svg"), r)?;
    bad_debt(&dir.join("bad_debt.svg"), mc, &r.config.event.name)?;
    Ok(())
}

fn prices(file: &Path, title: &str, base: &[f64], with: &[&[f64]], minutes: f64) -> Result<()> {
    // One point per 10 steps keeps the files small; lows are what matters and stay visible.
    let every = 10;
    let pts = |v: &[f64]| -> Vec<(f64, f64)> {
        v.iter()
            .enumerate()
            .step_by(every)
            .map(|(t, p)| (t as f64 * minutes / 60.0, *p))
            .collect()
    };
    let all = with.iter().flat_map(|w| w.iter()).chain(base);
    let lo = all.clone().copied().fold(f64::INFINITY, f64::min) * 0.95;
    let hi = all.copied().fold(0.0, f64::max) * 1.05;
    let hours = base.len() as f64 * minutes / 60.0;
    let root = SVGBackend::new(file, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..hours, lo..hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("hours from the window's start")
        .y_desc("USD")
        .draw()
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(pts(base), BLACK.stroke_width(2)))
        .map_err(err)?
        .label("without liquidation sales")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
    for (p, w) in Policy::ALL.iter().zip(with) {
        let c = color(*p);
        chart
            .draw_series(LineSeries::new(pts(w), c))
            .map_err(err)?
            .label(p.name())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

fn collateral(file: &Path, r: &SimReport) -> Result<()> {
    let stat = |p: &scalpel_client::sim::PolicyReport| {
        p.rows
            .iter()
            .find(|row| row.metric == "collateral taken (USD)")
            .map(|row| row.stat)
            .unwrap_or_default()
    };
    let top = r.policies.iter().map(|p| stat(p).p99).fold(1.0, f64::max) / 1e6 * 1.1;
    let n = r.policies.len();
    let root = SVGBackend::new(file, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let names: Vec<&'static str> = r.policies.iter().map(|p| p.policy.name()).collect();
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "{}: collateral taken from users (mean, p95, p99 over paths)",
                r.config.event.name
            ),
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..n as f64, 0f64..top)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n * 2 + 1)
        .x_label_formatter(&|x| {
            let i = x.floor() as usize;
            if (x - x.floor() - 0.5).abs() < 0.01 && i < names.len() {
                names[i].to_string()
            } else {
                String::new()
            }
        })
        .y_desc("million USD")
        .draw()
        .map_err(err)?;
    for (i, p) in r.policies.iter().enumerate() {
        let s = stat(p);
        let c = color(p.policy);
        let x = i as f64;
        for (k, (v, shade)) in [(s.mean, 1.0), (s.p95, 0.6), (s.p99, 0.35)]
            .into_iter()
            .enumerate()
        {
            let x0 = x + 0.15 + 0.24 * k as f64;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x0, 0.0), (x0 + 0.2, v / 1e6)],
                    c.mix(shade).filled(),
                )))
                .map_err(err)?;
        }
    }
    root.present().map_err(err)
}

fn bad_debt(file: &Path, mc: &MonteCarlo, event: &str) -> Result<()> {
    let series: Vec<Vec<f64>> = mc
        .runs
        .iter()
        .map(|runs| {
            let mut v: Vec<f64> = runs.iter().map(|m| m.bad_debt_usd / 1e6).collect();
            v.sort_by(f64::total_cmp);
            v
        })
        .collect();
    let top = series
        .iter()
        .flat_map(|v| v.last())
        .copied()
        .fold(0.001, f64::max)
        * 1.05;
    let root = SVGBackend::new(file, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{event}: bad debt over paths (share of paths with at most x)"),
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..top, 0f64..1.0)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("bad debt, million USD")
        .y_desc("share of paths")
        .draw()
        .map_err(err)?;
    for (p, v) in Policy::ALL.iter().zip(&series) {
        let n = v.len().max(1) as f64;
        let mut pts = vec![(0.0, 0.0)];
        for (k, x) in v.iter().enumerate() {
            pts.push((*x, k as f64 / n));
            pts.push((*x, (k + 1) as f64 / n));
        }
        pts.push((top, 1.0));
        let c = color(*p);
        chart
            .draw_series(LineSeries::new(pts, c.stroke_width(2)))
            .map_err(err)?
            .label(p.name())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}
