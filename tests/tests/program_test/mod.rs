//! Test setup: a bank with the program, two pull-oracle markets, funded users, snapshots.

use scalpel::params::{MarketParams, ProtocolParams};
use scalpel::state::{MarginAccount, Market, Protocol};
use scalpel_client::{
    decode, health, ix, pda,
    pyth::{self, PullPrice},
    token, Chain, LocalChain, TxFailure, TxOutcome,
};
use solana_sdk::{
    account::Account,
    instruction::Instruction,
    pubkey::Pubkey,
    signature::{Keypair, Signer},
};
use solana_system_interface::instruction as system_instruction;

/// Unix time the tests start at.
pub const T0: i64 = 1_700_000_000;
/// Exponent of every test oracle.
pub const EXPO: i32 = -8;

/// One listed market and its oracle.
#[derive(Clone, Copy, Debug)]
pub struct MarketFixture {
    pub mint: Pubkey,
    pub market: Pubkey,
    pub oracle: Pubkey,
    pub feed_id: [u8; 32],
}

impl MarketFixture {
    pub fn vault(&self) -> Pubkey {
        pda::vault(&self.market)
    }
}

/// A trader with a margin account and one token account per market.
pub struct User {
    pub key: Keypair,
    pub account: Pubkey,
    pub tokens: Vec<(Pubkey, Pubkey)>,
}

impl User {
    pub fn token(&self, m: &MarketFixture) -> Pubkey {
        self.tokens
            .iter()
            .find(|(mint, _)| *mint == m.mint)
            .map(|(_, t)| *t)
            .expect("user has a token account for every market")
    }
    pub fn mv(&self, m: &MarketFixture) -> ix::TokenMove {
        ix::TokenMove {
            owner: self.key.pubkey(),
            margin_account: self.account,
            mint: m.mint,
            user_token: self.token(m),
        }
    }
}

/// SOL-like market parameters: 9 decimals, 80/90% asset, 120/110% liability, 5% penalty.
pub fn sol_params() -> MarketParams {
    // The defaults (80/90% asset, 120/110% liability, 5% penalty, 2% conf, 60/300 s, no caps)
    // with a 1% base rate so interest tests see a non-zero curve.
    MarketParams {
        base_rate_bps: 100,
        ..MarketParams::default()
    }
}

/// USDC-like market parameters: 6 decimals, 90/95% asset, 105/100% liability, 2% penalty.
pub fn usdc_params() -> MarketParams {
    MarketParams {
        asset_weight_init_bps: 9_000,
        asset_weight_maint_bps: 9_500,
        liab_weight_init_bps: 10_500,
        liab_weight_maint_bps: 10_000,
        liquidation_penalty_bps: 200,
        liquidation_penalty_min_bps: 200,
        ..sol_params()
    }
}

/// The bank, the admin and two markets (SOL at 100 USD, USDC at 1 USD).
pub struct Env {
    pub chain: LocalChain,
    pub admin: Keypair,
    pub mint_authority: Keypair,
    pub sol: MarketFixture,
    pub usdc: MarketFixture,
}

/// Every account's bytes and lamports (payer lamports excluded: failed transactions pay fees).
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot(pub Vec<(Pubkey, Option<AccountState>)>);

/// Data and lamports of one account.
pub type AccountState = (Vec<u8>, u64);

impl Env {
    pub async fn new() -> Env {
        Self::with_protocol(ProtocolParams::default()).await
    }

