//! Names of the instructions in a transaction, for the localnet's one line per transaction:
//! Scalpel's by their Anchor discriminators, and the system, token, ATA and compute-budget
//! programs' by their tags.

use super::ledger::TxRecord;
use anchor_lang::Discriminator;
use scalpel::instruction as sx;
use solana_sdk::pubkey::Pubkey;

const SCALPEL: &[(&[u8], &str)] = &[
    (sx::ProtocolInit::DISCRIMINATOR, "protocol_init"),
    (sx::MarketAdd::DISCRIMINATOR, "market_add"),
    (sx::AccountCreate::DISCRIMINATOR, "account_create"),
    (sx::AccountClose::DISCRIMINATOR, "account_close"),
    (sx::Deposit::DISCRIMINATOR, "deposit"),
    (sx::Withdraw::DISCRIMINATOR, "withdraw"),
    (sx::Borrow::DISCRIMINATOR, "borrow"),
    (sx::Repay::DISCRIMINATOR, "repay"),
    (sx::MarketAccrue::DISCRIMINATOR, "market_accrue"),
    (sx::Liquidate::DISCRIMINATOR, "liquidate"),
    (sx::BadDebtResolve::DISCRIMINATOR, "bad_debt_resolve"),
    (sx::InsuranceFund::DISCRIMINATOR, "insurance_fund"),
    (sx::HealthView::DISCRIMINATOR, "health_view"),
    (sx::AdminPropose::DISCRIMINATOR, "admin_propose"),
    (sx::AdminAccept::DISCRIMINATOR, "admin_accept"),
    (sx::GuardianSet::DISCRIMINATOR, "guardian_set"),
    (
        sx::ParamsQueueProtocol::DISCRIMINATOR,
        "params_queue_protocol",
    ),
    (
        sx::ParamsApplyProtocol::DISCRIMINATOR,
        "params_apply_protocol",
    ),
    (sx::ParamsQueueMarket::DISCRIMINATOR, "params_queue_market"),
    (sx::ParamsApplyMarket::DISCRIMINATOR, "params_apply_market"),
    (sx::ParamsCancel::DISCRIMINATOR, "params_cancel"),
    (sx::GuardianTighten::DISCRIMINATOR, "guardian_tighten"),
    (sx::AdminSetFlags::DISCRIMINATOR, "admin_set_flags"),
    (sx::TreasuryWithdraw::DISCRIMINATOR, "treasury_withdraw"),
];

const SYSTEM: Pubkey = solana_sdk::pubkey!("11111111111111111111111111111111");

fn token_name(tag: u8) -> Option<&'static str> {
    Some(match tag {
        0 => "initialize_mint",
        1 => "initialize_account",
        3 => "transfer",
        4 => "approve",
        7 => "mint_to",
        8 => "burn",
        9 => "close_account",
        12 => "transfer_checked",
        16 => "initialize_account2",
        17 => "sync_native",
        18 => "initialize_account3",
        20 => "initialize_mint2",
        _ => return None,
    })
}

fn system_name(tag: u32) -> Option<&'static str> {
    Some(match tag {
        0 => "create_account",
        1 => "assign",
        2 => "transfer",
        3 => "create_account_with_seed",
        8 => "allocate",
        _ => return None,
    })
}

/// `program:instruction` for one instruction (`scalpel:deposit`, `token:mint_to`), or the
/// program id when it is none of the known ones.
pub fn instruction_name(program: &Pubkey, data: &[u8]) -> String {
    if *program == scalpel::ID {
        return match SCALPEL.iter().find(|(d, _)| data.starts_with(d)) {
            Some((_, name)) => format!("scalpel:{name}"),
            None => "scalpel:?".into(),
        };
    }
    let (prefix, name) = if *program == spl_token::ID {
        ("token", data.first().and_then(|t| token_name(*t)))
    } else if *program == SYSTEM {
        let tag = data
            .get(..4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_le_bytes);
        ("system", tag.and_then(system_name))
    } else if *program == crate::token::ATA_PROGRAM {
        (
            "ata",
            Some(if data.first() == Some(&1) {
                "create_idempotent"
            } else {
                "create"
            }),
        )
    } else if *program == solana_sdk::compute_budget::ID {
        return "compute_budget".into();
    } else {
        return program.to_string();
    };
    format!("{prefix}:{}", name.unwrap_or("?"))
}

/// The names of a transaction's top-level instructions, compute-budget ones left out.
pub fn instruction_names(r: &TxRecord) -> Vec<String> {
    let keys = r.transaction.message.static_account_keys();
    r.transaction
        .message
        .instructions()
        .iter()
        .filter_map(|ix| {
            let program = keys.get(usize::from(ix.program_id_index))?;
            (*program != solana_sdk::compute_budget::ID)
                .then(|| instruction_name(program, &ix.data))
        })
        .collect()
}

/// `ok`, or the failure's name as the client names it (`InsufficientHealth`,
/// `TokenError::InsufficientFunds`).
pub fn result_name(r: &TxRecord) -> String {
    match &r.err {
        None => "ok".into(),
        Some(e) => crate::chain::failure(e, r.logs.clone()).name,
    }
}

/// The console line of a landed transaction.
pub fn log_landed(r: &TxRecord) {
    let instructions = instruction_names(r).join(" ");
    let result = result_name(r);
    tracing::info!(
        target: "scalpel::localnet",
        signature = %r.signature,
        slot = r.slot,
        instructions = %instructions,
        result = %result,
        units = r.units,
        "transaction"
    );
}
