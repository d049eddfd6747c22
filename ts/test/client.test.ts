// The TypeScript client check (docs/CLIENTS.md): a `scalpel localnet` this test starts, driven
// only through @coral-xyz/anchor, @solana/web3.js, @solana/spl-token and the committed IDL.
// A lender and a trader open margin accounts, the trader deposits SOL and borrows USDC, the SOL
// price falls, `scalpel keeper --once` liquidates, and the accounts, the LiquidationEvent and
// health_view's return data are decoded with the IDL and checked against what was done and
// against `scalpel quote` (the Rust client's figures).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AnchorProvider, BorshCoder, EventParser, Program, Wallet, type IdlTypes } from '@coral-xyz/anchor';
import {
  Connection,
  Keypair,
  PublicKey,
  TransactionMessage,
  VersionedTransaction,
} from '@solana/web3.js';
import {
  createAssociatedTokenAccountIdempotentInstruction,
  getAccount,
  getAssociatedTokenAddressSync,
} from '@solana/spl-token';
import BN from 'bn.js';
import {
  IDL,
  ONE,
  healthAccounts,
  i128Bits,
  marginAccountPda,
  programErrorOf,
  protocolPda,
  scalpelProgram,
  symbolOf,
  toNumber,
  wrappedBits,
  type Scalpel,
} from '../src/scalpel.ts';
import { REPO, runScalpel, startLocalnet, type Localnet } from '../src/localnet.ts';

const SOL_DEPOSIT = 10n * 10n ** 9n; // 10 SOL-market tokens (9 decimals) at 100 USD
const USDC_LENT = 5_000n * 10n ** 6n;
const USDC_BORROWED = 700n * 10n ** 6n; // init health: 0.8 * 1000 - 1.05 * 700 > 0
const PRICE_AFTER = '75'; // maint health: 0.9 * 750 - 700 < 0

let net: Localnet;
let connection: Connection;
let dir: string;
const lender = Keypair.generate();
const trader = Keypair.generate();
const keeper = Keypair.generate();
let asTrader: Program<Scalpel>;
let asLender: Program<Scalpel>;
let sol: { market: PublicKey; oracle: PublicKey; mint: PublicKey; vault: PublicKey; index: number };
let usdc: typeof sol;
let traderAccount = PublicKey.default;
type Listed = Awaited<ReturnType<Program<Scalpel>['account']['market']['all']>>;
let markets: Listed;
let planBeforeKeeper: { repay: bigint; seized: bigint };

const programFor = (kp: Keypair) =>
  scalpelProgram(new AnchorProvider(connection, new Wallet(kp), { commitment: 'confirmed' }));

const healthView = async (program: Program<Scalpel>, account: PublicKey) => {
  const decoded = await program.account.marginAccount.fetch(account);
  const tx = await program.methods
    .healthView()
    .accounts({ marginAccount: account })
    .remainingAccounts(healthAccounts(decoded, markets))
    .transaction();
  const { blockhash } = await connection.getLatestBlockhash();
  const message = new TransactionMessage({
    payerKey: program.provider.publicKey!,
    recentBlockhash: blockhash,
    instructions: tx.instructions,
  }).compileToV0Message();
  const sim = await connection.simulateTransaction(new VersionedTransaction(message), {
    sigVerify: false,
    commitment: 'confirmed',
  });
  assert.equal(sim.value.err, null, JSON.stringify(sim.value.logs));
  const ret = sim.value.returnData!;
  assert.equal(ret.programId, program.programId.toBase58());
  const bytes = Buffer.from(ret.data[0], 'base64');
  // The IDL's type coder (`returns: HealthView`), names in camelCase as the program has them.
  return program.coder.types.decode<IdlTypes<Scalpel>['healthView']>('healthView', bytes);
};

const quote = async (account: PublicKey) =>
  JSON.parse((await runScalpel(['quote', '--account', account.toBase58(), '--rpc', net.banner.rpc, '--json'])).stdout);