    /// The protocol with `params`, then SOL and USDC listed and activated: the clock starts one
    /// timelock before `T0` so that the tests begin at `T0` with both markets live.
    pub async fn with_protocol(params: ProtocolParams) -> Env {
        let chain = LocalChain::start(vec![]).await;
        chain
            .set_unix_time(T0 - params.timelock_secs as i64)
            .await
            .expect("clock");
        let admin = chain.payer().insecure_clone();
        let mint_authority = Keypair::new();
        let guardian = Pubkey::new_unique();
        let ok = chain
            .send(
                &[ix::protocol_init(&admin.pubkey(), &guardian, params)],
                &[&admin],
            )
            .await
            .expect("send");
        ok.expect("protocol_init");
        let mut env = Env {
            chain,
            admin,
            mint_authority,
            sol: dummy(),
            usdc: dummy(),
        };
        env.sol = env.list_pull_market(9, [1; 32], "100", sol_params()).await;
        env.usdc = env.list_pull_market(6, [2; 32], "1", usdc_params()).await;
        env.activate(&[env.sol, env.usdc]).await;
        env
    }

    /// Creates a mint, a pull oracle at `price`, lists the market and activates it (a new
    /// market is quarantined until its listed parameters apply after the timelock: the clock
    /// moves on by the timelock and every oracle publishes again at the new time).
    pub async fn add_pull_market(
        &self,
        decimals: u8,
        feed_id: [u8; 32],
        price: &str,
        params: MarketParams,
    ) -> MarketFixture {
        let m = self
            .list_pull_market(decimals, feed_id, price, params)
            .await;
        self.activate(&[m]).await;
        m
    }

    /// Waits out the timelock, applies each market's listed parameters, and republishes every
    /// oracle at the new time.
    pub async fn activate(&self, markets: &[MarketFixture]) {
        let timelock = self.protocol().await.timelock_secs as i64;
        self.chain.advance_time(timelock).await.expect("clock");
        for m in markets {
            self.send(&[ix::params_apply_market(&m.mint, &m.oracle)], &[])
                .await
                .expect("activate the market");
        }
        self.refresh_prices().await;
    }

    /// Every market's oracle publishes its current price again, now.
    pub async fn refresh_prices(&self) {
        let now = self.now().await;
        for (_, m) in self.markets().await {
            let Some(a) = self.chain.account(&m.oracle).await.expect("rpc") else {
                continue;
            };
            if a.owner != scalpel::constants::PYTH_RECEIVER {
                continue;
            }
            let data = pyth::republished(&a.data, now).expect("a PriceUpdateV2 account");
            self.chain
                .set_account(&m.oracle, Account { data, ..a })
                .await;
        }
    }

    /// Creates a mint, a pull oracle at `price` and lists the market (quarantined).
    pub async fn list_pull_market(
        &self,
        decimals: u8,
        feed_id: [u8; 32],
        price: &str,
        params: MarketParams,
    ) -> MarketFixture {
        let mint = token::create_mint(
            &self.chain,
            &self.admin,
            &self.mint_authority.pubkey(),
            decimals,
        )
        .await
        .expect("mint");
        let oracle = Pubkey::new_unique();
        let m = MarketFixture {
            mint,
            market: pda::market(&mint),
            oracle,
            feed_id,
        };
        self.set_price(&m, price, "0").await;
        self.send(
            &[ix::market_add(
                &self.admin.pubkey(),
                &self.admin.pubkey(),
                test_symbol(&feed_id),
                &mint,
                &oracle,
                1,
                feed_id,
                params,
            )],
            &[],
        )
        .await
        .expect("market_add");
        m
    }

    pub async fn now(&self) -> i64 {
        self.chain.clock().await.expect("clock").unix_timestamp
    }

    /// Writes a Full-verification `PriceUpdateV2` published now.
    pub async fn set_price(&self, m: &MarketFixture, price: &str, conf: &str) {
        let now = self.now().await;
        self.set_pull(
            m,
            PullPrice {
                feed_id: m.feed_id,
                price: pyth::mantissa(price, EXPO).expect("price"),
                conf: pyth::mantissa(conf, EXPO).expect("conf") as u64,
                expo: EXPO,
                publish_time: now,
                partial_signatures: None,
                ema: None,
            },
        )
        .await;
    }

