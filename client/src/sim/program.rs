//! The simulated protocol, built with the program's own constructors: `ProtocolParams` and
//! `MarketParams` validated by the program, stored into `Protocol` and `Market` exactly as
//! `protocol_init` and `market_add` store them, and read back as the program reads them
//! (`liquidation_params`, `penalty_at`, `position_input`). Nothing here restates a formula.

use super::config::SimConfig;
use super::facts::EventFacts;
use crate::units::price_mantissa;
use anyhow::{anyhow, bail, Context, Result};
use bytemuck::Zeroable;
use scalpel::instructions::market_add::set_market_params;
use scalpel::math::liquidation::{LiquidationParams, PenaltyCurve};
use scalpel::math::{HealthPosition, WrappedI80F48, I80F48};
use scalpel::oracle::OraclePrice;
use scalpel::params::{MarketParams, ProtocolParams};
use scalpel::state::{Market, Protocol};

/// Unix time of the simulation's first step (the replay's bank uses its own clock).
pub const T0: i64 = 1_700_000_000;

/// One market.
#[derive(Clone)]
pub struct SimMarket {
    /// Symbol.
    pub symbol: String,
    /// Decimals.
    pub decimals: u8,
    /// Its parameters as instruction arguments.
    pub params: MarketParams,
    /// The market account as `market_add` and the activation leave it (indices at one).
    pub market: Box<Market>,
    /// Penalty `π` in force (flat: the "Scalpel" policy and the alternatives).
    pub penalty: I80F48,
    /// The health-scaled curve of the "Scalpel scaled" policy: the market with
    /// `liquidation_penalty_min_bps` set to the run's `scaled_penalty_min_bps`, read back with
    /// the program's `penalty_curve_at`.
    pub scaled: PenaltyCurve,
    /// Index of its asset in the event's paths; `None` for a fixed price.
    pub asset: Option<usize>,
    /// A fixed price's `(mantissa, expo)`.
    pub fixed: Option<(i64, i32)>,
}

/// The protocol the population lives in.
#[derive(Clone)]
pub struct SimProgram {
    /// Protocol parameters.
    pub protocol: ProtocolParams,
    /// What `liquidate` reads from them.
    pub liquidation: LiquidationParams,
    /// Markets in listing order.
    pub markets: Vec<SimMarket>,
}

impl SimProgram {
    /// Builds and validates the protocol and markets of `cfg` over `facts`' assets.
    pub fn build(cfg: &SimConfig, facts: &EventFacts) -> Result<SimProgram> {
        let protocol = cfg.protocol.apply(ProtocolParams::default())?;
        protocol
            .validate()
            .map_err(|e| anyhow!("protocol parameters refused by the program: {}", e.name()))?;
        let mut state = Protocol::zeroed();
        state
            .set_params(&protocol)
            .map_err(|e| anyhow!("protocol parameters: {e}"))?;
        let liquidation = state
            .liquidation_params()
            .map_err(|e| anyhow!("protocol parameters: {e}"))?;
        let mut markets = Vec::new();
        for (i, m) in cfg.markets.iter().enumerate() {
            let params = m
                .params
                .apply(MarketParams::default(), m.decimals)
                .with_context(|| format!("market {}", m.symbol))?;
            params.validate().map_err(|e| {
                anyhow!(
                    "market {}: parameters refused by the program: {}",
                    m.symbol,
                    e.name()
                )
            })?;
            if m.decimals > 12 {
                bail!("market {}: at most 12 decimals", m.symbol);
            }
            let mut market = Box::new(Market::zeroed());
            set_market_params(&mut market, &params)
                .map_err(|e| anyhow!("market {}: {e}", m.symbol))?;
            market.decimals = m.decimals;
            market.market_index = i as u16;
            market.deposit_index = WrappedI80F48::from_num(I80F48::ONE);
            market.borrow_index = WrappedI80F48::from_num(I80F48::ONE);
            market.last_accrual_ts = T0;
            let penalty = market
                .penalty_at(T0)
                .map_err(|e| anyhow!("market {}: {e}", m.symbol))?;
            let scaled_params = MarketParams {
                liquidation_penalty_min_bps: cfg
                    .scaled_penalty_min_bps
                    .min(params.liquidation_penalty_bps),
                ..params
            };
            scaled_params.validate().map_err(|e| {
                anyhow!(
                    "market {}: scaled_penalty_min_bps refused by the program: {}",
                    m.symbol,
                    e.name()
                )
            })?;
            let mut scaled_market = market.clone();
            set_market_params(&mut scaled_market, &scaled_params)
                .map_err(|e| anyhow!("market {}: {e}", m.symbol))?;
            let scaled = scaled_market
                .penalty_curve_at(T0)
                .map_err(|e| anyhow!("market {}: {e}", m.symbol))?;
            let (asset, fixed) = match &m.price {
                Some(p) => (
                    None,
                    Some(price_mantissa(p).with_context(|| {
                        format!("market {}: price {p:?} is not a decimal", m.symbol)
                    })?),
                ),
                None => (
                    Some(facts.asset(&m.symbol).ok_or_else(|| {
                        anyhow!(
                            "market {} has no price: give it `price = \"...\"` or use an asset of event {} ({})",
                            m.symbol,
                            facts.name,
                            facts.assets.iter().map(|a| a.asset.as_str()).collect::<Vec<_>>().join(", ")
                        )
                    })?),
                    None,
                ),
            };
            markets.push(SimMarket {
                symbol: m.symbol.clone(),
                decimals: m.decimals,
                params,
                market,
                penalty,
                scaled,
                asset,
                fixed,
            });
        }
        if markets.len() > 16 {
            bail!("at most 16 markets");
        }
        Ok(SimProgram {
            protocol,
            liquidation,
            markets,
        })
    }

    /// The market of `symbol`.
    pub fn market(&self, symbol: &str) -> Option<usize> {
        self.markets.iter().position(|m| m.symbol == symbol)
    }

    /// A position's health input exactly as the program resolves it (`position_input`) from
    /// `native` units held (`debt`: owed) at `price`.
    pub fn position(
        &self,
        market: usize,
        native: u64,
        debt: bool,
        price: &OraclePrice,
    ) -> Result<HealthPosition> {
        let m = &self.markets[market];
        let shares = I80F48::from_num(native);
        let shares = if debt { -shares } else { shares };
        scalpel::health_accounts::position_input(&m.market, shares, price, T0)
            .map_err(|e| anyhow!("position in {}: {e}", m.symbol))
    }
}
