//! Building a scenario's bank: the protocol (or a migration's plan), markets with their oracles
//! and insurance, the runner's liquidator and keeper wallets, and the accounts' opening
//! deposits and borrows.

use super::{
    send, zero, AccountState, BalanceKind, MarketSpec, MarketState, ParamsSpec, Runner, Scenario,
    SCENARIO_T0,
};
use crate::local::oracle::Quote;
use crate::units::parse_amount;
use crate::{ix, pda, token, LocalChain};
use anyhow::{anyhow, bail, Context, Result};
use scalpel::params::{MarketParams, ProtocolParams};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};
use std::collections::BTreeMap;

impl Runner {
    /// Builds the protocol, markets and accounts of `s`.
    pub async fn setup(s: &Scenario) -> Result<Runner> {
        let chain = LocalChain::start(vec![]).await;
        let admin = chain.payer().insecure_clone();
        let mint_authority = Keypair::new();
        let params = s.protocol.apply(ProtocolParams::default())?;
        // Listed markets are quarantined until their parameters apply after the timelock: the
        // run starts one timelock early so that the markets are live at SCENARIO_T0.
        let timelock = match &s.migration_config {
            Some(cfg) => cfg.protocol.params.params()?.timelock_secs,
            None => params.timelock_secs,
        };
        chain.set_unix_time(SCENARIO_T0 - timelock as i64).await?;
        if s.migration_config.is_none() {
            let guardian = Keypair::new().pubkey();
            send(
                &chain,
                &[ix::protocol_init(&admin.pubkey(), &guardian, params)],
                &[&admin],
            )
            .await
            .context("protocol_init")?;
        }
        let mut runner = Runner {
            chain,
            admin,
            mint_authority,
            markets: Vec::new(),
            accounts: Vec::new(),
            liquidator: AccountState {
                name: "liquidator".into(),
                key: Keypair::new(),
                account: Pubkey::default(),
                tokens: BTreeMap::new(),
            },
            bot: Keypair::new(),
        };
        if let Some(cfg) = &s.migration_config {
            runner
                .apply_migration(cfg)
                .await
                .context("applying the migration")?;
        }
        for m in &s.markets {
            runner
                .add_market(runner.markets.len(), m)
                .await
                .with_context(|| format!("market {}", m.symbol))?;
        }
        runner.activate_markets().await?;
        let seeds: Vec<(String, String)> = s
            .insurance
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let liq = Keypair::new();
        runner.liquidator = runner.new_wallet("liquidator", liq).await?;
        runner.fund_bot().await.context("funding the keeper bot")?;
        let mut seeds = seeds;
        seeds.extend(
            s.markets
                .iter()
                .filter_map(|m| m.insurance.clone().map(|i| (m.symbol.clone(), i))),
        );
        for (symbol, ins) in &seeds {
            let (mint, decimals) = {
                let m = runner.market(symbol)?;
                (m.mint, m.spec.decimals)
            };
            let amount = parse_amount(ins, decimals)?;
            let t = runner.liquidator.tokens[symbol];
            token::mint_to(
                &runner.chain,
                &runner.admin,
                &runner.mint_authority,
                &mint,
                &t,
                amount,
            )
            .await?;
            let key = runner.liquidator.key.insecure_clone();
            send(
                &runner.chain,
                &[ix::insurance_fund(&key.pubkey(), &t, &mint, amount)],
                &[&runner.admin, &key],
            )
            .await
            .context("insurance seed")?;
        }
        for a in &s.accounts {
            let w = runner.new_wallet(&a.name, Keypair::new()).await?;
            send(
                &runner.chain,
                &[ix::account_create(&w.key.pubkey(), 0)],
                &[&runner.admin, &w.key],
            )
            .await
            .context("account_create")?;
            runner.accounts.push(w);
        }
        for a in &s.accounts {
            for (sym, amount) in &a.deposits {
                runner
                    .open_balance(BalanceKind::Deposit, &a.name, sym, amount)
                    .await
                    .with_context(|| format!("{} deposits {amount} {sym}", a.name))?;
            }
        }
        for a in &s.accounts {
            for (sym, amount) in &a.borrows {
                runner
                    .open_balance(BalanceKind::Borrow, &a.name, sym, amount)
                    .await
                    .with_context(|| format!("{} borrows {amount} {sym}", a.name))?;
            }
        }
        Ok(runner)
    }

    /// Creates the migration's `local` mints and oracles, then creates the protocol and lists
    /// the markets through `admin::plan`, exactly as `scalpel admin apply` does on a cluster.
    async fn apply_migration(&mut self, cfg: &crate::admin::AdminConfig) -> Result<()> {
        let created = crate::local::migration::apply(
            &self.chain,
            &self.admin,
            &self.mint_authority.pubkey(),
            cfg,
        )
        .await?;
        for m in created {
            self.markets.push(MarketState {
                spec: MarketSpec {
                    symbol: m.symbol,
                    decimals: m.decimals,
                    price: m.price,
                    conf: zero(),
                    insurance: None,
                    params: ParamsSpec::default(),
                },
                mint: m.mint,
                market: m.market,
                oracle: m.oracle,
                feed_id: m.feed_id,
                index: m.index,
            });
        }
        Ok(())
    }

