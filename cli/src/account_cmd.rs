//! `scalpel account …`: the trader's commands against a cluster, by the Solana CLI's
//! conventions (`--rpc`, `--keypair`, amounts in UI units, `all`). Before a borrow or a
//! withdrawal it shows the account's health and each collateral's liquidation price afterwards,
//! computed with the program's own functions (`scalpel_client::trade`), and asks to confirm; a
//! refusal says what the program would accept instead.

use crate::cluster::ClusterArgs;
use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand};
use comfy_table::{presets::UTF8_BORDERS_ONLY, Cell, CellAlignment, Table};
use scalpel::math::{Health, I80F48};
use scalpel::state::{MarginAccount, Market, Protocol};
use scalpel_client::trade::{Book, Preview, Trade, TradeRefusal};
use scalpel_client::units::{format_amount, format_amount_short, parse_amount, usd};
use scalpel_client::{decode, health, ix, pda, quote, token, Chain};
use serde_json::{json, Value};
use solana_sdk::{
    instruction::Instruction,
    pubkey::Pubkey,
    signature::{Keypair, Signer},
};
use std::io::{IsTerminal, Write};
use std::str::FromStr;

/// Arguments of `account`.
#[derive(Debug, Args)]
pub struct AccountArgs {
    #[command(subcommand)]
    command: AccountCommand,
    /// Which of the owner's margin accounts (PDA `["margin", owner, index]`).
    #[arg(long, default_value_t = 0, global = true)]
    index: u16,
    /// Print one JSON document instead of tables (and never prompt: pass --yes).
    #[arg(long, global = true)]
    json: bool,
    /// Send without asking for confirmation.
    #[arg(long, short = 'y', global = true)]
    yes: bool,
    #[command(flatten)]
    cluster: ClusterArgs,
}

/// `scalpel account …`
#[derive(Debug, Subcommand)]
enum AccountCommand {
    /// Create a margin account for the signer.
    Create,
    /// Deposit collateral from the signer's token account (repays a debt in that market first).
    Deposit {
        /// Market symbol (e.g. SOL) or mint address.
        symbol: String,
        /// Amount in UI units (e.g. 1.5).
        amount: String,
    },
    /// Withdraw collateral to the signer's token account.
    Withdraw {
        /// Market symbol or mint address.
        symbol: String,
        /// Amount in UI units, or `all`.
        amount: String,
    },
    /// Borrow into the signer's token account against the account's collateral.
    Borrow {
        /// Market symbol or mint address.
        symbol: String,
        /// Amount in UI units.
        amount: String,
    },
    /// Repay debt from the signer's token account.
    Repay {
        /// Market symbol or mint address.
        symbol: String,
        /// Amount in UI units, or `all`.
        amount: String,
    },
    /// Close the (empty) margin account and reclaim its rent.
    Close,
    /// Balances, health and liquidation prices of a margin account (default: the signer's).
    Show {
        /// Margin account address.
        addr: Option<String>,
    },
}

/// What the chain holds for one command: read once, used for the preview and the instruction.
struct State {
    protocol: Protocol,
    markets: Vec<(Pubkey, Market)>,
    oracles: std::collections::HashMap<Pubkey, solana_sdk::account::Account>,
    now: i64,
}

impl State {
    async fn read(chain: &dyn Chain) -> Result<State> {
        let key = pda::protocol();
        let protocol = match chain.account(&key).await? {
            Some(a) => decode::protocol(&a.data).context("decoding the protocol account")?,
            None => bail!(
                "no Scalpel protocol on this cluster (no account at {key}): on a localnet, \
                 `scalpel localnet` creates it; elsewhere, `scalpel admin apply FILE`"
            ),
        };
        let markets = health::markets(chain).await?;
        let oracles = health::oracles(chain, &markets).await?;
        let now = chain.clock().await?.unix_timestamp;
        Ok(State {
            protocol,
            markets,
            oracles,
            now,
        })
    }

