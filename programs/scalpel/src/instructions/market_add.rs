//! Lists a token: creates the market and its three PDA token accounts (admin only).
//!
//! A new market starts quarantined: no collateral value (asset weights 0) and no borrowing from
//! it. The listed parameters are queued as a timelocked change; only `params_apply_market` after
//! the timelock makes the market collateral or borrowable. A captured admin key can then never
//! list a worthless mint with a borrowed feed and borrow the vaults empty in one transaction.

use crate::constants::{
    bounds::MAX_DECIMALS, ACCOUNT_VERSION, INSURANCE_SEED, MARKET_SEED, MAX_MARKETS, PROTOCOL_SEED,
    TREASURY_SEED, VAULT_SEED,
};
use crate::errors::ScalpelError;
use crate::events::MarketAdded;
use crate::math::{WrappedI80F48, I80F48};
use crate::oracle::{self, OracleKind, RawDetail};
use crate::params::{bps_fraction, symbol_is_valid, MarketParams};
use crate::state::{Market, Protocol, MARKET_QUARANTINED};
use anchor_lang::prelude::*;
use anchor_lang::solana_program::program_pack::Pack;
use anchor_lang::CheckOwner;
use anchor_spl::token::{spl_token, Token, TokenAccount};

/// A mint that may be listed: owned by SPL Token (not Token-2022, whose extensions can move or
/// withhold vault tokens) and without a freeze authority (which could freeze the vaults). Both
/// are checked while the accounts are read, before the vaults are created, each with its own
/// error.
#[derive(Clone, Debug)]
pub struct ListingMint(spl_token::state::Mint);

impl CheckOwner for ListingMint {
    fn check_owner(owner: &Pubkey) -> Result<()> {
        if *owner == spl_token::ID {
            Ok(())
        } else if *owner == anchor_spl::token_2022::ID {
            err!(ScalpelError::MintNotSplToken)
        } else {
            Err(ErrorCode::AccountOwnedByWrongProgram.into())
        }
    }
}

impl AccountDeserialize for ListingMint {
    fn try_deserialize_unchecked(buf: &mut &[u8]) -> Result<Self> {
        let mint = spl_token::state::Mint::unpack(buf)
            .map_err(|_| error!(ErrorCode::AccountDidNotDeserialize))?;
        if mint.freeze_authority.is_some() {
            return err!(ScalpelError::MintHasFreezeAuthority);
        }
        Ok(ListingMint(mint))
    }
}

impl AccountSerialize for ListingMint {}

// `InterfaceAccount` fields need these under `idl-build`. The defaults keep the SPL mint out of
// the IDL's accounts and types (it is not this program's account), as anchor-spl does for its
// own `Mint`; nothing is compiled for the program itself.
#[cfg(feature = "idl-build")]
impl anchor_lang::IdlBuild for ListingMint {}

#[cfg(feature = "idl-build")]
impl anchor_lang::Discriminator for ListingMint {
    const DISCRIMINATOR: &'static [u8] = &[];
}

impl core::ops::Deref for ListingMint {
    type Target = spl_token::state::Mint;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// Arguments of `market_add`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct MarketAddArgs {
    /// Ticker ([`crate::params::symbol_bytes`]).
    pub symbol: [u8; 16],
    /// [`OracleKind`] byte: 0 legacy, 1 pull.
    pub oracle_kind: u8,
    /// Pull feed id (must match the oracle account's); zeros for legacy.
    pub feed_id: [u8; 32],
    /// Risk parameters (validated against the bounds).
    pub params: MarketParams,
}

/// Accounts of `market_add`.
#[derive(Accounts)]
pub struct MarketAdd<'info> {
    /// Protocol; its admin must sign.
    #[account(mut, seeds = [PROTOCOL_SEED], bump = protocol.load()?.bump,
        has_one = admin @ ScalpelError::Unauthorized)]
    pub protocol: AccountLoader<'info, Protocol>,
    /// Governance authority.
    pub admin: Signer<'info>,
    /// Pays rent.
    #[account(mut)]
    pub payer: Signer<'info>,
    /// Token listed (SPL Token, no freeze authority).
    pub mint: Box<InterfaceAccount<'info, ListingMint>>,
    /// The market, created here.
    #[account(init, payer = payer, space = Market::SPACE,
        seeds = [MARKET_SEED, mint.key().as_ref()], bump)]
    pub market: AccountLoader<'info, Market>,
    /// Liquidity vault, created here.
    #[account(init, payer = payer, seeds = [VAULT_SEED, market.key().as_ref()], bump,
        token::mint = mint, token::authority = market)]
    pub vault: Box<Account<'info, TokenAccount>>,
    /// Insurance vault, created here.
    #[account(init, payer = payer, seeds = [INSURANCE_SEED, market.key().as_ref()], bump,
        token::mint = mint, token::authority = market)]
    pub insurance_vault: Box<Account<'info, TokenAccount>>,
    /// Treasury vault, created here.
    #[account(init, payer = payer, seeds = [TREASURY_SEED, market.key().as_ref()], bump,
        token::mint = mint, token::authority = market)]
    pub treasury_vault: Box<Account<'info, TokenAccount>>,
    /// CHECK: owner and format checked by the oracle adapter in `validate`.
    pub oracle: UncheckedAccount<'info>,
    /// SPL Token.
    pub token_program: Program<'info, Token>,
    /// System program.
    pub system_program: Program<'info, System>,
    /// Rent sysvar (token account init).
    pub rent: Sysvar<'info, Rent>,
}

