//! Instruction builders: one function per program instruction, accounts derived from PDAs.

use crate::pda;
use anchor_lang::system_program;
use anchor_lang::{InstructionData, ToAccountMetas};
use scalpel::params::{MarketParams, ProtocolParams};
use solana_sdk::{
    instruction::{AccountMeta, Instruction},
    pubkey::Pubkey,
    sysvar,
};

fn build(
    accounts: impl ToAccountMetas,
    data: impl InstructionData,
    health: &[(Pubkey, Pubkey)],
) -> Instruction {
    let mut metas = accounts.to_account_metas(None);
    metas.extend(health_metas(health));
    Instruction {
        program_id: scalpel::ID,
        accounts: metas,
        data: data.data(),
    }
}

/// Health remaining accounts: `(market, oracle)` per active position, in slot order, read-only.
pub fn health_metas(pairs: &[(Pubkey, Pubkey)]) -> Vec<AccountMeta> {
    pairs
        .iter()
        .flat_map(|(m, o)| {
            [
                AccountMeta::new_readonly(*m, false),
                AccountMeta::new_readonly(*o, false),
            ]
        })
        .collect()
}

/// `protocol_init`: `admin` signs and pays.
pub fn protocol_init(admin: &Pubkey, guardian: &Pubkey, params: ProtocolParams) -> Instruction {
    build(
        scalpel::accounts::ProtocolInit {
            protocol: pda::protocol(),
            admin: *admin,
            system_program: system_program::ID,
        },
        scalpel::instruction::ProtocolInit {
            args: scalpel::instructions::ProtocolInitArgs {
                guardian: *guardian,
                params,
            },
        },
        &[],
    )
}

/// `market_add` for `mint` reading `oracle`.
#[allow(clippy::too_many_arguments)]
pub fn market_add(
    admin: &Pubkey,
    payer: &Pubkey,
    symbol: [u8; 16],
    mint: &Pubkey,
    oracle: &Pubkey,
    oracle_kind: u8,
    feed_id: [u8; 32],
    params: MarketParams,
) -> Instruction {
    let market = pda::market(mint);
    build(
        scalpel::accounts::MarketAdd {
            protocol: pda::protocol(),
            admin: *admin,
            payer: *payer,
            mint: *mint,
            market,
            vault: pda::vault(&market),
            insurance_vault: pda::insurance_vault(&market),
            treasury_vault: pda::treasury_vault(&market),
            oracle: *oracle,
            token_program: spl_token::ID,
            system_program: system_program::ID,
            rent: sysvar::rent::ID,
        },
        scalpel::instruction::MarketAdd {
            args: scalpel::instructions::MarketAddArgs {
                symbol,
                oracle_kind,
                feed_id,
                params,
            },
        },
        &[],
    )
}

/// `account_create` of `owner`'s account `index`.
pub fn account_create(owner: &Pubkey, index: u16) -> Instruction {
    build(
        scalpel::accounts::AccountCreate {
            margin_account: pda::margin_account(owner, index),
            owner: *owner,
            system_program: system_program::ID,
        },
        scalpel::instruction::AccountCreate {
            args: scalpel::instructions::AccountCreateArgs {
                account_index: index,
            },
        },
        &[],
    )
}

/// `account_close`; `dust_markets` are the markets of the positions still held, in slot order
/// (deposits worth less than one native unit, whose shares the close burns).
pub fn account_close(
    owner: &Pubkey,
    margin_account: &Pubkey,
    dust_markets: &[Pubkey],
) -> Instruction {
    let mut ix = build(
        scalpel::accounts::AccountClose {
            margin_account: *margin_account,
            owner: *owner,
        },
        scalpel::instruction::AccountClose {},
        &[],
    );
    ix.accounts
        .extend(dust_markets.iter().map(|m| AccountMeta::new(*m, false)));
    ix
}

/// The accounts every token-moving instruction shares.
#[derive(Clone, Copy, Debug)]
pub struct TokenMove {
    /// Account owner (signer).
    pub owner: Pubkey,
    /// Margin account.
    pub margin_account: Pubkey,
    /// Market's mint.
    pub mint: Pubkey,
    /// The user's token account.
    pub user_token: Pubkey,
}

impl TokenMove {
    fn market(&self) -> Pubkey {
        pda::market(&self.mint)
    }
}