/** A decimal string with at most `decimals` places, in native units. */
const native = (ui: string, decimals: number) => {
  const [w, f = ''] = ui.split('.');
  assert.ok(f.length <= decimals, ui);
  return BigInt(w + f.padEnd(decimals, '0'));
};

describe('scalpel through @coral-xyz/anchor and the committed IDL', () => {
  before(async () => {
    net = await startLocalnet();
    connection = new Connection(net.banner.rpc, { commitment: 'confirmed', wsEndpoint: net.banner.ws });
    dir = mkdtempSync(join(tmpdir(), 'scalpel-ts-'));
    const { programId, markets: listed } = await net.call('scalpel_markets', []);
    assert.equal(programId, IDL.address);
    const find = (s: string) => {
      const m = listed.find((x: any) => x.symbol === s);
      return {
        market: new PublicKey(m.market),
        oracle: new PublicKey(m.oracle),
        mint: new PublicKey(m.mint),
        vault: new PublicKey(m.vault),
        index: m.index as number,
      };
    };
    sol = find('SOL');
    usdc = find('USDC');
    for (const kp of [lender, trader, keeper]) await net.call('scalpel_fund', [kp.publicKey.toBase58(), 'SOL', '10']);
    await net.call('scalpel_fund', [lender.publicKey.toBase58(), 'USDC', '5000']);
    await net.call('scalpel_fund', [trader.publicKey.toBase58(), 'SOL', '10', { token: true }]);
    await net.call('scalpel_fund', [keeper.publicKey.toBase58(), 'USDC', '10000']);
    asTrader = programFor(trader);
    asLender = programFor(lender);
  });

  after(async () => {
    await net?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the IDL type is the IDL anchor loads (names camelCased the same way)', () => {
    const text = readFileSync(join(REPO, 'idl/scalpel.ts'), 'utf8');
    const typed = JSON.parse(text.slice(text.indexOf('= {') + 2, text.lastIndexOf('};') + 1));
    assert.deepEqual(typed, JSON.parse(JSON.stringify(asTrader.idl)));
  });

  it('decodes every Market and the Protocol with the IDL', async () => {
    markets = await asTrader.account.market.all();
    assert.deepEqual(markets.map((m) => symbolOf(m.account)).sort(), ['ETH', 'SOL', 'USDC']);
    for (const info of net.banner.markets) {
      const m = markets.find((x) => x.publicKey.toBase58() === info.market)!;
      assert.equal(symbolOf(m.account), info.symbol);
      assert.equal(m.account.mint.toBase58(), info.mint);
      assert.equal(m.account.oracle.toBase58(), info.oracle);
      assert.equal(m.account.vault.toBase58(), info.vault);
      assert.equal(m.account.decimals, info.decimals);
      // Nothing borrowed yet and the clock stands still: both indices are exactly 1.
      assert.equal(wrappedBits(m.account.depositIndex), ONE);
      assert.equal(wrappedBits(m.account.borrowIndex), ONE);
      // The weights of migrations/localnet.toml, as I80F48 bps / 10 000.
      const maint = info.symbol === 'USDC' ? 0.95 : 0.9;
      assert.ok(Math.abs(toNumber(wrappedBits(m.account.assetWeightMaint)) - maint) < 1e-12);
      assert.equal(m.account.pending.active, 0);
      assert.equal(m.account.reserved.length > 0, true);
      const raw = await connection.getAccountInfo(m.publicKey);
      assert.equal(raw!.data.length, asTrader.account.market.size);
    }
    assert.equal(markets.find((m) => m.publicKey.equals(sol.market))!.account.marketIndex, sol.index);
    const protocol = await asTrader.account.protocol.fetch(protocolPda());
    assert.equal(protocol.liquidationBufferBps, 200);
    assert.deepEqual(
      [protocol.splitLiquidatorBps, protocol.splitInsuranceBps, protocol.splitTreasuryBps],
      [6000, 2500, 1500],
    );
    assert.equal(protocol.admin.toBase58(), net.banner.faucet);
    assert.equal(protocol.marketCount, 3);
  });

  it('a lender deposits USDC (account_create, deposit)', async () => {
    const [account] = marginAccountPda(lender.publicKey, 0);
    await asLender.methods.accountCreate({ accountIndex: 0 }).rpc();
    await asLender.methods
      .deposit({ amount: new BN(USDC_LENT.toString()) })
      .accounts({
        marginAccount: account,
        market: usdc.market,
        userToken: getAssociatedTokenAddressSync(usdc.mint, lender.publicKey),
      })
      .rpc();
    assert.equal((await getAccount(connection, usdc.vault)).amount, USDC_LENT);
  });

  it('a trader opens an account and deposits SOL', async () => {
    let bump: number;
    [traderAccount, bump] = marginAccountPda(trader.publicKey, 0);
    const sig = await asTrader.methods.accountCreate({ accountIndex: 0 }).rpc();
    assert.equal(typeof sig, 'string');
    let a = await asTrader.account.marginAccount.fetch(traderAccount);
    assert.equal(a.owner.toBase58(), trader.publicKey.toBase58());
    assert.equal(a.accountIndex, 0);
    assert.equal(a.bump, bump);
    assert.equal(a.positions.length, 8);
    assert.ok(a.positions.every((p) => p.active === 0));
    const userToken = getAssociatedTokenAddressSync(sol.mint, trader.publicKey);
    const before = (await getAccount(connection, userToken)).amount;
    await asTrader.methods
      .deposit({ amount: new BN(SOL_DEPOSIT.toString()) })
      .accounts({ marginAccount: traderAccount, market: sol.market, userToken })
      .rpc();
    a = await asTrader.account.marginAccount.fetch(traderAccount);
    assert.equal(a.positions[0].active, 1);
    assert.equal(a.positions[0].marketIndex, sol.index);
    // First deposit at index 1: the shares are the amount.
    assert.equal(wrappedBits(a.positions[0].shares), SOL_DEPOSIT * ONE);
    assert.equal((await getAccount(connection, userToken)).amount, before - SOL_DEPOSIT);
    const market = await asTrader.account.market.fetch(sol.market);
    assert.equal(wrappedBits(market.totalDepositShares), SOL_DEPOSIT * ONE);
    // getProgramAccounts with a memcmp filter on the owner (offset 8, after the discriminator).
    const mine = await asTrader.account.marginAccount.all([
      { memcmp: { offset: 8, bytes: trader.publicKey.toBase58() } },
    ]);
    assert.deepEqual(mine.map((x) => x.publicKey.toBase58()), [traderAccount.toBase58()]);
  });

  it('borrow refuses more than health allows with the IDL error', async () => {
    const userToken = getAssociatedTokenAddressSync(usdc.mint, trader.publicKey);
    const a = await asTrader.account.marginAccount.fetch(traderAccount);
    await assert.rejects(
      asTrader.methods
        .borrow({ amount: new BN((900n * 10n ** 6n).toString()) })
        .accounts({ marginAccount: traderAccount, market: usdc.market, userToken })
        .remainingAccounts(healthAccounts(a, markets, usdc.index))
        .preInstructions([
          createAssociatedTokenAccountIdempotentInstruction(trader.publicKey, userToken, trader.publicKey, usdc.mint),
        ])
        .rpc(),
      (e: unknown) => {
        assert.equal(programErrorOf(e)?.name, 'InsufficientHealth', String(e));
        return true;
      },
    );
  });

  it('the trader borrows USDC with the health accounts after the borrow', async () => {
    const userToken = getAssociatedTokenAddressSync(usdc.mint, trader.publicKey);
    let a = await asTrader.account.marginAccount.fetch(traderAccount);
    const pairs = healthAccounts(a, markets, usdc.index);
    assert.deepEqual(
      pairs.map((p) => p.pubkey.toBase58()),
      [sol.market, sol.oracle, usdc.market, usdc.oracle].map((k) => k.toBase58()),
    );
    await asTrader.methods
      .borrow({ amount: new BN(USDC_BORROWED.toString()) })
      .accounts({ marginAccount: traderAccount, market: usdc.market, userToken })
      .remainingAccounts(pairs)
      .preInstructions([
        createAssociatedTokenAccountIdempotentInstruction(trader.publicKey, userToken, trader.publicKey, usdc.mint),
      ])
      .rpc();
    assert.equal((await getAccount(connection, userToken)).amount, USDC_BORROWED);
    a = await asTrader.account.marginAccount.fetch(traderAccount);
    assert.equal(a.positions[1].marketIndex, usdc.index);
    assert.equal(wrappedBits(a.positions[1].shares), -USDC_BORROWED * ONE);
    assert.equal(a.beingLiquidated, 0);
  });

  it('health_view by simulation matches the figures and scalpel quote (healthy)', async () => {
    const v = await healthView(asTrader, traderAccount);
    const q = await quote(traderAccount);
    // A_maint = 0.9 * 10 * 100, L_maint = 1.0 * 700 (no confidence interval).
    assert.ok(Math.abs(toNumber(i128Bits(v.assetMaint)) - 900) < 1e-9);
    assert.ok(Math.abs(toNumber(i128Bits(v.liabMaint)) - 700) < 1e-9);
    assert.ok(Math.abs(toNumber(i128Bits(v.maint)) - 200) < 1e-9);
    assert.ok(toNumber(i128Bits(v.init)) > 0);
    assert.equal(v.liquidatable, false);
    assert.equal(v.plans.length, 0);
    assert.ok(Math.abs(toNumber(i128Bits(v.ratio!)) - 900 / 700) < 1e-9);
    for (const k of ['init', 'maint', 'end', 'assetMaint', 'liabMaint'] as const) {
      const rust = q.health[k.replace(/[A-Z]/, (c) => '_' + c.toLowerCase())];
      assert.ok(Math.abs(toNumber(i128Bits(v[k])) - Number(rust)) <= 1e-6, `${k}: ${rust}`);
    }
    assert.equal(q.liquidatable, false);
    // `.view()` decodes the same return data.
    const viewed = await asTrader.methods
      .healthView()
      .accounts({ marginAccount: traderAccount })
      .remainingAccounts(healthAccounts(await asTrader.account.marginAccount.fetch(traderAccount), markets))
      .view();
    assert.equal(viewed.maint.toString(), v.maint.toString());
  });

  it('after the SOL price falls, health_view plans the liquidation scalpel quote plans', async () => {
    const set = await net.call('scalpel_setPrice', ['SOL', PRICE_AFTER]);
    assert.equal(set.symbol, 'SOL');
    const v = await healthView(asTrader, traderAccount);
    assert.equal(v.liquidatable, true);
    assert.ok(toNumber(i128Bits(v.maint)) < 0);
    assert.ok(Math.abs(toNumber(i128Bits(v.maint)) - (0.9 * 750 - 700)) < 1e-9);
    assert.equal(v.plans.length, 1);
    const plan = v.plans[0];
    assert.equal(plan.assetMarketIndex, sol.index);
    assert.equal(plan.liabMarketIndex, usdc.index);
    const repay = BigInt(plan.repay.toString());
    const seized = BigInt(plan.seized.toString());
    assert.ok(repay > 0n && repay < USDC_BORROWED, `partial: ${repay}`);
    assert.ok(seized > 0n && seized < SOL_DEPOSIT);
    assert.equal(
      BigInt(plan.toLiquidator.toString()) + BigInt(plan.toInsurance.toString()) + BigInt(plan.toTreasury.toString()),
      seized,
    );
    const q = await quote(traderAccount);
    assert.equal(q.liquidatable, true);
    assert.ok(Math.abs(toNumber(i128Bits(v.maint)) - Number(q.health.maint)) <= 1e-6);
    const pq = q.plans[0].plan;
    assert.equal(native(pq.repay, 6), repay, `quote repay ${pq.repay}`);
    assert.equal(native(pq.seized, 9), seized, `quote seized ${pq.seized}`);
    planBeforeKeeper = { repay, seized };
  });

  it('scalpel keeper --once liquidates; the LiquidationEvent decodes from the transaction logs', async () => {
    const keyFile = join(dir, 'keeper.json');
    writeFileSync(keyFile, JSON.stringify(Array.from(keeper.secretKey)));
    await runScalpel(['keeper', '--rpc', net.banner.rpc, '--keypair', keyFile, '--once']);

    // A coder of the IDL file as it is (snake_case names), as an indexer without a Program has.
    const coder = new BorshCoder(IDL as any);
    const parser = new EventParser(asTrader.programId, coder);
    const events: any[] = [];
    let liquidations = 0;
    for (const { signature, err } of await connection.getSignaturesForAddress(traderAccount)) {
      if (err) continue;
      const tx = await connection.getTransaction(signature, { maxSupportedTransactionVersion: 0, commitment: 'confirmed' });
      const keys = tx!.transaction.message.getAccountKeys();
      for (const ix of tx!.transaction.message.compiledInstructions) {
        if (!keys.get(ix.programIdIndex)!.equals(asTrader.programId)) continue;
        const decoded = coder.instruction.decode(Buffer.from(ix.data));
        if (decoded?.name === 'liquidate') liquidations++;
      }
      for (const e of parser.parseLogs(tx!.meta!.logMessages!)) if (e.name === 'LiquidationEvent') events.push(e.data);
    }
    assert.equal(liquidations, 1);
    assert.equal(events.length, 1);
    const e = events[0];
    assert.equal(e.liquidatee.toBase58(), traderAccount.toBase58());
    assert.equal(e.liquidator.toBase58(), keeper.publicKey.toBase58());
    assert.equal(e.asset_market.toBase58(), sol.market.toBase58());
    assert.equal(e.liab_market.toBase58(), usdc.market.toBase58());
    assert.equal(i128Bits(e.asset_price), 75n * ONE);
    assert.equal(i128Bits(e.liab_price), ONE);
    const repaid = BigInt(e.repaid.toString());
    const seized = BigInt(e.seized.toString());
    assert.ok(repaid > 0n, 'repaid > 0');
    assert.ok(seized < SOL_DEPOSIT, 'seized < collateral');
    // The keeper liquidates exactly as far as the program's plan.
    assert.deepEqual({ repay: repaid, seized }, planBeforeKeeper);
    assert.equal(
      BigInt(e.to_liquidator.toString()) + BigInt(e.to_insurance.toString()) + BigInt(e.to_treasury.toString()),
      seized,
    );
    assert.ok(i128Bits(e.maint_before) < 0n && i128Bits(e.end_after) >= 0n);
    assert.equal(e.penalty_bps, 500);
    assert.equal(e.buffer_bps, 200);

    // The account after: the seized collateral and the repaid debt are gone (indices are 1).
    const a = await asTrader.account.marginAccount.fetch(traderAccount);
    assert.equal(wrappedBits(a.positions[0].shares), (SOL_DEPOSIT - seized) * ONE);
    assert.equal(wrappedBits(a.positions[1].shares), -(USDC_BORROWED - repaid) * ONE);
    assert.equal(a.liquidationCount, 1);
    assert.equal(a.lastLiquidationSlot.toString(), e.slot.toString());
    const v = await healthView(asTrader, traderAccount);
    assert.equal(v.liquidatable, false);
    assert.ok(i128Bits(v.end) >= 0n);
    assert.equal(i128Bits(v.maint), i128Bits(e.maint_after));
  });
});