impl MarketAdd<'_> {
    /// Bounds, decimals, room for another market, and an oracle of the declared kind and feed.
    pub fn validate(&self, args: &MarketAddArgs) -> Result<()> {
        if !symbol_is_valid(&args.symbol) {
            return err!(ScalpelError::InvalidSymbol);
        }
        args.params.validate()?;
        if self.mint.decimals > MAX_DECIMALS {
            return err!(ScalpelError::InvalidDecimals);
        }
        if self.protocol.load()?.market_count >= MAX_MARKETS {
            return err!(ScalpelError::TooManyMarkets);
        }
        let kind = OracleKind::from_u8(args.oracle_kind)?;
        let data = self.oracle.try_borrow_data()?;
        let raw = oracle::decode(kind, self.oracle.owner, &data)?;
        if let RawDetail::Pull { feed_id, .. } = raw.detail {
            if feed_id != args.feed_id {
                return err!(ScalpelError::OracleFeedMismatch);
            }
        }
        Ok(())
    }
}

/// Writes the market, quarantined, with its parameters queued behind the timelock.
#[access_control(ctx.accounts.validate(&args))]
pub fn handler(ctx: Context<MarketAdd>, args: MarketAddArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let mut protocol = ctx.accounts.protocol.load_mut()?;
    let eta = now.saturating_add(protocol.timelock_secs as i64);
    let mut m = ctx.accounts.market.load_init()?;
    let p = args.params;
    m.mint = ctx.accounts.mint.key();
    m.symbol = args.symbol;
    m.vault = ctx.accounts.vault.key();
    m.insurance_vault = ctx.accounts.insurance_vault.key();
    m.treasury_vault = ctx.accounts.treasury_vault.key();
    m.oracle = ctx.accounts.oracle.key();
    m.oracle_kind = args.oracle_kind;
    m.feed_id = if args.oracle_kind == OracleKind::PythPull as u8 {
        args.feed_id
    } else {
        [0; 32]
    };
    set_market_params(&mut m, &p)?;
    m.asset_weight_init = WrappedI80F48::default();
    m.asset_weight_maint = WrappedI80F48::default();
    m.flags = MARKET_QUARANTINED;
    let (kind, oracle, feed) = (m.oracle_kind, m.oracle, m.feed_id);
    m.pending.set(&p, kind, oracle, feed, eta);
    m.deposit_index = WrappedI80F48::from_num(I80F48::ONE);
    m.borrow_index = WrappedI80F48::from_num(I80F48::ONE);
    m.last_accrual_ts = now;
    m.market_index = protocol.market_count;
    m.decimals = ctx.accounts.mint.decimals;
    m.version = ACCOUNT_VERSION;
    m.bump = ctx.bumps.market;
    m.vault_bump = ctx.bumps.vault;
    m.insurance_bump = ctx.bumps.insurance_vault;
    m.treasury_bump = ctx.bumps.treasury_vault;
    protocol.market_count = protocol
        .market_count
        .checked_add(1)
        .ok_or(ScalpelError::TooManyMarkets)?;
    crate::runtime::emit_event(&MarketAdded {
        market: ctx.accounts.market.key(),
        mint: m.mint,
        symbol: m.symbol,
        market_index: m.market_index,
        oracle: m.oracle,
        oracle_kind: m.oracle_kind,
        activates_at: eta,
    });
    Ok(())
}

/// Stores validated market parameters (shared with governance's apply).
pub fn set_market_params(m: &mut Market, p: &MarketParams) -> Result<()> {
    m.asset_weight_init = bps_fraction(p.asset_weight_init_bps)?.into();
    m.asset_weight_maint = bps_fraction(p.asset_weight_maint_bps)?.into();
    m.liab_weight_init = bps_fraction(p.liab_weight_init_bps)?.into();
    m.liab_weight_maint = bps_fraction(p.liab_weight_maint_bps)?.into();
    m.liquidation_penalty_bps = p.liquidation_penalty_bps;
    m.liquidation_penalty_min_bps = p.liquidation_penalty_min_bps;
    m.max_conf_bps = p.max_conf_bps;
    m.max_age_secs = p.max_age_secs;
    m.max_age_liquidation_secs = p.max_age_liquidation_secs;
    m.deposit_cap = p.deposit_cap;
    m.borrow_cap = p.borrow_cap;
    m.optimal_utilization = bps_fraction(p.optimal_utilization_bps as u32)?.into();
    m.base_rate = bps_fraction(p.base_rate_bps)?.into();
    m.slope1 = bps_fraction(p.slope1_bps)?.into();
    m.slope2 = bps_fraction(p.slope2_bps)?.into();
    m.guards = crate::state::RiskGuards::of(p);
    Ok(())
}
