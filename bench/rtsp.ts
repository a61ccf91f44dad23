/**
 * npm run bench:rtsp — the built-in RTSP server's fan-out: one publisher (a generated 720p30 H.264 clip at ~4 Mbps,
 * `ffmpeg -re -stream_loop -1 -c copy`) and N readers over TCP (N = 10, 50, 200; light RTP-over-TCP sinks in a child
 * process), after two real ffmpeg players have decoded it. Usher runs as its own process (`usher serve`); its CPU
 * (utime + stime from /proc) and RSS are read over a fixed window per N, and over one window with the publisher
 * alone (the fixed cost). With LIVE555_PROXY and LIVE555_MEDIA set (paths to live555ProxyServer and
 * live555MediaServer, built from live555's source), the same readers attach to live555ProxyServer relaying
 * live555MediaServer's copy of the same clip; the servers' windows alternate, and the table shows both side by side.
 *
 * Before each window the publisher must be up (Usher's is restarted if it died) and every reader must be receiving,
 * during the warm-up and through the window; every figure is checked before the table is printed. A run that cannot
 * measure says why and exits 1. Prints figures; asserts nothing about them.
 *
 * Env: BENCH_WINDOW_SECONDS (10), BENCH_READERS ("10,50,200"), LIVE555_PROXY, LIVE555_MEDIA, BENCH_NODE_ARGS.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchError, figure, runBench } from './lib/check.js';
import { generateMedia, repeatFile, type TestMedia } from './lib/media.js';
import { cpuSeconds, exited, killChildren, rssMiB, sleep, track } from './lib/proc.js';
import { requireBinary, startLive555 } from './lib/rtsp-live555.js';
import type { Target } from './lib/rtsp-target.js';
import { startUsher } from './lib/rtsp-usher.js';
import { INSTALL, requireTool } from './lib/tools.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const SINK = join(HERE, 'lib', 'rtsp-sink.js');
const WARM_UP_SECONDS = 3;

function log(s: string): void {
  process.stdout.write(`${s}\n`);
}

function settings(): { window: number; ns: number[] } {
  const window = Number(process.env.BENCH_WINDOW_SECONDS ?? 10);
  if (!Number.isFinite(window) || window < 1) throw new BenchError(`BENCH_WINDOW_SECONDS must be a number of seconds ≥ 1, not "${process.env.BENCH_WINDOW_SECONDS}"`);
  const raw = process.env.BENCH_READERS ?? '10,50,200';
  const ns = raw.split(',').map((s) => Number(s.trim()));
  if (!ns.length || ns.some((n) => !Number.isInteger(n) || n < 1 || n > 2000)) throw new BenchError(`BENCH_READERS must be a comma-separated list of reader counts from 1 to 2000, not "${raw}"`);
  return { window, ns };
}

interface Count { bytes: number; open: number; receiving: number }

/** One IPC request to the sink process; rejects if it exits or does not answer within `ms`. */
function ask<T>(child: ChildProcess, msg: object, ms = 120_000): Promise<T> {
  return new Promise((res, rej) => {
    const timer = setTimeout(() => done(new Error(`the reader process did not answer ${JSON.stringify(msg).slice(0, 40)} within ${ms / 1000} s`)), ms);
    const onMessage = (m: unknown): void => done(undefined, m as T);
    const onExit = (code: number | null): void => done(new Error(`the reader process exited (${code})`));
    const done = (e?: Error, v?: T): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (e) rej(e);
      else res(v as T);
    };
    child.once('message', onMessage);
    child.once('exit', onExit);
    child.send(msg);
  });
}

interface Figures {
  n: number;
  mbps: number;
  cpu: number;
  cpuPerGB: number;
  rss: number;
}

/** Every one of the `n` readers must have received bytes since the previous count, and the relay be up. */
async function allReceiving(t: Target, n: number, c: Count, phase: string): Promise<void> {
  if (c.open === n && c.receiving === n) return;
  const why = await t.problem();
  throw new BenchError(`${t.name}, N=${n}: ${c.receiving} of ${n} readers received data during the ${phase} (${c.open} still open)${why ? `: ${why}` : ''}`);
}

