//! Queues a change of a market's risk parameters, oracle account or feed behind the timelock
//! (admin). An oracle or feed change can only happen this way.

use crate::constants::PROTOCOL_SEED;
use crate::errors::ScalpelError;
use crate::events::MarketParamsQueued;
use crate::oracle::{self, OracleKind, RawDetail};
use crate::params::MarketParams;
use crate::state::{Market, Protocol};
use anchor_lang::prelude::*;

/// Arguments of `params_queue_market`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct ParamsQueueMarketArgs {
    /// The full new parameter set (checked now and again at apply).
    pub params: MarketParams,
    /// Oracle kind after the change.
    pub oracle_kind: u8,
    /// Pull feed id after the change (zeros for legacy).
    pub feed_id: [u8; 32],
}

/// Accounts of `params_queue_market`.
#[derive(Accounts)]
pub struct ParamsQueueMarket<'info> {
    /// Protocol; its admin must sign.
    #[account(seeds = [PROTOCOL_SEED], bump = protocol.load()?.bump,
        has_one = admin @ ScalpelError::Unauthorized)]
    pub protocol: AccountLoader<'info, Protocol>,
    /// Admin.
    pub admin: Signer<'info>,
    /// Market changed.
    #[account(mut)]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: the oracle after the change; owner and format checked by the adapter.
    pub oracle: UncheckedAccount<'info>,
}

impl ParamsQueueMarket<'_> {
    /// Bounds, and an oracle of the declared kind and feed.
    pub fn validate(&self, args: &ParamsQueueMarketArgs) -> Result<()> {
        args.params.validate()?;
        check_oracle(&self.oracle, args.oracle_kind, &args.feed_id)
    }
}

/// The oracle decodes as `kind` and (pull) carries `feed_id`.
pub fn check_oracle(oracle: &AccountInfo, kind: u8, feed_id: &[u8; 32]) -> Result<()> {
    let kind = OracleKind::from_u8(kind)?;
    let data = oracle.try_borrow_data()?;
    let raw = oracle::decode(kind, oracle.owner, &data)?;
    if let RawDetail::Pull { feed_id: f, .. } = raw.detail {
        if f != *feed_id {
            return err!(ScalpelError::OracleFeedMismatch);
        }
    }
    Ok(())
}

/// Stores it with `eta = now + timelock`.
#[access_control(ctx.accounts.validate(&args))]
pub fn handler(ctx: Context<ParamsQueueMarket>, args: ParamsQueueMarketArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let timelock = ctx.accounts.protocol.load()?.timelock_secs;
    let eta = now.saturating_add(timelock as i64);
    let mut m = ctx.accounts.market.load_mut()?;
    let feed = if args.oracle_kind == OracleKind::PythPull as u8 {
        args.feed_id
    } else {
        [0; 32]
    };
    m.pending.set(
        &args.params,
        args.oracle_kind,
        ctx.accounts.oracle.key(),
        feed,
        eta,
    );
    crate::runtime::emit_event(&MarketParamsQueued {
        market: ctx.accounts.market.key(),
        old: m.params()?,
        new: args.params,
        old_oracle: m.oracle,
        new_oracle: ctx.accounts.oracle.key(),
        eta,
    });
    Ok(())
}