/// `deposit`.
pub fn deposit(t: &TokenMove, amount: u64) -> Instruction {
    let market = t.market();
    build(
        scalpel::accounts::Deposit {
            protocol: pda::protocol(),
            margin_account: t.margin_account,
            market,
            vault: pda::vault(&market),
            user_token: t.user_token,
            owner: t.owner,
            token_program: spl_token::ID,
        },
        scalpel::instruction::Deposit {
            args: scalpel::instructions::DepositArgs { amount },
        },
        &[],
    )
}

/// `withdraw`; `health` are the pairs after the withdrawal.
pub fn withdraw(t: &TokenMove, amount: u64, health: &[(Pubkey, Pubkey)]) -> Instruction {
    let market = t.market();
    build(
        scalpel::accounts::Withdraw {
            protocol: pda::protocol(),
            margin_account: t.margin_account,
            market,
            vault: pda::vault(&market),
            user_token: t.user_token,
            owner: t.owner,
            token_program: spl_token::ID,
        },
        scalpel::instruction::Withdraw {
            args: scalpel::instructions::WithdrawArgs { amount },
        },
        health,
    )
}

/// `borrow`; `health` are the pairs after the borrow.
pub fn borrow(t: &TokenMove, amount: u64, health: &[(Pubkey, Pubkey)]) -> Instruction {
    let market = t.market();
    build(
        scalpel::accounts::Borrow {
            protocol: pda::protocol(),
            margin_account: t.margin_account,
            market,
            vault: pda::vault(&market),
            user_token: t.user_token,
            owner: t.owner,
            token_program: spl_token::ID,
        },
        scalpel::instruction::Borrow {
            args: scalpel::instructions::BorrowArgs { amount },
        },
        health,
    )
}

/// `repay`.
pub fn repay(t: &TokenMove, amount: u64) -> Instruction {
    let market = t.market();
    build(
        scalpel::accounts::Repay {
            margin_account: t.margin_account,
            market,
            vault: pda::vault(&market),
            user_token: t.user_token,
            owner: t.owner,
            token_program: spl_token::ID,
        },
        scalpel::instruction::Repay {
            args: scalpel::instructions::RepayArgs { amount },
        },
        &[],
    )
}

/// `market_accrue`.
pub fn market_accrue(market: &Pubkey) -> Instruction {
    build(
        scalpel::accounts::MarketAccrue { market: *market },
        scalpel::instruction::MarketAccrue {},
        &[],
    )
}

/// `health_view`; simulate it and decode the return data with [`crate::health::decode_view`].
pub fn health_view(margin_account: &Pubkey, health: &[(Pubkey, Pubkey)]) -> Instruction {
    build(
        scalpel::accounts::HealthViewAccounts {
            protocol: pda::protocol(),
            margin_account: *margin_account,
        },
        scalpel::instruction::HealthView {},
        health,
    )
}

/// The accounts of a `liquidate` call.
#[derive(Clone, Copy, Debug)]
pub struct LiquidateAccounts {
    /// Liquidated margin account.
    pub liquidatee: Pubkey,
    /// Mint of the collateral market `i`.
    pub asset_mint: Pubkey,
    /// Mint of the liability market `j`.
    pub liab_mint: Pubkey,
    /// Liquidator wallet (signer).
    pub liquidator: Pubkey,
    /// Liquidator's token account of `j` (pays).
    pub liquidator_liab_token: Pubkey,
    /// Liquidator's token account of `i` (receives).
    pub liquidator_asset_token: Pubkey,
}

/// `liquidate`; `health` are the liquidatee's current pairs.
pub fn liquidate(
    a: &LiquidateAccounts,
    max_repay: u64,
    health: &[(Pubkey, Pubkey)],
) -> Instruction {
    let asset_market = pda::market(&a.asset_mint);
    let liab_market = pda::market(&a.liab_mint);
    build(
        scalpel::accounts::Liquidate {
            protocol: pda::protocol(),
            liquidatee: a.liquidatee,
            asset_market,
            liab_market,
            asset_vault: pda::vault(&asset_market),
            liab_vault: pda::vault(&liab_market),
            liquidator: a.liquidator,
            liquidator_liab_token: a.liquidator_liab_token,
            liquidator_asset_token: a.liquidator_asset_token,
            token_program: spl_token::ID,
        },
        scalpel::instruction::Liquidate {
            args: scalpel::instructions::LiquidateArgs { max_repay },
        },
        health,
    )
}