    fn book(&self) -> Book<'_> {
        Book {
            protocol: &self.protocol,
            markets: &self.markets,
            oracles: &self.oracles,
            now: self.now,
        }
    }

    /// A market by ticker (any case) or mint address.
    fn market(&self, name: &str) -> Result<&(Pubkey, Market)> {
        let by_mint = Pubkey::from_str(name).ok();
        let found: Vec<&(Pubkey, Market)> = self
            .markets
            .iter()
            .filter(|(_, m)| {
                Some(m.mint) == by_mint || m.symbol().eq_ignore_ascii_case(name.trim())
            })
            .collect();
        match found.as_slice() {
            [one] => Ok(one),
            [] => bail!(
                "no market {name:?} on this cluster; markets: {}",
                self.symbols().join(", ")
            ),
            _ => bail!("several markets are named {name:?}: pass the mint address instead"),
        }
    }

    fn symbols(&self) -> Vec<String> {
        self.markets
            .iter()
            .map(|(_, m)| m.symbol().to_string())
            .collect()
    }

    fn by_index(&self, index: u16) -> Option<&Market> {
        self.markets
            .iter()
            .find(|(_, m)| m.market_index == index)
            .map(|(_, m)| m)
    }
}

/// Runs `account`.
pub fn execute(args: &AccountArgs) -> Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let doc = rt.block_on(run(args))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&doc)?);
    }
    Ok(())
}

async fn run(args: &AccountArgs) -> Result<Value> {
    let chain = args.cluster.connect().await?;
    if let AccountCommand::Show { addr } = &args.command {
        let account = match addr {
            Some(a) => Pubkey::from_str(a.trim())
                .map_err(|_| anyhow!("{a} is not a valid address (base58)"))?,
            None => pda::margin_account(&args.cluster.signer()?.pubkey(), args.index),
        };
        return show(&chain, &account, args.json).await;
    }
    let owner = args.cluster.signer()?;
    let account = pda::margin_account(&owner.pubkey(), args.index);
    match &args.command {
        AccountCommand::Create => {
            if chain.account(&account).await?.is_some() {
                bail!(
                    "margin account {account} (index {}) already exists: use it, or pass \
                     --index N for another",
                    args.index
                );
            }
            send(
                &chain,
                &owner,
                &[ix::account_create(&owner.pubkey(), args.index)],
            )
            .await?;
            note(
                args,
                format!("created margin account {account} (index {})", args.index),
            );
            Ok(json!({"action": "create", "account": account.to_string(), "index": args.index}))
        }
        AccountCommand::Close => {
            let acc = margin(&chain, &account).await?;
            let st = State::read(&chain).await?;
            if acc.active_positions().any(|p| {
                st.by_index(p.market_index).is_some_and(|m| {
                    position_balance(m, p.shares(), st.now).is_ok_and(|(d, b)| d > 0 || b > 0)
                })
            }) {
                bail!(
                    "the account still holds positions: repay every debt and withdraw every \
                     deposit first (`scalpel account show` lists them)"
                );
            }
            let dust = health::deposit_markets(&acc, &st.markets);
            send(
                &chain,
                &owner,
                &[ix::account_close(&owner.pubkey(), &account, &dust)],
            )
            .await?;
            note(args, format!("closed margin account {account}"));
            Ok(json!({"action": "close", "account": account.to_string()}))
        }
        AccountCommand::Deposit { symbol, amount } => {
            trade(
                args,
                &chain,
                &owner,
                &account,
                symbol,
                amount,
                Kind::Deposit,
            )
            .await
        }
        AccountCommand::Withdraw { symbol, amount } => {
            trade(
                args,
                &chain,
                &owner,
                &account,
                symbol,
                amount,
                Kind::Withdraw,
            )
            .await
        }
        AccountCommand::Borrow { symbol, amount } => {
            trade(args, &chain, &owner, &account, symbol, amount, Kind::Borrow).await
        }
        AccountCommand::Repay { symbol, amount } => {
            trade(args, &chain, &owner, &account, symbol, amount, Kind::Repay).await
        }
        AccountCommand::Show { .. } => unreachable!("handled above"),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Deposit,
    Withdraw,
    Borrow,
    Repay,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Deposit => "deposit",
            Kind::Withdraw => "withdraw",
            Kind::Borrow => "borrow",
            Kind::Repay => "repay",
        }
    }

    fn trade(self, x: u64) -> Trade {
        match self {
            Kind::Deposit => Trade::Deposit(x),
            Kind::Withdraw => Trade::Withdraw(x),
            Kind::Borrow => Trade::Borrow(x),
            Kind::Repay => Trade::Repay(x),
        }
    }

    /// Whether the program checks init health after it (and the command previews and asks).
    fn increases_risk(self) -> bool {
        matches!(self, Kind::Withdraw | Kind::Borrow)
    }
}

