//! Scalpel's errors. Variants are ABI (their codes are 6000 + position): append, never reorder.

use anchor_lang::prelude::*;

/// Every error the program returns by name.
#[error_code]
#[derive(PartialEq, Eq)]
pub enum ScalpelError {
    #[msg("Checked arithmetic overflowed or divided by zero")]
    MathOverflow,
    #[msg("Signer is not the protocol admin")]
    Unauthorized,
    #[msg("Signer is not the margin account's owner")]
    NotAccountOwner,
    #[msg("Account layout version is not supported")]
    UnsupportedVersion,
    #[msg("Oracle account is not owned by the Pyth program this market uses")]
    OracleWrongOwner,
    #[msg("Oracle account data is not a Pyth price account of the expected kind")]
    OracleInvalidAccount,
    #[msg("Oracle account is not the market's oracle")]
    OracleMismatch,
    #[msg("Pull oracle feed id does not match the market's feed id")]
    OracleFeedMismatch,
    #[msg("Pull oracle update is not fully verified")]
    OracleNotFullyVerified,
    #[msg("Oracle price is zero or negative")]
    OraclePriceNonPositive,
    #[msg("Oracle exponent is outside the supported range")]
    OracleExponentOutOfRange,
    #[msg("Oracle confidence interval is wider than the market allows")]
    OracleConfidenceTooWide,
    #[msg("Oracle price is older than the allowed age")]
    OracleStale,
    #[msg("Oracle publish time is too far in the future")]
    OracleFutureTimestamp,
    #[msg("Unknown oracle kind")]
    InvalidOracleKind,
    #[msg("Health accounts do not match the account's positions")]
    HealthAccountsMismatch,
    #[msg("Health account is not a market of this program")]
    HealthAccountInvalidMarket,
    #[msg("Operation would leave initial health negative")]
    InsufficientHealth,
    #[msg("Margin account has no free position slot")]
    NoFreePositionSlot,
    #[msg("Amount must be greater than zero")]
    ZeroAmount,
    #[msg("Withdraw exceeds the deposited balance")]
    InsufficientDeposit,
    #[msg("Market vault lacks the liquidity for this withdrawal or borrow")]
    InsufficientLiquidity,
    #[msg("Deposit would exceed the market's deposit cap")]
    DepositCapExceeded,
    #[msg("Borrow would exceed the market's borrow cap")]
    BorrowCapExceeded,
    #[msg("Cannot borrow from a market where the account has a deposit; withdraw it first")]
    BorrowAgainstOwnDeposit,
    #[msg("Account has no debt in this market")]
    NoDebt,
    #[msg("Margin account still has positions")]
    AccountNotEmpty,
    #[msg("Margin account is being liquidated")]
    AccountBeingLiquidated,
    #[msg("Token account mint does not match the market's mint")]
    WrongMint,
    #[msg("Token account is not the market's vault")]
    WrongVault,
    #[msg("Market is not this program's market for the account given")]
    WrongMarket,
    #[msg("Asset weights must satisfy 0 <= init <= maint <= 1")]
    InvalidAssetWeights,
    #[msg("Liability weights must satisfy 1 <= maint <= init")]
    InvalidLiabilityWeights,
    #[msg("Penalty with the maint asset weight must keep (1 + penalty) * wA_maint < 1")]
    PenaltyTooHighForWeight,
    #[msg("Liquidation penalty above the bound")]
    InvalidLiquidationPenalty,
    #[msg("Penalty split must sum to 10000 bps with the liquidator at 50% or more")]
    InvalidPenaltySplit,
    #[msg("Liquidation buffer above the bound")]
    InvalidLiquidationBuffer,
    #[msg("Oracle ages out of range")]
    InvalidOracleAge,
    #[msg("Confidence limit out of range")]
    InvalidConfidenceLimit,
    #[msg("Confidence multiplier or bias out of range")]
    InvalidConfidenceMultiplier,
    #[msg("Dust threshold above the bound")]
    InvalidDustThreshold,
    #[msg("Timelock or shift duration above the bound")]
    InvalidTimelock,
    #[msg("Interest curve out of range")]
    InvalidInterestCurve,
    #[msg("Token decimals out of range")]
    InvalidDecimals,
    #[msg("Market limit reached")]
    TooManyMarkets,
    #[msg("Deposits are paused")]
    DepositsPaused,
    #[msg("Borrows are paused")]
    BorrowsPaused,
    #[msg("Withdrawals are paused")]
    WithdrawalsPaused,
    #[msg("Same account passed twice where distinct accounts are required")]
    DuplicateAccount,
    #[msg("Clock went backwards")]
    ClockWentBackwards,
    #[msg("Account is not liquidatable")]
    NotLiquidatable,
    #[msg("Asset and liability market must differ")]
    LiquidationSameMarket,
    #[msg("Account has no deposit in the asset market")]
    NoCollateral,
    #[msg("Parameters make the liquidation factor kappa non-positive")]
    InvalidKappa,
    #[msg("Caps leave nothing to repay")]
    NothingToLiquidate,
    #[msg("An account's owner may not liquidate it")]
    SelfLiquidation,
    #[msg("Liquidation did not strictly improve maintenance health")]
    HealthNotImproved,
    #[msg("Account is solvent at raw prices or still holds deposits worth the dust threshold")]
    BadDebtNotEligible,
    #[msg("The queued change's timelock has not expired")]
    TimelockNotExpired,
    #[msg("No parameter change is queued")]
    NoPendingChange,
    #[msg("Signer is not the proposed admin")]
    NotPendingAdmin,
    #[msg("The guardian may only tighten")]
    GuardianCannotLoosen,
    #[msg("Liquidations of this market are paused by the guardian")]
    LiquidationsPaused,
    #[msg("Liquidation pause too long or too soon after the last one")]
    LiquidationPauseTooLong,
    #[msg("Guardian action does not apply to the accounts given")]
    InvalidGuardianAction,
    #[msg("Market is listed but not yet activated by a timelocked parameter change")]
    MarketQuarantined,
    #[msg("Mint has a freeze authority: the market's vaults could be frozen")]
    MintHasFreezeAuthority,
    #[msg("Mint is not an SPL Token mint (Token-2022 is not supported)")]
    MintNotSplToken,
    #[msg("Maintenance-weight shift shorter than the minimum while changes are timelocked")]
    WeightShiftTooShort,
    #[msg("Withdrawal pause too long or too soon after the last one")]
    WithdrawalPauseTooLong,
    #[msg("No insurance or treasury share is held in the market's vault")]
    NothingToCollect,
    #[msg("Market symbol must be 1 to 16 printable ASCII characters, without spaces")]
    InvalidSymbol,
    #[msg("Full-penalty health ratio must lie strictly between 0.5 and 1")]
    InvalidFullPenaltyRatio,
    #[msg("The liquidator's margin account is itself being liquidated")]
    LiquidatorBeingLiquidated,
    #[msg("Spot and EMA prices diverge beyond the market's limit: borrowing, and withdrawing or borrowing against it, waits until they converge")]
    EmaDivergenceTooLarge,
    #[msg("The market's net-borrow limit for this window is reached: borrow less, or after the window resets (the log says when)")]
    NetBorrowLimitExceeded,
    #[msg("EMA divergence limit must lie between 0.5% and 100%")]
    InvalidEmaDivergence,
    #[msg("Net-borrow window must lie between 60 seconds and 7 days")]
    InvalidNetBorrowLimit,
    #[msg("Deposit-weight scaling must start at 1 USD of deposits or more")]
    InvalidDepositWeightScale,
}