/// The accounts of a `liquidate_to_account` call.
#[derive(Clone, Copy, Debug)]
pub struct LiquidateToAccountAccounts {
    /// Margin account liquidated.
    pub liquidatee: Pubkey,
    /// Mint of the collateral market `i`.
    pub asset_mint: Pubkey,
    /// Mint of the liability market `j`.
    pub liab_mint: Pubkey,
    /// Liquidator wallet (signer, owner of `liquidator_account`).
    pub liquidator: Pubkey,
    /// The liquidator's margin account, which takes the debt and the collateral.
    pub liquidator_account: Pubkey,
}

/// `liquidate_to_account`; `health` are the liquidatee's current pairs, `liquidator_health` the
/// liquidator account's pairs after the liquidation ([`crate::health::pairs_after_take_over`]).
pub fn liquidate_to_account(
    a: &LiquidateToAccountAccounts,
    max_repay: u64,
    health: &[(Pubkey, Pubkey)],
    liquidator_health: &[(Pubkey, Pubkey)],
) -> Instruction {
    let mut ix = build(
        scalpel::accounts::LiquidateToAccount {
            protocol: pda::protocol(),
            liquidatee: a.liquidatee,
            asset_market: pda::market(&a.asset_mint),
            liab_market: pda::market(&a.liab_mint),
            liquidator: a.liquidator,
            liquidator_account: a.liquidator_account,
        },
        scalpel::instruction::LiquidateToAccount {
            args: scalpel::instructions::LiquidateArgs { max_repay },
        },
        health,
    );
    ix.accounts.extend(health_metas(liquidator_health));
    ix
}

/// `bad_debt_resolve` of `account`'s debt in the market of `mint`. `health` are the account's
/// pairs (their markets writable: deposits left are forfeited to their market's insurance).
pub fn bad_debt_resolve(
    account: &Pubkey,
    mint: &Pubkey,
    health: &[(Pubkey, Pubkey)],
) -> Instruction {
    let market = pda::market(mint);
    let mut ix = build(
        scalpel::accounts::BadDebtResolve {
            protocol: pda::protocol(),
            account: *account,
            market,
            vault: pda::vault(&market),
            insurance_vault: pda::insurance_vault(&market),
            token_program: spl_token::ID,
        },
        scalpel::instruction::BadDebtResolve {},
        &[],
    );
    ix.accounts.extend(health.iter().flat_map(|(m, o)| {
        [
            AccountMeta::new(*m, false),
            AccountMeta::new_readonly(*o, false),
        ]
    }));
    ix
}

/// `market_collect_fees`: moves the insurance and treasury shares held in the vault of the
/// market of `mint` to its insurance and treasury vaults (permissionless).
pub fn market_collect_fees(mint: &Pubkey) -> Instruction {
    let market = pda::market(mint);
    build(
        scalpel::accounts::MarketCollectFees {
            market,
            vault: pda::vault(&market),
            insurance_vault: pda::insurance_vault(&market),
            treasury_vault: pda::treasury_vault(&market),
            token_program: spl_token::ID,
        },
        scalpel::instruction::MarketCollectFees {},
        &[],
    )
}

/// `insurance_fund`: `funder` adds `amount` from `funder_token` to the insurance of `mint`.
pub fn insurance_fund(
    funder: &Pubkey,
    funder_token: &Pubkey,
    mint: &Pubkey,
    amount: u64,
) -> Instruction {
    let market = pda::market(mint);
    build(
        scalpel::accounts::InsuranceFund {
            market,
            insurance_vault: pda::insurance_vault(&market),
            funder_token: *funder_token,
            funder: *funder,
            token_program: spl_token::ID,
        },
        scalpel::instruction::InsuranceFund {
            args: scalpel::instructions::InsuranceFundArgs { amount },
        },
        &[],
    )
}

/// `admin_propose`.
pub fn admin_propose(admin: &Pubkey, new_admin: &Pubkey) -> Instruction {
    build(
        scalpel::accounts::AdminPropose {
            protocol: pda::protocol(),
            admin: *admin,
        },
        scalpel::instruction::AdminPropose {
            args: scalpel::instructions::AdminProposeArgs {
                new_admin: *new_admin,
            },
        },
        &[],
    )
}

/// `admin_accept`, signed by the proposed admin.
pub fn admin_accept(new_admin: &Pubkey) -> Instruction {
    build(
        scalpel::accounts::AdminAccept {
            protocol: pda::protocol(),
            new_admin: *new_admin,
        },
        scalpel::instruction::AdminAccept {},
        &[],
    )
}