    async fn add_market(&mut self, i: usize, m: &MarketSpec) -> Result<()> {
        let mint = token::create_mint(
            &self.chain,
            &self.admin,
            &self.mint_authority.pubkey(),
            m.decimals,
        )
        .await?;
        let feed_id = crate::local::migration::local_feed_id(i, &m.symbol);
        let oracle = Pubkey::new_unique();
        let state = MarketState {
            spec: m.clone(),
            mint,
            market: pda::market(&mint),
            oracle,
            feed_id,
            index: i as u16,
        };
        self.write_price(&state, Quote::steady(&m.price, &m.conf))
            .await?;
        let p = m.params.apply(MarketParams::default(), m.decimals)?;
        let symbol = scalpel::params::symbol_bytes(&m.symbol).ok_or_else(|| {
            anyhow!(
                "market symbol {:?}: use 1 to 16 printable ASCII characters, without spaces",
                m.symbol
            )
        })?;
        let admin = self.admin.pubkey();
        send(
            &self.chain,
            &[ix::market_add(
                &admin, &admin, symbol, &mint, &oracle, 1, feed_id, p,
            )],
            &[&self.admin],
        )
        .await
        .map_err(|e| anyhow!("market_add refused: {e}"))?;
        self.markets.push(state);
        Ok(())
    }

    /// Moves the clock to `SCENARIO_T0` (the end of the listing timelock), applies every market's
    /// listed parameters still queued, and publishes every price again at the new time.
    async fn activate_markets(&self) -> Result<()> {
        self.chain.set_unix_time(SCENARIO_T0).await?;
        crate::local::migration::apply_due(&self.chain, &self.admin).await?;
        for m in &self.markets {
            self.write_price(m, Quote::steady(&m.spec.price, &m.spec.conf))
                .await?;
        }
        Ok(())
    }

    async fn new_wallet(&self, name: &str, key: Keypair) -> Result<AccountState> {
        let fund = solana_system_interface::instruction::transfer(
            &self.admin.pubkey(),
            &key.pubkey(),
            1_000_000_000,
        );
        send(&self.chain, &[fund], &[&self.admin]).await?;
        let mut tokens = BTreeMap::new();
        for m in &self.markets {
            let t = token::create_token_account(&self.chain, &self.admin, &m.mint, &key.pubkey())
                .await?;
            tokens.insert(m.spec.symbol.clone(), t);
        }
        let account = pda::margin_account(&key.pubkey(), 0);
        Ok(AccountState {
            name: name.to_string(),
            key,
            account,
            tokens,
        })
    }

    pub(super) async fn write_price(
        &self,
        m: &MarketState,
        quote: crate::local::oracle::Quote<'_>,
    ) -> Result<()> {
        crate::local::oracle::write_price(&self.chain, &m.oracle, m.feed_id, quote).await?;
        Ok(())
    }

    /// An opening deposit or borrow of the `[[accounts]]` table: the program's refusal stops the
    /// run.
    async fn open_balance(
        &self,
        kind: BalanceKind,
        name: &str,
        symbol: &str,
        amount: &str,
    ) -> Result<()> {
        match self.send_balance(kind, name, symbol, amount).await?.result {
            Ok(_) => Ok(()),
            Err(f) => bail!("{} refused: {}", kind.name(), f.name),
        }
    }

    /// Publishes every price again at the current time, unchanged (as a live feed would while
    /// the clock moves on).
    pub(super) async fn republish_prices(&self) -> Result<()> {
        let oracles: Vec<Pubkey> = self.markets.iter().map(|m| m.oracle).collect();
        crate::local::oracle::republish(&self.chain, &oracles).await?;
        Ok(())
    }

    pub(super) async fn fund_bot(&self) -> Result<()> {
        let bot = self.bot.insecure_clone();
        let fund = solana_system_interface::instruction::transfer(
            &self.admin.pubkey(),
            &bot.pubkey(),
            10_000_000_000,
        );
        send(&self.chain, &[fund], &[&self.admin]).await?;
        let k =
            crate::keeper::Keeper::new(&self.chain, &bot, crate::keeper::KeeperConfig::default());
        k.ensure_token_accounts().await?;
        for m in &self.markets {
            // A large float of every token: 10^9 whole tokens.
            let amount = 10u64.saturating_pow(9 + m.spec.decimals as u32);
            let ata = crate::token::ata(&bot.pubkey(), &m.mint);
            token::mint_to(
                &self.chain,
                &self.admin,
                &self.mint_authority,
                &m.mint,
                &ata,
                amount,
            )
            .await?;
        }
        Ok(())
    }
}