impl ScalpelError {
    /// Every variant in code order, so clients can name an error from its code.
    pub const ALL: &'static [ScalpelError] = &[
        ScalpelError::MathOverflow,
        ScalpelError::Unauthorized,
        ScalpelError::NotAccountOwner,
        ScalpelError::UnsupportedVersion,
        ScalpelError::OracleWrongOwner,
        ScalpelError::OracleInvalidAccount,
        ScalpelError::OracleMismatch,
        ScalpelError::OracleFeedMismatch,
        ScalpelError::OracleNotFullyVerified,
        ScalpelError::OraclePriceNonPositive,
        ScalpelError::OracleExponentOutOfRange,
        ScalpelError::OracleConfidenceTooWide,
        ScalpelError::OracleStale,
        ScalpelError::OracleFutureTimestamp,
        ScalpelError::InvalidOracleKind,
        ScalpelError::HealthAccountsMismatch,
        ScalpelError::HealthAccountInvalidMarket,
        ScalpelError::InsufficientHealth,
        ScalpelError::NoFreePositionSlot,
        ScalpelError::ZeroAmount,
        ScalpelError::InsufficientDeposit,
        ScalpelError::InsufficientLiquidity,
        ScalpelError::DepositCapExceeded,
        ScalpelError::BorrowCapExceeded,
        ScalpelError::BorrowAgainstOwnDeposit,
        ScalpelError::NoDebt,
        ScalpelError::AccountNotEmpty,
        ScalpelError::AccountBeingLiquidated,
        ScalpelError::WrongMint,
        ScalpelError::WrongVault,
        ScalpelError::WrongMarket,
        ScalpelError::InvalidAssetWeights,
        ScalpelError::InvalidLiabilityWeights,
        ScalpelError::PenaltyTooHighForWeight,
        ScalpelError::InvalidLiquidationPenalty,
        ScalpelError::InvalidPenaltySplit,
        ScalpelError::InvalidLiquidationBuffer,
        ScalpelError::InvalidOracleAge,
        ScalpelError::InvalidConfidenceLimit,
        ScalpelError::InvalidConfidenceMultiplier,
        ScalpelError::InvalidDustThreshold,
        ScalpelError::InvalidTimelock,
        ScalpelError::InvalidInterestCurve,
        ScalpelError::InvalidDecimals,
        ScalpelError::TooManyMarkets,
        ScalpelError::DepositsPaused,
        ScalpelError::BorrowsPaused,
        ScalpelError::WithdrawalsPaused,
        ScalpelError::DuplicateAccount,
        ScalpelError::ClockWentBackwards,
        ScalpelError::NotLiquidatable,
        ScalpelError::LiquidationSameMarket,
        ScalpelError::NoCollateral,
        ScalpelError::InvalidKappa,
        ScalpelError::NothingToLiquidate,
        ScalpelError::SelfLiquidation,
        ScalpelError::HealthNotImproved,
        ScalpelError::BadDebtNotEligible,
        ScalpelError::TimelockNotExpired,
        ScalpelError::NoPendingChange,
        ScalpelError::NotPendingAdmin,
        ScalpelError::GuardianCannotLoosen,
        ScalpelError::LiquidationsPaused,
        ScalpelError::LiquidationPauseTooLong,
        ScalpelError::InvalidGuardianAction,
        ScalpelError::MarketQuarantined,
        ScalpelError::MintHasFreezeAuthority,
        ScalpelError::MintNotSplToken,
        ScalpelError::WeightShiftTooShort,
        ScalpelError::WithdrawalPauseTooLong,
        ScalpelError::NothingToCollect,
        ScalpelError::InvalidSymbol,
        ScalpelError::InvalidFullPenaltyRatio,
        ScalpelError::LiquidatorBeingLiquidated,
        ScalpelError::EmaDivergenceTooLarge,
        ScalpelError::NetBorrowLimitExceeded,
        ScalpelError::InvalidEmaDivergence,
        ScalpelError::InvalidNetBorrowLimit,
        ScalpelError::InvalidDepositWeightScale,
    ];

    /// The variant with this custom error code, if it is one of ours.
    pub fn from_code(code: u32) -> Option<ScalpelError> {
        Self::ALL.iter().copied().find(|e| u32::from(*e) == code)
    }
}

impl From<crate::math::liquidation::LiquidationError> for ScalpelError {
    fn from(e: crate::math::liquidation::LiquidationError) -> Self {
        use crate::math::liquidation::LiquidationError as L;
        match e {
            L::NotLiquidatable => ScalpelError::NotLiquidatable,
            L::SameMarket => ScalpelError::LiquidationSameMarket,
            L::NoCollateral => ScalpelError::NoCollateral,
            L::NoDebt => ScalpelError::NoDebt,
            L::KappaNotPositive => ScalpelError::InvalidKappa,
            L::NothingToLiquidate => ScalpelError::NothingToLiquidate,
            L::Math(m) => {
                anchor_lang::prelude::msg!("{}", m);
                ScalpelError::MathOverflow
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_variant_in_order() {
        for (i, e) in ScalpelError::ALL.iter().enumerate() {
            assert_eq!(u32::from(*e), 6000 + i as u32, "{}", e.name());
        }
        // The variant after the last listed one must not exist: its message would be the
        // Display of an out-of-range code, so compare counts through the last name instead.
        assert_eq!(
            ScalpelError::ALL.last().map(|e| e.name()),
            Some("InvalidDepositWeightScale".to_string())
        );
    }
}