/// `guardian_set`.
pub fn guardian_set(admin: &Pubkey, guardian: &Pubkey) -> Instruction {
    build(
        scalpel::accounts::GuardianSet {
            protocol: pda::protocol(),
            admin: *admin,
        },
        scalpel::instruction::GuardianSet {
            args: scalpel::instructions::GuardianSetArgs {
                guardian: *guardian,
            },
        },
        &[],
    )
}

/// `params_queue_protocol`.
pub fn params_queue_protocol(admin: &Pubkey, params: ProtocolParams) -> Instruction {
    build(
        scalpel::accounts::ParamsQueueProtocol {
            protocol: pda::protocol(),
            admin: *admin,
        },
        scalpel::instruction::ParamsQueueProtocol {
            args: scalpel::instructions::ParamsQueueProtocolArgs { params },
        },
        &[],
    )
}

/// `params_apply_protocol` (anyone).
pub fn params_apply_protocol() -> Instruction {
    build(
        scalpel::accounts::ParamsApplyProtocol {
            protocol: pda::protocol(),
        },
        scalpel::instruction::ParamsApplyProtocol {},
        &[],
    )
}

/// `params_queue_market` for the market of `mint`, reading `oracle` after the change.
pub fn params_queue_market(
    admin: &Pubkey,
    mint: &Pubkey,
    oracle: &Pubkey,
    oracle_kind: u8,
    feed_id: [u8; 32],
    params: MarketParams,
) -> Instruction {
    build(
        scalpel::accounts::ParamsQueueMarket {
            protocol: pda::protocol(),
            admin: *admin,
            market: pda::market(mint),
            oracle: *oracle,
        },
        scalpel::instruction::ParamsQueueMarket {
            args: scalpel::instructions::ParamsQueueMarketArgs {
                params,
                oracle_kind,
                feed_id,
            },
        },
        &[],
    )
}

/// `params_apply_market` (anyone); `oracle` is the queued oracle.
pub fn params_apply_market(mint: &Pubkey, oracle: &Pubkey) -> Instruction {
    build(
        scalpel::accounts::ParamsApplyMarket {
            protocol: pda::protocol(),
            market: pda::market(mint),
            oracle: *oracle,
        },
        scalpel::instruction::ParamsApplyMarket {},
        &[],
    )
}

/// `params_cancel` of the market of `mint`, or of the protocol when `None`.
pub fn params_cancel(authority: &Pubkey, mint: Option<&Pubkey>) -> Instruction {
    build(
        scalpel::accounts::ParamsCancel {
            protocol: pda::protocol(),
            authority: *authority,
            market: mint.map(pda::market),
        },
        scalpel::instruction::ParamsCancel {},
        &[],
    )
}

/// `guardian_tighten`; `mint` names the market for market actions.
pub fn guardian_tighten(
    authority: &Pubkey,
    mint: Option<&Pubkey>,
    action: scalpel::params::GuardianAction,
) -> Instruction {
    build(
        scalpel::accounts::GuardianTighten {
            protocol: pda::protocol(),
            authority: *authority,
            market: mint.map(pda::market),
        },
        scalpel::instruction::GuardianTighten {
            args: scalpel::instructions::GuardianTightenArgs { action },
        },
        &[],
    )
}

/// `admin_set_flags` for the market of `mint`, or the protocol when `None`.
pub fn admin_set_flags(admin: &Pubkey, mint: Option<&Pubkey>, flags: u8) -> Instruction {
    build(
        scalpel::accounts::AdminSetFlags {
            protocol: pda::protocol(),
            admin: *admin,
            market: mint.map(pda::market),
        },
        scalpel::instruction::AdminSetFlags {
            args: scalpel::instructions::AdminSetFlagsArgs { flags },
        },
        &[],
    )
}

/// `treasury_withdraw` from the market of `mint` to `destination`.
pub fn treasury_withdraw(
    admin: &Pubkey,
    mint: &Pubkey,
    destination: &Pubkey,
    amount: u64,
) -> Instruction {
    let market = pda::market(mint);
    build(
        scalpel::accounts::TreasuryWithdraw {
            protocol: pda::protocol(),
            admin: *admin,
            market,
            treasury_vault: pda::treasury_vault(&market),
            destination: *destination,
            token_program: spl_token::ID,
        },
        scalpel::instruction::TreasuryWithdraw {
            args: scalpel::instructions::TreasuryWithdrawArgs { amount },
        },
        &[],
    )
}