#[allow(clippy::too_many_arguments)]
async fn trade(
    args: &AccountArgs,
    chain: &dyn Chain,
    owner: &Keypair,
    account: &Pubkey,
    symbol: &str,
    amount: &str,
    kind: Kind,
) -> Result<Value> {
    let acc = margin(chain, account).await?;
    let st = State::read(chain).await?;
    let (_, market) = st.market(symbol)?;
    let sym = market.symbol().to_string();
    let d = market.decimals;
    let all = amount.trim().eq_ignore_ascii_case("all");
    let native = if all {
        if !matches!(kind, Kind::Withdraw | Kind::Repay) {
            bail!(
                "`all` is for withdraw and repay; give an amount of {sym} to {}",
                kind.name()
            );
        }
        u64::MAX
    } else {
        let x = parse_amount(amount, d).with_context(|| format!("{sym} amount"))?;
        if x == 0 {
            bail!("the amount must be more than 0 {sym}");
        }
        x
    };
    let user_token = token::ata(&owner.pubkey(), &market.mint);
    let book = st.book();
    let preview = match book.preview(&acc, market.market_index, kind.trade(native)) {
        Ok(Ok(p)) => Some(p),
        Ok(Err(refusal)) => bail!(refusal_hint(&refusal, &sym)),
        // Deposits and repays read no price: a preview is a courtesy there.
        Err(e) if !kind.increases_risk() => {
            tracing::debug!("no preview: {e:#}");
            None
        }
        Err(e) => return Err(e).context("pricing the account"),
    };
    let moved = preview.as_ref().map_or(native, |p| p.amount);

    // What the program would accept now, checked before sending so a refusal says how much.
    if kind.increases_risk() {
        let vault = token::balance(chain, &market.vault).await?;
        let limit = match kind {
            Kind::Borrow => vault.min(
                market
                    .borrow_cap
                    .saturating_sub(market.total_borrows().unwrap_or(u64::MAX)),
            ),
            _ => vault,
        };
        let p = preview.as_ref().ok_or_else(|| anyhow!("no preview"))?;
        if !p.health_ok() || moved > limit {
            let max = book.max_amount(&acc, market.market_index, make(kind), limit)?;
            let why = if moved > limit {
                if kind == Kind::Borrow && limit < vault {
                    "the market's borrow cap"
                } else {
                    "what the vault holds (the rest is lent out)"
                }
            } else {
                "the account's init health"
            };
            bail!(
                "at most {} {sym} can be {} now ({why}); asked {}",
                format_amount_short(max, d),
                if kind == Kind::Borrow {
                    "borrowed"
                } else {
                    "withdrawn"
                },
                format_amount_short(moved, d),
            );
        }
    }

    if let Some(p) = &preview {
        if !args.json {
            print_preview(&st, &sym, kind, moved, d, p)?;
        }
    }
    if kind.increases_risk() {
        confirm(
            args,
            &format!("{} {} {sym}?", kind.name(), format_amount_short(moved, d)),
        )?;
    }

    let mv = ix::TokenMove {
        owner: owner.pubkey(),
        margin_account: *account,
        mint: market.mint,
        user_token,
    };
    let mut ixs: Vec<Instruction> = Vec::new();
    if matches!(kind, Kind::Withdraw | Kind::Borrow) {
        ixs.push(token::create_ata_idempotent(
            &owner.pubkey(),
            &owner.pubkey(),
            &market.mint,
        ));
    } else {
        let held = token::balance(chain, &user_token).await.unwrap_or(0);
        let needed = if native == u64::MAX { moved } else { native };
        if held < needed {
            bail!(
                "your {sym} token account {user_token} holds {} {sym}, less than the {} to {}: \
                 fund it first (on a localnet: `scalpel localnet fund {} {sym} AMOUNT`)",
                format_amount_short(held, d),
                format_amount_short(needed, d),
                kind.name(),
                owner.pubkey()
            );
        }
    }
    ixs.push(match kind {
        Kind::Deposit => ix::deposit(&mv, native),
        Kind::Repay => ix::repay(&mv, native),
        Kind::Withdraw | Kind::Borrow => {
            let close = (kind == Kind::Withdraw
                && preview.as_ref().is_some_and(|p| {
                    !p.positions
                        .iter()
                        .any(|q| q.market_index == market.market_index)
                }))
            .then_some(market.market_index);
            let open = (kind == Kind::Borrow).then_some(market.market_index);
            let pairs = health::pairs_after(&acc, &st.markets, open, close)?;
            if kind == Kind::Borrow {
                ix::borrow(&mv, native, &pairs)
            } else {
                ix::withdraw(&mv, native, &pairs)
            }
        }
    });
    send(chain, owner, &ixs).await?;
    note(
        args,
        format!(
            "{}: {} {sym} (account {account})",
            kind.name(),
            format_amount_short(moved, d)
        ),
    );
    Ok(json!({
        "action": kind.name(),
        "account": account.to_string(),
        "symbol": sym,
        "amount": format_amount(moved, d),
        "health_before": preview.as_ref().map(|p| health_json(&p.before)),
        "health_after": preview.as_ref().map(|p| health_json(&p.after)),
        "positions_after": preview.as_ref().map(|p| positions_json(&st, p)),
    }))
}