/** N sinks on the target; figures over `window` seconds after the warm-up, every reader checked before and after. */
async function measure(t: Target, n: number, window: number, media: TestMedia): Promise<Figures> {
  await t.ensureUp();
  const sink = track(fork(SINK, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  try {
    const opened = await ask<{ opened: number; failed: number; firstError: string }>(sink, { cmd: 'open', urls: t.urls(n) });
    if (opened.failed > 0) {
      const why = await t.problem();
      throw new BenchError(`${t.name}: ${opened.failed} of ${n} readers could not start playing (first: ${opened.firstError})${why ? `: ${why}` : ''}`);
    }
    await ask<Count>(sink, { cmd: 'count' });
    await sleep(WARM_UP_SECONDS * 1000); // admissions written, sockets at steady state
    const warm = await ask<Count>(sink, { cmd: 'count' });
    await allReceiving(t, n, warm, 'warm-up');
    const c0 = cpuSeconds(t.pid);
    const t0 = performance.now();
    await sleep(window * 1000);
    const c1 = cpuSeconds(t.pid);
    const end = await ask<Count>(sink, { cmd: 'count' });
    const secs = (performance.now() - t0) / 1000;
    await allReceiving(t, n, end, 'measurement window');
    const problem = await t.problem();
    if (problem) throw new BenchError(`${t.name}, N=${n}: down at the end of the window: ${problem}`);
    const rss = rssMiB(t.pid);
    const bytes = end.bytes - warm.bytes;
    const mbps = (bytes * 8) / secs / 1e6;
    const perReader = mbps / n;
    if (perReader > 1.5 * media.mbps) {
      throw new BenchError(`${t.name}, N=${n}: each reader got ${perReader.toFixed(1)} Mbps from a ${media.mbps.toFixed(1)} Mbps source: the publisher is not paced in real time`);
    }
    if (perReader < 0.8 * media.mbps) log(`  (${t.name}, N=${n}: readers got ${((100 * perReader) / media.mbps).toFixed(0)} % of the source's rate: the relay is not keeping up)`);
    const cpu = figure(`${t.name}'s CPU at N=${n}`, c1 - c0);
    return {
      n,
      mbps: figure(`delivered Mbps of ${t.name} at N=${n}`, mbps, Number.MIN_VALUE),
      cpu,
      cpuPerGB: figure(`${t.name}'s CPU per GB at N=${n}`, cpu / (bytes / 1e9)),
      rss: figure(`${t.name}'s RSS`, rss, Number.MIN_VALUE),
    };
  } finally {
    if (sink.connected) sink.send({ cmd: 'close' });
    await Promise.race([exited(sink), sleep(5000)]);
    sink.kill('SIGKILL');
    await sleep(500);
  }
}

/**
 * `measure`, once more if the publisher went down during it (ensureUp restarts Usher's; live555's cannot be, so
 * its second attempt fails with the reason). Any other failure is final.
 */
async function measureOrRetry(t: Target, n: number, window: number, media: TestMedia): Promise<Figures> {
  try {
    return await measure(t, n, window, media);
  } catch (e) {
    const why = e instanceof BenchError ? await t.problem() : undefined;
    if (!why) throw e;
    log(`  (${t.name}, N=${n}: window void, ${why.split('\n')[0]}; measuring it once more)`);
    return measure(t, n, window, media);
  }
}

function row(f: Figures): string {
  return `N=${String(f.n).padEnd(4)} delivered ${f.mbps.toFixed(1).padStart(7)} Mbps  CPU ${f.cpu.toFixed(2).padStart(6)} s  ${f.cpuPerGB.toFixed(2).padStart(6)} CPU-s/GB  RSS ${f.rss.toFixed(0).padStart(4)} MiB`;
}

/** CPU of the relay with its publisher and no reader (the fixed cost), over one window. */
async function idleCpu(t: Target, window: number): Promise<number> {
  await t.ensureUp();
  const c0 = cpuSeconds(t.pid);
  await sleep(window * 1000);
  const why = await t.problem();
  if (why) throw new BenchError(`${t.name} went down during the publisher-only window: ${why}`);
  return figure(`${t.name}'s publisher-only CPU`, cpuSeconds(t.pid) - c0);
}

async function main(): Promise<void> {
  const { window, ns } = settings();
  requireTool('ffmpeg', ['-version'], INSTALL.ffmpeg);
  const mediaBin = process.env.LIVE555_MEDIA;
  const proxyBin = process.env.LIVE555_PROXY;
  if (Boolean(mediaBin) !== Boolean(proxyBin)) throw new BenchError('set both LIVE555_PROXY and LIVE555_MEDIA (paths to live555ProxyServer and live555MediaServer), or neither');
  if (mediaBin && proxyBin) {
    requireBinary('LIVE555_MEDIA', mediaBin);
    requireBinary('LIVE555_PROXY', proxyBin);
  }

  const dir = mkdtempSync(join(tmpdir(), 'usher-bench-rtsp-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  log('generating the test clip with ffmpeg …');
  const media = await generateMedia(dir);
  log(`RTSP fan-out bench: ${media.seconds} s 720p30 H.264 clip at ${media.mbps.toFixed(2)} Mbps, looped; window ${window} s per N, N = ${ns.join(', ')}`);
  const targets: Target[] = [await startUsher(dir, CLI, media, window, log)];
  if (mediaBin && proxyBin) {
    // live555MediaServer plays a file once: it gets the clip repeated, long enough for the whole run
    const seconds = ns.length * 2 * (window + 15) + 2 * window + 120;
    const long = join(dir, 'long.264');
    await repeatFile(media.annexB, long, Math.max(2, Math.ceil(seconds / media.seconds)));
    targets.push(await startLive555(dir, long, mediaBin, proxyBin, log));
  } else {
    log('live555: skipped. To compare, build live555 from its source outside this repository (./genMakefiles linux && make)');
    log('  and run: LIVE555_PROXY=<build>/proxyServer/live555ProxyServer LIVE555_MEDIA=<build>/mediaServer/live555MediaServer npm run bench:rtsp');
  }

  // Windows alternate between the servers (publisher-only first, then each N), so background load on a shared
  // machine falls on both alike.
  const idle = new Map<string, number>();
  for (const t of targets) {
    idle.set(t.name, await idleCpu(t, window));
    log(`  ${t.name.padEnd(18)} publisher only: CPU ${idle.get(t.name)!.toFixed(2)} s in ${window} s, RSS ${rssMiB(t.pid).toFixed(0)} MiB`);
  }
  const results = new Map<string, Figures[]>(targets.map((t) => [t.name, []]));
  for (const n of ns) {
    for (const t of targets) {
      const f = await measureOrRetry(t, n, window, media);
      results.get(t.name)!.push(f);
      log(`  ${t.name.padEnd(18)} ${row(f)}`);
    }
  }
  for (const t of targets) await t.stop();

  const lines = ['', `| N | server | delivered Mbps | CPU s in ${window} s | CPU s per delivered GB | CPU s per GB above publisher-only | RSS MiB |`, '|---|---|---:|---:|---:|---:|---:|'];
  for (let i = 0; i < ns.length; i++) {
    for (const t of targets) {
      const f = results.get(t.name)![i];
      const marginal = figure(`${t.name}'s CPU per GB above publisher-only at N=${f.n}`, (f.cpu - idle.get(t.name)!) / ((f.mbps * 1e6 * window) / 8 / 1e9), -Infinity);
      lines.push(`| ${f.n} | ${t.name} | ${f.mbps.toFixed(1)} | ${f.cpu.toFixed(2)} | ${f.cpuPerGB.toFixed(2)} | ${marginal.toFixed(2)} | ${f.rss.toFixed(0)} |`);
    }
  }
  if (targets.length === 2) {
    lines.push('');
    const [u, l] = [results.get('Usher')!, results.get('live555ProxyServer')!];
    for (let i = 0; i < ns.length; i++) {
      // a window in which live555 used no measurable CPU (under one clock tick) has no ratio
      const ratio = figure(`the CPU-per-GB ratio at N=${ns[i]} (live555 used ${l[i].cpu.toFixed(2)} s of CPU: too short a window? raise BENCH_WINDOW_SECONDS)`, u[i].cpuPerGB / l[i].cpuPerGB);
      lines.push(`N=${ns[i]}: Usher CPU per delivered GB / live555's = ${ratio.toFixed(2)} (${ratio <= 1 ? 'Usher uses less or equal' : 'Usher uses more'})`);
    }
  }
  log(lines.join('\n'));
}

runBench('bench:rtsp', main, killChildren);