    /// Publishes `spot` with the EMA at `ema` (USD, no confidence) for `m`, now: a feed whose
    /// EMA lags (issue 12's guards read both).
    pub async fn set_spot_and_ema(&self, m: &MarketFixture, spot: &str, ema: &str) {
        let now = self.now().await;
        self.set_pull(
            m,
            PullPrice {
                feed_id: m.feed_id,
                price: pyth::mantissa(spot, EXPO).expect("spot"),
                conf: 0,
                expo: EXPO,
                publish_time: now,
                partial_signatures: None,
                ema: Some((pyth::mantissa(ema, EXPO).expect("ema"), 0)),
            },
        )
        .await;
    }

    /// Writes an arbitrary `PriceUpdateV2` into the market's oracle account.
    pub async fn set_pull(&self, m: &MarketFixture, p: PullPrice) {
        let data = pyth::price_update_v2(&p).expect("serialize");
        self.chain
            .set_account(
                &m.oracle,
                Account {
                    lamports: 10_000_000,
                    data,
                    owner: scalpel::constants::PYTH_RECEIVER,
                    executable: false,
                    rent_epoch: 0,
                },
            )
            .await;
    }

    /// Sends with the admin paying; `signers` sign too.
    pub async fn send(
        &self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<TxOutcome, TxFailure> {
        let mut all: Vec<&Keypair> = vec![&self.admin];
        all.extend_from_slice(signers);
        self.chain.send(ixs, &all).await.expect("transport")
    }

    /// A user with a margin account, lamports, and `funds` minted per market.
    pub async fn user(&self, funds: &[(&MarketFixture, u64)]) -> User {
        let key = Keypair::new();
        let fund = system_instruction::transfer(&self.admin.pubkey(), &key.pubkey(), 1_000_000_000);
        self.send(&[fund], &[]).await.expect("fund lamports");
        self.send(&[ix::account_create(&key.pubkey(), 0)], &[&key])
            .await
            .expect("account_create");
        let mut tokens = Vec::new();
        for m in [&self.sol, &self.usdc] {
            let t = token::create_token_account(&self.chain, &self.admin, &m.mint, &key.pubkey())
                .await
                .expect("token account");
            tokens.push((m.mint, t));
        }
        for (m, amount) in funds {
            let t = tokens
                .iter()
                .find(|(mint, _)| *mint == m.mint)
                .map(|(_, t)| *t)
                .expect("token");
            token::mint_to(
                &self.chain,
                &self.admin,
                &self.mint_authority,
                &m.mint,
                &t,
                *amount,
            )
            .await
            .expect("mint_to");
        }
        let account = pda::margin_account(&key.pubkey(), 0);
        User {
            key,
            account,
            tokens,
        }
    }

    pub async fn balance(&self, token_account: &Pubkey) -> u64 {
        token::balance(&self.chain, token_account)
            .await
            .expect("balance")
    }

    pub async fn margin(&self, account: &Pubkey) -> MarginAccount {
        let a = self
            .chain
            .account(account)
            .await
            .expect("rpc")
            .expect("exists");
        decode::margin_account(&a.data).expect("decode")
    }

    pub async fn market(&self, m: &MarketFixture) -> Market {
        let a = self
            .chain
            .account(&m.market)
            .await
            .expect("rpc")
            .expect("exists");
        decode::market(&a.data).expect("decode")
    }

    pub async fn protocol(&self) -> Protocol {
        let a = self
            .chain
            .account(&pda::protocol())
            .await
            .expect("rpc")
            .expect("exists");
        decode::protocol(&a.data).expect("decode")
    }

    pub async fn markets(&self) -> Vec<(Pubkey, Market)> {
        health::markets(&self.chain).await.expect("markets")
    }

    /// Health pairs of `user` after opening `open` / closing `close`.
    pub async fn pairs(
        &self,
        user: &User,
        open: Option<&MarketFixture>,
        close: Option<&MarketFixture>,
    ) -> Vec<(Pubkey, Pubkey)> {
        let account = self.margin(&user.account).await;
        let markets = self.markets().await;
        let idx = |m: &MarketFixture| {
            markets
                .iter()
                .find(|(k, _)| *k == m.market)
                .map(|(_, mk)| mk.market_index)
        };
        health::pairs_after(&account, &markets, open.and_then(idx), close.and_then(idx))
            .expect("pairs")
    }

    pub async fn snapshot(&self) -> Snapshot {
        let payer = self.admin.pubkey();
        let mut all = self.chain.known_accounts().await.expect("snapshot");
        all.retain(|(k, _)| *k != payer);
        Snapshot(
            all.into_iter()
                .map(|(k, a)| (k, a.map(|a| (a.data, a.lamports))))
                .collect(),
        )
    }

    /// Sends, expects failure named `name`, and checks that no account changed.
    pub async fn expect_rejected(&self, ixs: &[Instruction], signers: &[&Keypair], name: &str) {
        self.chain.track(ixs);
        let before = self.snapshot().await;
        let res = self.send(ixs, signers).await;
        match res {
            Ok(_) => panic!("expected {name}, but the transaction succeeded"),
            Err(f) => assert_eq!(f.name, name, "logs: {:#?}", f.logs),
        }
        let after = self.snapshot().await;
        assert!(
            before == after,
            "a rejected transaction ({name}) changed state"
        );
    }
}

/// A test market's ticker, from its feed id (the harness names markets by feed).
pub fn test_symbol(feed_id: &[u8; 32]) -> [u8; 16] {
    scalpel::params::symbol_bytes(&format!("T{:02x}{:02x}", feed_id[0], feed_id[1]))
        .expect("a valid ticker")
}

fn dummy() -> MarketFixture {
    MarketFixture {
        mint: Pubkey::default(),
        market: Pubkey::default(),
        oracle: Pubkey::default(),
        feed_id: [0; 32],
    }
}
/// The localnet serves an environment's bank (`scalpel_client::localnet::Localnet::start`).
impl scalpel_client::localnet::ChainHost for Env {
    fn local_chain(&self) -> &LocalChain {
        &self.chain
    }
}

/// The accounts of a liquidation of `victim`'s `asset` against its `liab` by `liq`.
pub fn liquidate_accounts(
    victim: &User,
    liq: &User,
    asset: &MarketFixture,
    liab: &MarketFixture,
) -> ix::LiquidateAccounts {
    ix::LiquidateAccounts {
        liquidatee: victim.account,
        asset_mint: asset.mint,
        liab_mint: liab.mint,
        liquidator: liq.key.pubkey(),
        liquidator_liab_token: liq.token(liab),
        liquidator_asset_token: liq.token(asset),
    }
}

impl Env {
    /// A user who deposits `amount` native units of `m` and keeps `spare` more in the wallet
    /// (a lender, or a liquidator's margin account funded for `liquidate_to_account`).
    pub async fn depositor(&self, m: &MarketFixture, amount: u64, spare: u64) -> User {
        let u = self.user(&[(m, amount + spare)]).await;
        self.send(&[ix::deposit(&u.mv(m), amount)], &[&u.key])
            .await
            .expect("deposit");
        u
    }