fn make(kind: Kind) -> fn(u64) -> Trade {
    match kind {
        Kind::Borrow => Trade::Borrow,
        _ => Trade::Withdraw,
    }
}

fn refusal_hint(r: &TradeRefusal, sym: &str) -> String {
    match r {
        TradeRefusal::InsufficientDeposit => {
            format!("the account holds no {sym} deposit that large (`scalpel account show`)")
        }
        TradeRefusal::BorrowAgainstOwnDeposit => format!(
            "the account holds a {sym} deposit: withdraw it first (`scalpel account withdraw \
             {sym} all`), then borrow"
        ),
        TradeRefusal::NoFreePositionSlot => {
            "all 8 position slots are in use: close a position first, or use another account \
             (--index N)"
                .into()
        }
        TradeRefusal::NoDebt => format!("the account owes no {sym}"),
    }
}

/// Deposit and debt of a position at `now`.
fn position_balance(m: &Market, shares: I80F48, now: i64) -> Result<(u64, u64)> {
    let (di, bi) = m.indices_at(now).map_err(|e| anyhow!("{e}"))?;
    if shares >= I80F48::ZERO {
        Ok((
            scalpel::math::shares::deposit_balance(shares, di).map_err(|e| anyhow!("{e}"))?,
            0,
        ))
    } else {
        Ok((
            0,
            scalpel::math::shares::debt_balance(-shares, bi).map_err(|e| anyhow!("{e}"))?,
        ))
    }
}

async fn margin(chain: &dyn Chain, account: &Pubkey) -> Result<MarginAccount> {
    match chain.account(account).await? {
        Some(a) => decode::margin_account(&a.data).context("decoding the margin account"),
        None => bail!(
            "no margin account at {account}: create one with `scalpel account create` (or pass \
             --index N / --keypair FILE for another)"
        ),
    }
}

/// Sends `ixs` signed by `owner`; a refusal is named with what to do about it.
async fn send(chain: &dyn Chain, owner: &Keypair, ixs: &[Instruction]) -> Result<()> {
    match chain.send(ixs, &[owner]).await? {
        Ok(_) => Ok(()),
        Err(f) => {
            let hint = match f.name.as_str() {
                "InsufficientHealth" => "the account's init health would fall below zero",
                "InsufficientLiquidity" => "the vault lacks the tokens (they are lent out)",
                "MarketQuarantined" => {
                    "the market is listed but not yet activated (its listing timelock runs)"
                }
                "BorrowsPaused" | "DepositsPaused" | "WithdrawalsPaused" => {
                    "the guardian or admin paused this; try later"
                }
                "ReduceOnly" => "the market is reduce-only: only repaying and withdrawing",
                "DepositCapExceeded" | "BorrowCapExceeded" => "the market's cap is reached",
                "AccountNotEmpty" => "repay and withdraw everything first",
                n if n.contains("InsufficientFunds") => {
                    "your wallet lacks the tokens or the SOL for fees"
                }
                _ => "",
            };
            if hint.is_empty() {
                bail!("the program refused: {}", f.name)
            }
            bail!("the program refused: {} ({hint})", f.name)
        }
    }
}

