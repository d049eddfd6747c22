//! What a pass reads once ([`ChainView`]) and what pays for its liquidations ([`Funds`]): the
//! bot's token balances or its own margin account, with the program's `take_over` and init-health
//! check applied to a copy to see what the account can carry.

use super::*;

/// What pays for the liquidations.
#[derive(Clone, Debug)]
pub enum Funds {
    /// Wallet mode: the bot's balance of every market mint.
    Wallet(HashMap<Pubkey, u64>),
    /// Account mode: the bot's margin account.
    Account {
        /// Its address.
        key: Pubkey,
        /// Its state.
        account: Box<MarginAccount>,
    },
}

impl Funds {
    /// Fingerprint (a funding failure's backoff ends when it changes).
    pub fn fingerprint(&self) -> u64 {
        match self {
            Funds::Wallet(b) => {
                let mut v: Vec<(Pubkey, u64)> = b.iter().map(|(k, v)| (*k, *v)).collect();
                v.sort();
                let bytes: Vec<u8> = v
                    .iter()
                    .flat_map(|(k, a)| k.to_bytes().into_iter().chain(a.to_le_bytes()))
                    .collect();
                backoff::fingerprint(&bytes)
            }
            Funds::Account { account, .. } => {
                backoff::fingerprint(bytemuck::bytes_of(account.as_ref()))
            }
        }
    }
}

/// The chain state a pass reads once: markets, oracles, clock, the protocol's parameters.
pub struct ChainView<'m> {
    /// Every market.
    pub markets: &'m [(Pubkey, Market)],
    /// By index: address and market.
    pub by_index: HashMap<u16, (Pubkey, &'m Market)>,
    /// Their oracle accounts.
    pub oracles: HashMap<Pubkey, Account>,
    /// The chain's unix time.
    pub now: i64,
    /// The protocol's liquidation parameters.
    pub params: LiquidationParams,
}

impl ChainView<'_> {
    pub(super) fn mint(&self, index: u16) -> Pubkey {
        self.by_index
            .get(&index)
            .map(|(_, m)| m.mint)
            .unwrap_or_default()
    }

    pub(super) fn pairs_of(&self, slots: &[ResolvedInput]) -> Vec<(Pubkey, Pubkey)> {
        slots
            .iter()
            .filter_map(|s| {
                self.by_index
                    .get(&s.market_index)
                    .map(|(k, m)| (*k, m.oracle))
            })
            .collect()
    }

    /// `account` after the program's `MarginAccount::take_over` of `collateral` in `asset` and
    /// `debt` in `liab` (at this view's clock).
    pub(super) fn taken_over(
        &self,
        account: &MarginAccount,
        asset: (u16, u64),
        liab: (u16, u64),
    ) -> Result<MarginAccount> {
        crate::health::taken_over(account, self.markets, asset, liab, self.now)
    }

    /// Whether the program's init-health check accepts the bot's account as `after`: no debt, or
    /// `health_init ≥ 0` with the prices a risk-increasing instruction reads.
    pub(super) fn carries(&self, after: &MarginAccount) -> bool {
        if !after.has_debt() {
            return true;
        }
        let Ok(slots) = resolve_positions(
            after,
            self.markets,
            &self.oracles,
            self.now,
            PriceAge::RiskIncreasing,
        ) else {
            return false;
        };
        let inputs: Vec<HealthPosition> = slots.iter().map(|s| s.input).collect();
        compute_health(&inputs, &self.params.health).is_ok_and(|h| h.init >= I80F48::ZERO)
    }
}

impl Keeper<'_> {
    /// Reads the markets, their oracles, the clock and the protocol's parameters.
    pub async fn view<'m>(&self, markets: &'m [(Pubkey, Market)]) -> Result<ChainView<'m>> {
        let protocol_account = retry!(self, self.chain.account(&pda::protocol()))?
            .ok_or_else(|| anyhow!("no Scalpel protocol on this cluster"))?;
        let protocol: Protocol = decode::protocol(&protocol_account.data)?;
        let params = protocol.liquidation_params().map_err(|e| anyhow!("{e}"))?;
        let oracles = retry!(self, crate::health::oracles(self.chain, markets))?;
        let now = retry!(self, self.chain.clock())?.unix_timestamp;
        Ok(ChainView {
            markets,
            by_index: markets
                .iter()
                .map(|(k, m)| (m.market_index, (*k, m)))
                .collect(),
            oracles,
            now,
            params,
        })
    }

    /// What pays: the bot's token balances (wallet mode) or its margin account (account mode;
    /// an error when it does not exist: the bot does not create it, since an empty account can
    /// carry no liquidation).
    pub async fn funds(&self, markets: &[(Pubkey, Market)]) -> Result<Funds> {
        match self.cfg.mode {
            Mode::Wallet => Ok(Funds::Wallet(self.balances(markets).await?)),
            Mode::Account => {
                let key = self.liquidator_account();
                let account = self.read_liquidator_account(&key).await?;
                Ok(Funds::Account {
                    key,
                    account: Box::new(account),
                })
            }
        }
    }

    async fn read_liquidator_account(&self, key: &Pubkey) -> Result<MarginAccount> {
        let index = self.cfg.account_index;
        let acc = retry!(self, self.chain.account(key))?.ok_or_else(|| {
            anyhow!(
                "account mode: the bot's margin account {key} (index {index}) does not exist; \
                 create it and deposit collateral with the bot's keypair: `scalpel account \
                 create --index {index} --keypair BOT.json`, then `scalpel account deposit USDC \
                 1000 --index {index} --keypair BOT.json`"
            )
        })?;
        let account = decode::margin_account(&acc.data)?;
        if account.owner != self.liquidator.pubkey() {
            return Err(anyhow!(
                "margin account {key} is not the bot's ({})",
                account.owner
            ));
        }
        Ok(account)
    }

    /// Account mode: checks the bot's margin account exists (what `scalpel keeper` does on
    /// start) and returns it.
    pub async fn check_liquidator_account(&self) -> Result<MarginAccount> {
        self.read_liquidator_account(&self.liquidator_account())
            .await
    }

    /// The bot's balance of every market mint (its associated token accounts).
    pub async fn balances(&self, markets: &[(Pubkey, Market)]) -> Result<HashMap<Pubkey, u64>> {
        let mut out = HashMap::new();
        for (_, m) in markets {
            let me = self.liquidator.pubkey();
            let amount = retry!(self, crate::token::balance(self.chain, &ata(&me, &m.mint)))?;
            out.insert(m.mint, amount);
        }
        Ok(out)
    }

    /// Creates the bot's associated token accounts for every market that lacks one (wallet
    /// mode; account mode needs none).
    pub async fn ensure_token_accounts(&self) -> Result<usize> {
        let me = self.liquidator.pubkey();
        let markets = crate::health::markets(self.chain).await?;
        let mut created = 0;
        for (_, m) in &markets {
            if self.chain.account(&ata(&me, &m.mint)).await?.is_none() {
                let ixs = [create_ata_idempotent(&me, &me, &m.mint)];
                self.chain
                    .send(&ixs, &[self.liquidator])
                    .await?
                    .map_err(|f| anyhow!("creating the token account of {}: {}", m.mint, f.name))?;
                created += 1;
            }
        }
        Ok(created)
    }
}
