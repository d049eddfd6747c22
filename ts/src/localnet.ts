// Starts and drives a `scalpel localnet` (docs/LOCALNET.md) from a test: the binary named by
// SCALPEL_BIN (CI sets it to $CARGO_TARGET_DIR/debug/scalpel), else `cargo run -p scalpel-cli`.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** The `scalpel` command: [program, ...leading args]. */
export function scalpelCommand(): [string, string[]] {
  const bin = process.env.SCALPEL_BIN;
  if (bin) return [bin, []];
  return ['cargo', ['run', '-q', '-p', 'scalpel-cli', '--']];
}

/** Runs `scalpel ARGS` to completion; rejects with its output when it exits non-zero. */
export function runScalpel(args: string[], timeoutMs = 120_000): Promise<{ stdout: string; stderr: string }> {
  const [cmd, lead] = scalpelCommand();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...lead, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`scalpel ${args.join(' ')} exited ${code ?? signal}\n${stdout}\n${stderr}`));
    });
  });
}

export type MarketInfo = {
  symbol: string;
  decimals: number;
  price: string;
  mint: string;
  market: string;
  oracle: string;
  vault: string;
};

/** The JSON banner `scalpel localnet --json-logs` prints on stdout once it serves. */
export type Banner = {
  rpc: string;
  ws: string;
  program_id: string;
  program: 'native' | 'sbf';
  faucet: string;
  migration: string;
  markets: MarketInfo[];
};

export type Localnet = {
  banner: Banner;
  /** A JSON-RPC call (the operator methods `scalpel_setPrice`, `scalpel_fund`, ...). */
  call: (method: string, params: unknown[]) => Promise<any>;
  /** Everything it wrote on stderr so far (one line per transaction). */
  logs: () => string;
  stop: () => Promise<void>;
};

/** A port P with P and P + 1 free on 127.0.0.1 (JSON-RPC on P, PubSub on P + 1). */
async function freePortPair(): Promise<number> {
  const listen = (port: number) =>
    new Promise<number | undefined>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(undefined));
      s.listen(port, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
  for (let i = 0; i < 50; i++) {
    const p = await listen(0);
    if (p && p < 65535 && (await listen(p + 1))) return p;
  }
  throw new Error('no two consecutive free ports on 127.0.0.1');
}

/** Starts a localnet on free ports and waits for its banner. */
export async function startLocalnet(timeoutMs = Number(process.env.SCALPEL_START_TIMEOUT_MS ?? 600_000)): Promise<Localnet> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePortPair();
    try {
      return await start(port, timeoutMs);
    } catch (e) {
      // Another process may take the port between the probe and the bind: try new ports.
      if (attempt >= 3 || !String(e).includes('another localnet')) throw e;
    }
  }
}

async function start(port: number, timeoutMs: number): Promise<Localnet> {
  const [cmd, lead] = scalpelCommand();
  const child: ChildProcess = spawn(cmd, [...lead, 'localnet', '--port', String(port), '--json-logs'], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SCALPEL_LOG: process.env.SCALPEL_LOG ?? 'scalpel=info,error' },
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<never>((_, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      reject(new Error(`scalpel localnet exited (${code ?? signal}) before its banner:\n${stderr}`)),
    );
  });
  const banner = new Promise<Banner>((resolve) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const b = JSON.parse(line);
        if (b.rpc && b.program_id) resolve(b);
      } catch {
        // not the banner
      }
    });
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no localnet banner within ${timeoutMs} ms:\n${stderr}`)), timeoutMs);
  });
  let b: Banner;
  try {
    b = await Promise.race([banner, exited, timeout]);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  } finally {
    clearTimeout(timer);
  }
  exited.catch(() => {}); // after the banner, an exit is reported by stop()
  let id = 0;
  const call = async (method: string, params: unknown[]) => {
    const r = await fetch(b.rpc, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }),
    });
    const j: any = await r.json();
    if (j.error) throw new Error(`${method}: ${j.error.message}`);
    return j.result;
  };
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  return { banner: b, call, logs: () => stderr, stop };
}
