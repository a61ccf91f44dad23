/**
 * Usher as the relay in the RTSP fan-out bench: `usher serve` as its own process (its built-in RTSP server), one
 * ffmpeg publisher looping the test clip in real time, readers with distinct signed play tokens.
 */
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { signToken } from '../../src/auth/signed-url.js';
import { BenchError, tail } from './check.js';
import type { TestMedia } from './media.js';
import { cpuSeconds, freePort, run, rssMiB, running, sleep, stop, waitUntil, type Run } from './proc.js';
import { decodeCheck, exitedHow, type Target } from './rtsp-target.js';

const SECRET = 'bench-rtsp-secret';
const STREAM = 'live/bench';
/** A publisher that dies is restarted this many times in a run; once more and the bench stops. */
const MAX_RESTARTS = 2;

/**
 * Starts Usher (`cli` = dist/src/cli/main.js) with its store in `dir`, measures one `window`-second window of its
 * CPU with nothing published (logged), then starts the publisher and runs the decode check. `log` prints a line.
 */
export async function startUsher(dir: string, cli: string, media: TestMedia, window: number, log: (s: string) => void): Promise<Target> {
  const httpPort = await freePort();
  const rtspPort = await freePort();
  const env = {
    ...process.env,
    USHER_STORE_PATH: join(dir, 'usher.db'),
    USHER_HTTP_LISTEN: `127.0.0.1:${httpPort}`,
    USHER_RTSP_LISTEN: `127.0.0.1:${rtspPort}`,
    USHER_RTSP_UDP_PORTS: '43000-43099', // readers use TCP; away from the default range other Ushers may hold
    USHER_AUTH_SIGNED_URLS_SECRET: SECRET,
    // sinks of one round are over (their sessions ended) before the next round's window
    USHER_SESSIONS_TIMEOUT_SECONDS: '2',
    USHER_LOG_LEVEL: 'warn',
    // every reader of the bench comes from 127.0.0.1: lift the per-address cap (default 100) above any N it runs
    USHER_RTSP_MAX_CONNECTIONS_PER_IP: process.env.USHER_RTSP_MAX_CONNECTIONS_PER_IP ?? '5000',
  };
  // BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") is passed to Usher's node, for profiling.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  // Run through a link named `usher`, as the package's bin is installed.
  const bin = join(dir, 'usher');
  symlinkSync(cli, bin);
  const usher = run(process.execPath, [...nodeArgs, bin, 'serve'], { env, cwd: dir });
  const api = `http://127.0.0.1:${httpPort}`;
  try {
    await waitUntil('Usher to answer /healthz', async () => running(usher.proc) && (await fetch(`${api}/healthz`)).ok);
  } catch (e) {
    throw new BenchError(`${(e as Error).message}; Usher's output:\n${tail(usher.out())}`);
  }
  const pid = usher.proc.pid!;
  await sleep(2000);
  const c0 = cpuSeconds(pid);
  await sleep(window * 1000);
  log(`  Usher              nothing published: CPU ${(cpuSeconds(pid) - c0).toFixed(2)} s in ${window} s (the process's own timers), RSS ${rssMiB(pid).toFixed(0)} MiB`);

  const base = `rtsp://127.0.0.1:${rtspPort}/${STREAM}`;
  const sign = (account: string, action: 'play' | 'publish'): string => signToken(SECRET, { stream: STREAM, account, action, ttlSeconds: 24 * 3600 });
  const inputs = async (): Promise<number> => {
    const r = await fetch(`${api}/v1/sessions?status=active&kind=input&server=builtin&stream=${encodeURIComponent(STREAM)}`, { signal: AbortSignal.timeout(5000) });
    if (!r.ok) throw new BenchError(`GET /v1/sessions answered ${r.status}: ${await r.text()}`);
    return ((await r.json()) as { total: number }).total;
  };
  let pub: Run | undefined;
  let restarts = 0;
  const startPublisher = async (): Promise<void> => {
    if (pub) await stop(pub.proc);
    const p = run('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', media.mp4,
      '-c', 'copy', '-f', 'rtsp', '-rtsp_transport', 'tcp', `${base}?tkn=${sign('studio', 'publish')}`]);
    pub = p;
    try {
      await waitUntil('the publisher to be admitted', async () => running(p.proc) && (await inputs()) === 1);
    } catch (e) {
      throw new BenchError(`Usher: ${(e as Error).message}; ffmpeg (publisher) said:\n${tail(p.out())}\nUsher said:\n${tail(usher.out())}`);
    }
    await sleep(2000);
  };
  const problem = async (): Promise<string | undefined> => {
    const down = exitedHow('Usher', usher) ?? (pub ? exitedHow('the ffmpeg publisher', pub) : 'no publisher started');
    if (down) return down;
    const n = await inputs();
    return n === 1 ? undefined : `Usher has ${n} active input sessions on ${STREAM} (expected 1)`;
  };

  await startPublisher();
  log(await decodeCheck('Usher', (i) => `${base}?tkn=${sign(`ffmpeg-${i}`, 'play')}`));
  let round = 0;
  return {
    name: 'Usher',
    pid,
    urls: (n) => {
      round++;
      return Array.from({ length: n }, (_, i) => `${base}?tkn=${sign(`bench-${round}-${i}`, 'play')}`);
    },
    problem,
    async ensureUp() {
      const why = await problem();
      if (!why) return;
      if (!running(usher.proc)) throw new BenchError(why);
      if (restarts >= MAX_RESTARTS) throw new BenchError(`the Usher publisher is down again after ${restarts} restarts: ${why}`);
      restarts++;
      log(`  (the Usher publisher is down: ${why}\n   restarting it, ${restarts} of at most ${MAX_RESTARTS})`);
      await startPublisher();
    },
    async stop() {
      if (pub) await stop(pub.proc);
      await stop(usher.proc);
    },
  };
}
