// Drives a running `scalpel localnet` with @solana/web3.js 1.x as a dApp would: reads,
// airdrop + confirmTransaction (block-height strategy), simulate, send, subscriptions, history,
// v0 transactions, a preflight failure, and SPL Token reads through @solana/spl-token.
// Usage: npm install && node check.mjs [http://127.0.0.1:8899]   (exits non-zero on a failure)
import assert from 'node:assert/strict';
import * as web3 from '@solana/web3.js';
import * as spl from '@solana/spl-token';

const url = process.argv[2] ?? 'http://127.0.0.1:8899';
const ws = url.replace(/^http/, 'ws').replace(/:(\d+)$/, (_, p) => `:${Number(p) + 1}`);
const c = new web3.Connection(url, { commitment: 'confirmed', wsEndpoint: ws });
const call = async (method, params) => {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const j = await r.json();
  if (j.error) throw new Error(`${method}: ${j.error.message}`);
  return j.result;
};
const step = (name) => console.log(`ok  ${name}`);

assert.equal((await c.getVersion())['solana-core'], '2.3.13'); step('getVersion');
const bh = await c.getLatestBlockhash();
assert.ok(bh.lastValidBlockHeight > (await c.getBlockHeight())); step('getLatestBlockhash');
assert.equal((await c.isBlockhashValid(bh.blockhash)).value, true); step('isBlockhashValid');
await c.getEpochInfo(); await c.getGenesisHash(); step('getEpochInfo, getGenesisHash');
const slot = await new Promise((resolve) => {
  const id = c.onSlotChange((s) => { c.removeSlotChangeListener(id); resolve(s); });
});
assert.equal(slot.parent + 1, slot.slot); step('onSlotChange');

const payer = web3.Keypair.generate();
const to = web3.Keypair.generate();
const changed = new Promise((resolve) => c.onAccountChange(to.publicKey, resolve));
const logged = new Promise((resolve) => c.onLogs(to.publicKey, resolve));
const air = await c.requestAirdrop(payer.publicKey, 2 * web3.LAMPORTS_PER_SOL);
assert.equal((await c.confirmTransaction({ signature: air, ...(await c.getLatestBlockhash()) })).value.err, null);
assert.equal(await c.getBalance(payer.publicKey), 2 * web3.LAMPORTS_PER_SOL); step('requestAirdrop, confirmTransaction');

const transfer = () => new web3.Transaction().add(web3.SystemProgram.transfer(
  { fromPubkey: payer.publicKey, toPubkey: to.publicKey, lamports: 1_000_000 }));
const sim = await c.simulateTransaction(transfer(), [payer]);
assert.equal(sim.value.err, null); assert.ok(sim.value.logs.length > 0); step('simulateTransaction');
const sig = await web3.sendAndConfirmTransaction(c, transfer(), [payer]); step('sendAndConfirmTransaction');
assert.equal((await changed).lamports, 1_000_000); step('onAccountChange');
assert.equal((await logged).signature, sig); step('onLogs');
const tx = await c.getTransaction(sig, { maxSupportedTransactionVersion: 0 });
assert.equal(tx.meta.err, null); assert.equal(tx.meta.fee, 5000); step('getTransaction');
await c.getParsedTransaction(sig, { maxSupportedTransactionVersion: 0 }); step('getParsedTransaction');
assert.equal((await c.getSignaturesForAddress(to.publicKey))[0].signature, sig); step('getSignaturesForAddress');
assert.equal((await c.getSignatureStatuses([sig])).value[0].confirmationStatus, 'finalized'); step('getSignatureStatuses');

const msg = new web3.TransactionMessage({ payerKey: payer.publicKey,
  recentBlockhash: (await c.getLatestBlockhash()).blockhash,
  instructions: [web3.SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: to.publicKey, lamports: 5 })],
}).compileToV0Message();
const v0 = new web3.VersionedTransaction(msg); v0.sign([payer]);
const v0sig = await c.sendTransaction(v0);
await c.confirmTransaction({ signature: v0sig, ...(await c.getLatestBlockhash()) });
assert.equal((await c.getTransaction(v0sig, { maxSupportedTransactionVersion: 0 })).version, 0); step('v0 transaction');

await assert.rejects(web3.sendAndConfirmTransaction(c, new web3.Transaction().add(web3.SystemProgram.transfer(
  { fromPubkey: to.publicKey, toPubkey: payer.publicKey, lamports: 10 * web3.LAMPORTS_PER_SOL })), [to]),
  (e) => e instanceof web3.SendTransactionError && e.logs.length > 0); step('preflight failure with logs');

const { programId, markets } = await call('scalpel_markets', []);
assert.ok((await c.getProgramAccounts(new web3.PublicKey(programId))).length > markets.length); step('getProgramAccounts');
const usdc = markets.find((m) => m.symbol === 'USDC');
const mint = new web3.PublicKey(usdc.mint);
await call('scalpel_fund', [payer.publicKey.toBase58(), 'USDC', '1234.5']);
const ata = spl.getAssociatedTokenAddressSync(mint, payer.publicKey);
assert.equal((await spl.getAccount(c, ata)).amount, 1_234_500_000n); step('spl getAccount');
assert.equal((await spl.getMint(c, mint)).decimals, 6); step('spl getMint');
const parsed = await c.getParsedTokenAccountsByOwner(payer.publicKey, { mint });
assert.equal(parsed.value[0].account.data.parsed.info.tokenAmount.uiAmountString, '1234.5'); step('getParsedTokenAccountsByOwner');
assert.equal((await c.getTokenAccountBalance(ata)).value.amount, '1234500000'); step('getTokenAccountBalance');
console.log('all checks passed');
process.exit(0);
