/**
 * Child processes of the end-to-end tests (ffmpeg players and publishers, media servers): tracked so that every one
 * is killed when the test file ends, even on a failure, and waited for with a bound.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Item } from '../adapters/kit.js';
import { waitFor, type TestUsher } from './usher.js';

/** The children one test file started; `killAll` runs on process exit too. */
export class Children {
  private readonly set = new Set<ChildProcess>();

  constructor() {
    process.on('exit', () => this.killAll());
  }

  track(p: ChildProcess): ChildProcess {
    this.set.add(p);
    p.once('exit', () => this.set.delete(p));
    return p;
  }

  /** ffmpeg with errors only on stderr (ignored), no stdin. */
  ffmpeg(args: string[]): ChildProcess {
    return this.track(spawn('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', ...args], { stdio: 'ignore' }));
  }

  killAll(): void {
    for (const c of this.set) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}

/** Resolves with the exit code (or signal) of `p`; rejects when it has not exited within `timeoutMs`. */
export function exited(p: ChildProcess, timeoutMs: number): Promise<number | string> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve(p.exitCode ?? p.signalCode ?? 'gone');
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`process ${p.spawnargs.slice(0, 3).join(' ')} did not exit within ${timeoutMs} ms`)), timeoutMs);
    p.once('exit', (code, signal) => {
      clearTimeout(t);
      resolve(code ?? signal ?? 'gone');
    });
  });
}

/** The first session of `server` matching `query` and `pred`, waited for (bounded). */
export async function waitSessionOn(u: TestUsher, server: string, query: string, pred: (s: Item) => boolean = () => true, timeoutMs = 15_000): Promise<Item> {
  const found = await waitFor(async () => {
    const r = await u.api('GET', `/v1/sessions?limit=1000&server=${encodeURIComponent(server)}&${query}`);
    return (r.body.items as Item[]).find(pred);
  }, timeoutMs);
  if (!found) throw new Error('unreachable: waitFor returns only a found session');
  return found;
}
