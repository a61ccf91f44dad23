/**
 * Bench helpers for child processes: start them (tracked, so an exiting or interrupted bench leaves none behind),
 * keep their output for error messages, wait for them; their CPU time and RSS come from ./procfs.js.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { sleep } from './procfs.js';

export { cpuSeconds, freePort, rssMiB, sleep } from './procfs.js';

const children = new Set<ChildProcess>();
process.on('exit', killChildren);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

/** SIGKILLs every child still running (started by `track`, `run` or `startNode`). */
export function killChildren(): void {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
}

/** Registers a child to be killed when the bench exits. */
export function track<T extends ChildProcess>(c: T): T {
  children.add(c);
  c.on('exit', () => children.delete(c));
  return c;
}

/** True while the process has neither exited nor been killed. */
export function running(p: ChildProcess): boolean {
  return p.exitCode === null && p.signalCode === null;
}

/** Resolves with the exit code (null when killed by a signal) once the process has exited, at once if it has. */
export function exited(p: ChildProcess): Promise<number | null> {
  if (!running(p)) return Promise.resolve(p.exitCode);
  return new Promise((r) => p.once('exit', (code) => r(code)));
}

export interface Run {
  proc: ChildProcess;
  /** The last ~50–100 kB of its stdout and stderr, interleaved. */
  out(): string;
}

/** Spawns `cmd` with stdout and stderr kept (bounded); a spawn error (e.g. ENOENT) lands in out() and exits it. */
export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Run {
  const proc = track(spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  const keep = (c: Buffer | string): void => {
    out += c.toString();
    if (out.length > 100_000) out = out.slice(-50_000);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  proc.on('error', (e) => keep(`\n${cmd}: ${e.message}\n`));
  return { proc, out: () => out };
}

/** Polls `fn` every 200 ms until it returns true (exceptions count as "not yet"); throws after `ms`. */
export async function waitUntil(what: string, fn: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if (await fn()) return;
    } catch {
      /* not yet */
    }
    await sleep(200);
  }
  throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
}

export async function waitHttp(url: string, proc: ChildProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!running(proc)) throw new Error(`the server for ${url} exited with ${proc.exitCode ?? proc.signalCode}`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(500) });
      if (r.status < 500) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A node process (stdout ignored, stderr inherited), tracked. */
export function startNode(args: string[], env: Record<string, string> = {}): ChildProcess {
  return track(spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] }));
}

export async function stop(p: ChildProcess): Promise<void> {
  if (!running(p)) return;
  p.kill('SIGTERM');
  await Promise.race([exited(p), sleep(3000)]);
  if (running(p)) p.kill('SIGKILL');
}
