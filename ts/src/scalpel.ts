// Scalpel from TypeScript: the committed IDL (idl/scalpel.json) and its type (idl/scalpel.ts,
// both from `cargo run -p xtask -- idl`) with @coral-xyz/anchor, plus the few helpers the IDL
// cannot express: PDAs, I80F48 numbers and the health accounts. See docs/CLIENTS.md.
import { readFileSync } from 'node:fs';
import { AnchorError, AnchorProvider, Program, ProgramError } from '@coral-xyz/anchor';
import { PublicKey, type AccountMeta } from '@solana/web3.js';
import BN from 'bn.js';
import type { Scalpel } from '../../idl/scalpel.ts';

export type { Scalpel };

/** The IDL as the program produced it (snake_case; anchor converts it to camelCase on load). */
export const IDL: Scalpel = JSON.parse(
  readFileSync(new URL('../../idl/scalpel.json', import.meta.url), 'utf8'),
);

/** The program client for `provider` (its wallet signs and pays). */
export function scalpelProgram(provider: AnchorProvider): Program<Scalpel> {
  return new Program<Scalpel>(IDL, provider);
}

export const PROGRAM_ID = new PublicKey(IDL.address);

/** The protocol singleton `["protocol"]`. */
export function protocolPda(programId = PROGRAM_ID): PublicKey {
  return PublicKey.findProgramAddressSync([Buffer.from('protocol')], programId)[0];
}

/** A margin account `["margin", owner, index as u16 LE]`, with its bump. */
export function marginAccountPda(owner: PublicKey, index = 0, programId = PROGRAM_ID): [PublicKey, number] {
  const le = Buffer.alloc(2);
  le.writeUInt16LE(index);
  return PublicKey.findProgramAddressSync([Buffer.from('margin'), owner.toBuffer(), le], programId);
}

/** 2^48: I80F48 numbers are their two's-complement i128 bits over this. */
export const ONE = 1n << 48n;

/** The bits of a stored `WrappedI80F48` (16 little-endian bytes) as a signed bigint. */
export function wrappedBits(w: { bits: number[] }): bigint {
  let v = 0n;
  for (let i = 15; i >= 0; i--) v = (v << 8n) | BigInt(w.bits[i]);
  return v >= 1n << 127n ? v - (1n << 128n) : v;
}

/** The bits of an I80F48 that events and views carry as an `i128` (a BN from anchor). */
export function i128Bits(v: BN): bigint {
  return BigInt(v.toString());
}

/** An I80F48 as a JS number (about 15 significant digits; use the bits for exact checks). */
export function toNumber(bits: bigint): number {
  const whole = bits >> 48n; // floor
  const frac = bits - (whole << 48n);
  return Number(whole) + Number(frac) / 2 ** 48;
}

/** A market's ticker from its zero-padded `symbol` bytes. */
export function symbolOf(market: { symbol: number[] }): string {
  return Buffer.from(market.symbol).toString('ascii').replace(/\0+$/, '');
}

type Positions = { positions: { active: number; marketIndex: number }[] };
type Listed = { publicKey: PublicKey; account: { marketIndex: number; oracle: PublicKey } };

/**
 * Remaining accounts of `withdraw`, `borrow` and `health_view`: one (market, oracle) pair per
 * active position in slot order, after the instruction (docs/SPEC.md; `client/src/health.rs`'s
 * `pairs_after`). `open` is the market a borrow or deposit activates in the first free slot.
 */
export function healthAccounts(account: Positions, markets: Listed[], open?: number): AccountMeta[] {
  const slots = account.positions.map((p) => (p.active !== 0 ? p.marketIndex : undefined));
  if (open !== undefined && !slots.includes(open)) {
    const free = slots.indexOf(undefined);
    if (free < 0) throw new Error('no free position slot');
    slots[free] = open;
  }
  return slots
    .filter((i): i is number => i !== undefined)
    .flatMap((index) => {
      const m = markets.find((x) => x.account.marketIndex === index);
      if (!m) throw new Error(`market index ${index} not found`);
      return [
        { pubkey: m.publicKey, isSigner: false, isWritable: false },
        { pubkey: m.account.oracle, isSigner: false, isWritable: false },
      ];
    });
}

/**
 * The program error a failed `.rpc()` / `.simulate()` carries, named from the IDL. On a validator
 * (and the SBF build) anchor throws an `AnchorError` parsed from the program's
 * `AnchorError occurred` log; a program running natively in `scalpel localnet` writes no `msg!`
 * lines, so there the code is read from the runtime's `Program <id> failed: custom program
 * error: 0x…` line of the error's logs (anchor's own `ProgramError.parse` gives up on web3.js
 * 1.9x messages, which repeat that line).
 */
export function programErrorOf(e: unknown, programId = PROGRAM_ID): { code: number; name: string; msg?: string } | undefined {
  let code: number | undefined;
  if (e instanceof AnchorError) code = e.error.errorCode.number;
  else if (e instanceof ProgramError) code = e.code;
  else {
    const logs: unknown = (e as { logs?: unknown })?.logs;
    const re = new RegExp(`^Program ${programId.toBase58()} failed: custom program error: (0x[0-9a-f]+)$`);
    for (const line of Array.isArray(logs) ? logs : []) {
      const m = re.exec(String(line));
      if (m) code = parseInt(m[1], 16);
    }
  }
  const named = IDL.errors.find((x) => x.code === code);
  return named && { code: named.code, name: named.name, msg: named.msg };
}