    /// Mints `amount` native USDC to `owner`'s associated token account (a bot's inventory).
    pub async fn mint_usdc_to(&self, owner: &Pubkey, amount: u64) {
        token::mint_to(
            &self.chain,
            &self.admin,
            &self.mint_authority,
            &self.usdc.mint,
            &token::ata(owner, &self.usdc.mint),
            amount,
        )
        .await
        .expect("mint USDC");
    }

    /// A lender who deposits `usdc` native USDC and keeps `spare` more in the wallet.
    pub async fn lender(&self, usdc: u64, spare: u64) -> User {
        self.depositor(&self.usdc, usdc, spare).await
    }

    /// A borrow of `amount` native units of `m` by `b` into its wallet, with the health pairs
    /// it needs.
    pub async fn borrow_ix(&self, b: &User, m: &MarketFixture, amount: u64) -> Instruction {
        let pairs = self.pairs(b, Some(m), None).await;
        let t = self.wallet(b, m, 0).await;
        ix::borrow(&t, amount, &pairs)
    }

    /// The `liquidate_to_account` of (SOL, USDC) of `victim` into `liq`'s account, with the health
    /// accounts the client derives from the shared plan and `MarginAccount::take_over`.
    pub async fn to_account_ix(&self, victim: &User, liq: &User, max_repay: u64) -> Instruction {
        let plan = view(self, victim)
            .await
            .plans
            .into_iter()
            .find(|p| p.asset_market_index == 0 && p.liab_market_index == 1)
            .expect("a plan");
        let markets = self.markets().await;
        let now = self.now().await;
        let mine = self.margin(&liq.account).await;
        let seized_share = plan.to_liquidator;
        let repay = plan.repay.min(max_repay);
        let after =
            health::pairs_after_take_over(&mine, &markets, (0, seized_share), (1, repay), now)
                .expect("pairs after");
        let theirs = self.pairs(victim, None, None).await;
        ix::liquidate_to_account(
            &ix::LiquidateToAccountAccounts {
                liquidatee: victim.account,
                asset_mint: self.sol.mint,
                liab_mint: self.usdc.mint,
                liquidator: liq.key.pubkey(),
                liquidator_account: liq.account,
            },
            max_repay,
            &theirs,
            &after,
        )
    }

