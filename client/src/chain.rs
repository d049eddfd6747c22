//! The [`Chain`] trait: what the client, keeper, scenario runner and CLI need from a cluster,
//! implemented over the in-process bank (`LocalChain`, feature `local`) and, for real clusters, RPC.

use async_trait::async_trait;
use solana_sdk::{
    account::Account,
    clock::Clock,
    hash::Hash,
    instruction::{Instruction, InstructionError},
    pubkey::Pubkey,
    signature::Keypair,
    transaction::{Transaction, TransactionError},
};

/// A landed (or simulated) transaction.
#[derive(Clone, Debug, Default)]
pub struct TxOutcome {
    /// Program logs.
    pub logs: Vec<String>,
    /// Return data of the last instruction that set it.
    pub return_data: Option<Vec<u8>>,
    /// Compute units consumed.
    pub compute_units: u64,
}

/// A failed transaction, with the error's name.
#[derive(Clone, Debug)]
pub struct TxFailure {
    /// Error name: the program's (`OracleStale`), Anchor's (`ConstraintSeeds`), the token
    /// program's (`TokenError::InsufficientFunds`) or the runtime's (`MissingRequiredSignature`).
    pub name: String,
    /// Custom error code, when there is one.
    pub code: Option<u32>,
    /// Program logs up to the failure.
    pub logs: Vec<String>,
}

impl std::fmt::Display for TxFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "transaction failed: {}", self.name)
    }
}

impl std::error::Error for TxFailure {}

/// Reads and writes a Solana cluster.
#[async_trait]
pub trait Chain: Send + Sync {
    /// One account, `None` if it does not exist.
    async fn account(&self, key: &Pubkey) -> anyhow::Result<Option<Account>>;
    /// Several accounts in one round trip where the backend allows.
    async fn accounts(&self, keys: &[Pubkey]) -> anyhow::Result<Vec<Option<Account>>>;
    /// Every account of the program whose data starts with `discriminator`.
    async fn program_accounts(
        &self,
        discriminator: &[u8],
    ) -> anyhow::Result<Vec<(Pubkey, Account)>>;
    /// Signs with `signers` (the first pays) and sends; `Err` carries the failure's name.
    async fn send(
        &self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> anyhow::Result<Result<TxOutcome, TxFailure>>;
    /// Like `send` without landing anything (for views such as `health_view`).
    async fn simulate(
        &self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> anyhow::Result<Result<TxOutcome, TxFailure>>;
    /// The cluster clock.
    async fn clock(&self) -> anyhow::Result<Clock>;
    /// A recent blockhash to sign with.
    async fn latest_blockhash(&self) -> anyhow::Result<Hash>;
    /// Sends a transaction signed elsewhere (e.g. an unsigned one from `admin apply
    /// --print-only`, signed later by a multisig member).
    async fn send_signed(&self, tx: Transaction) -> anyhow::Result<Result<TxOutcome, TxFailure>>;
}

/// Names a transaction error, preferring the name the program logged.
pub fn failure(err: &TransactionError, logs: Vec<String>) -> TxFailure {
    let logged = logs.iter().find_map(|l| {
        let rest = l.split("Error Code: ").nth(1)?;
        Some(rest.split('.').next()?.to_string())
    });
    let (name, code) = match err {
        TransactionError::InstructionError(_, InstructionError::Custom(c)) => {
            let name = logged
                .filter(|n| !n.starts_with("Custom("))
                .or_else(|| scalpel::errors::ScalpelError::from_code(*c).map(|e| e.name()))
                .or_else(|| anchor_error_name(*c))
                .unwrap_or_else(|| builtin_error_name(*c, &logs));
            (name, Some(*c))
        }
        TransactionError::InstructionError(_, e) => {
            (logged.unwrap_or_else(|| format!("{e:?}")), None)
        }
        e => (format!("{e:?}"), None),
    };
    TxFailure { name, code, logs }
}

/// Names a custom error of the token or system program (e.g. the system program's
/// `AccountAlreadyInUse` when Anchor's `init` meets an existing account), from the program the
/// logs say failed.
fn builtin_error_name(code: u32, logs: &[String]) -> String {
    let failed = |program: &str| {
        let needle = format!("Program {program} failed");
        logs.iter().any(|l| l.contains(&needle))
    };
    let (prefix, name) = if failed("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA") {
        let name = match code {
            0 => "NotRentExempt",
            1 => "InsufficientFunds",
            2 => "InvalidMint",
            3 => "MintMismatch",
            4 => "OwnerMismatch",
            17 => "AccountFrozen",
            _ => "",
        };
        ("TokenError", name)
    } else if failed("11111111111111111111111111111111") {
        let name = match code {
            0 => "AccountAlreadyInUse",
            1 => "ResultWithNegativeLamports",
            2 => "InvalidProgramId",
            3 => "InvalidAccountDataLength",
            4 => "MaxSeedLengthExceeded",
            5 => "AddressWithSeedMismatch",
            _ => "",
        };
        ("SystemError", name)
    } else {
        ("", "")
    };
    if name.is_empty() {
        format!("Custom({code})")
    } else {
        format!("{prefix}::{name}")
    }
}

/// Names Anchor's framework errors (constraint and account checks) from their codes; the names
/// come from anchor-lang itself.
pub fn anchor_error_name(code: u32) -> Option<String> {
    use anchor_lang::error::ErrorCode as E;
    const KNOWN: &[E] = &[
        E::InstructionMissing,
        E::InstructionFallbackNotFound,
        E::InstructionDidNotDeserialize,
        E::ConstraintMut,
        E::ConstraintHasOne,
        E::ConstraintSigner,
        E::ConstraintRaw,
        E::ConstraintOwner,
        E::ConstraintRentExempt,
        E::ConstraintSeeds,
        E::ConstraintExecutable,
        E::ConstraintAddress,
        E::ConstraintZero,
        E::ConstraintTokenMint,
        E::ConstraintTokenOwner,
        E::ConstraintMintMintAuthority,
        E::ConstraintMintDecimals,
        E::ConstraintSpace,
        E::AccountDiscriminatorAlreadySet,
        E::AccountDiscriminatorNotFound,
        E::AccountDiscriminatorMismatch,
        E::AccountDidNotDeserialize,
        E::AccountDidNotSerialize,
        E::AccountNotEnoughKeys,
        E::AccountNotMutable,
        E::AccountOwnedByWrongProgram,
        E::InvalidProgramId,
        E::InvalidProgramExecutable,
        E::AccountNotSigner,
        E::AccountNotSystemOwned,
        E::AccountNotInitialized,
        E::AccountNotProgramData,
        E::AccountSysvarMismatch,
        E::TryingToInitPayerAsProgramAccount,
    ];
    KNOWN
        .iter()
        .find(|e| u32::from(**e) == code)
        .map(|e| e.name())
}