/// Asks on the terminal; without one, only `--yes` proceeds.
fn confirm(args: &AccountArgs, question: &str) -> Result<()> {
    if args.yes {
        return Ok(());
    }
    if args.json || !std::io::stdin().is_terminal() {
        bail!("not confirmed: pass --yes to {question} without a prompt");
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    if matches!(line.trim(), "y" | "Y" | "yes" | "Yes") {
        Ok(())
    } else {
        bail!("cancelled")
    }
}

/// A line for people (stderr with `--json`, stdout otherwise).
fn note(args: &AccountArgs, line: String) {
    if args.json {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
}

fn health_json(h: &Health) -> Value {
    json!({
        "init": usd(h.init),
        "maint": usd(h.maint),
        "end": usd(h.end),
        "ratio": h.ratio().map(|r| format!("{r:.4}")),
    })
}

fn positions_json(st: &State, p: &Preview) -> Value {
    Value::Array(
        p.positions
            .iter()
            .map(|q| {
                let m = st.by_index(q.market_index);
                let d = m.map_or(0, |m| m.decimals);
                json!({
                    "symbol": m.map(|m| m.symbol().to_string()),
                    "deposit": format_amount(q.deposit, d),
                    "debt": format_amount(q.debt, d),
                    "price": quote::price_str(q.price),
                    "liquidation_price": q.liquidation_price.map(quote::price_str),
                })
            })
            .collect(),
    )
}

fn print_preview(st: &State, sym: &str, kind: Kind, moved: u64, d: u8, p: &Preview) -> Result<()> {
    println!("{} {} {sym}", kind.name(), format_amount_short(moved, d));
    let mut h = Table::new();
    h.load_preset(UTF8_BORDERS_ONLY)
        .set_header(["health (USD)", "now", "after"]);
    let ratio = |h: &Health| h.ratio().map_or("∞".to_string(), |r| format!("{r:.4}"));
    for (name, a, b) in [
        (
            "init (must stay ≥ 0)",
            usd(p.before.init),
            usd(p.after.init),
        ),
        (
            "maint (liquidatable < 0)",
            usd(p.before.maint),
            usd(p.after.maint),
        ),
        ("ratio A/L", ratio(&p.before), ratio(&p.after)),
    ] {
        h.add_row([Cell::new(name), right(a), right(b)]);
    }
    println!("{h}");
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY).set_header([
        "after",
        "deposit",
        "debt",
        "price",
        "liquidation price",
    ]);
    for q in &p.positions {
        let m = st.by_index(q.market_index);
        let d = m.map_or(0, |m| m.decimals);
        let liq = match q.liquidation_price {
            Some(lp) if q.deposit > 0 => format!("below {}", quote::price_str(lp)),
            Some(lp) => format!("above {}", quote::price_str(lp)),
            None => "none".into(),
        };
        t.add_row([
            Cell::new(m.map_or("?".to_string(), |m| m.symbol().to_string())),
            right(format_amount_short(q.deposit, d)),
            right(format_amount_short(q.debt, d)),
            right(quote::price_str(q.price)),
            right(liq),
        ]);
    }
    println!("{t}");
    Ok(())
}

fn right(s: String) -> Cell {
    Cell::new(s).set_alignment(CellAlignment::Right)
}

/// `show`: the quote (health with maintenance prices, liquidation prices, plans) as tables.
async fn show(chain: &dyn Chain, account: &Pubkey, as_json: bool) -> Result<Value> {
    let q = quote::quote(chain, account)
        .await
        .with_context(|| format!("reading margin account {account}"))?;
    if !as_json {
        println!("margin account {} (owner {})", q.account, q.owner);
        let mut t = Table::new();
        t.load_preset(UTF8_BORDERS_ONLY).set_header([
            "market",
            "balance",
            "price",
            "value USD",
            "liquidation price",
        ]);
        for p in &q.positions {
            let signed = match p.side {
                quote::Side::Deposit => p.amount.clone(),
                quote::Side::Debt => format!("-{}", p.amount),
            };
            let liq = match (&p.liquidation_price, &p.liquidation_price_change_pct) {
                (Some(lp), Some(pct)) => format!("{lp} ({pct}%)"),
                (Some(lp), None) => lp.clone(),
                _ => "none".into(),
            };
            t.add_row([
                Cell::new(&p.symbol),
                right(signed),
                right(p.price.clone()),
                right(p.value_usd.clone()),
                right(liq),
            ]);
        }
        println!("{t}");
        let ratio = q.health.ratio.clone().unwrap_or_else(|| "∞".into());
        println!(
            "health: init {} USD, maint {} USD, end {} USD, ratio {ratio}{}",
            q.health.init,
            q.health.maint,
            q.health.end,
            if q.liquidatable {
                " — LIQUIDATABLE"
            } else {
                ""
            }
        );
    }
    Ok(serde_json::to_value(&q)?)
}