    /// A trader who deposits `sol` lamports and borrows `usdc` native USDC.
    pub async fn borrower(&self, sol: u64, usdc: u64) -> User {
        let b = self.user(&[(&self.sol, sol)]).await;
        self.send(&[ix::deposit(&b.mv(&self.sol), sol)], &[&b.key])
            .await
            .expect("borrower deposit");
        let pairs = self.pairs(&b, Some(&self.usdc), None).await;
        self.send(&[ix::borrow(&b.mv(&self.usdc), usdc, &pairs)], &[&b.key])
            .await
            .expect("borrow");
        b
    }

    /// Lender with 100 000 USDC; victim with 10 SOL borrowing 750 USDC at SOL = 100; liquidator
    /// with 10 000 USDC. Then SOL falls to 80: maint = 720 − 750 = −30, end = 720 − 765 = −45.
    pub async fn underwater(&self) -> (User, User) {
        self.lender(100_000_000_000, 0).await;
        let victim = self.borrower(10_000_000_000, 750_000_000).await;
        let liq = self.user(&[(&self.usdc, 10_000_000_000)]).await;
        self.set_price(&self.sol, "80", "0").await;
        (victim, liq)
    }
}

impl Env {
    /// `user`'s token account for `m` (created if `user` has none yet), with `amount` minted to
    /// it, as a `TokenMove` for that market.
    pub async fn wallet(&self, user: &User, m: &MarketFixture, amount: u64) -> ix::TokenMove {
        let t = match user.tokens.iter().find(|(mint, _)| *mint == m.mint) {
            Some((_, t)) => *t,
            None => {
                token::create_token_account(&self.chain, &self.admin, &m.mint, &user.key.pubkey())
                    .await
                    .expect("token account")
            }
        };
        if amount > 0 {
            token::mint_to(
                &self.chain,
                &self.admin,
                &self.mint_authority,
                &m.mint,
                &t,
                amount,
            )
            .await
            .expect("mint_to");
        }
        ix::TokenMove {
            owner: user.key.pubkey(),
            margin_account: user.account,
            mint: m.mint,
            user_token: t,
        }
    }
}

/// `u`'s `health_view` (simulated): its health and the plan of every pair.
pub async fn view(env: &Env, u: &User) -> scalpel::instructions::HealthView {
    let pairs = env.pairs(u, None, None).await;
    let out = env
        .chain
        .simulate(&[ix::health_view(&u.account, &pairs)], &[&env.admin])
        .await
        .unwrap()
        .unwrap();
    health::decode_view(&out.return_data.unwrap()).unwrap()
}
