/**
 * npm run bench:rtsp — the built-in RTSP server's fan-out: one publisher (~4 Mbps H.264, ffmpeg -re -c copy) and
 * N readers over TCP (N = 10, 50, 200; light RTP-over-TCP sinks in a child process), plus two real ffmpeg readers
 * that must decode frames. Usher runs as its own process (`usher serve`); its CPU (utime + stime from /proc) and
 * RSS are read over a fixed window per N, and over one window with the publisher alone (the fixed cost). With
 * LIVE555_PROXY and LIVE555_MEDIA set, the same readers attach to live555ProxyServer relaying live555MediaServer's
 * copy of the same file; the servers' windows alternate, and the table shows both side by side.
 * Prints figures; asserts nothing; exits 0.
 *
 * Env: BENCH_WINDOW_SECONDS (10), BENCH_READERS ("10,50,200"), BENCH_H264 (an Annex B .264 file; else
 * /work/live555-build/media/test.264 when present, else one is generated with ffmpeg), LIVE555_PROXY, LIVE555_MEDIA.
 */
import { spawn, fork, type ChildProcess } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signToken } from '../src/auth/signed-url.js';
import { cpuSeconds, freePort, rssMiB, sleep } from './lib/procfs.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const SINK = join(HERE, 'lib', 'rtsp-sink.js');
const WINDOW = Number(process.env.BENCH_WINDOW_SECONDS ?? 10);
const NS = (process.env.BENCH_READERS ?? '10,50,200').split(',').map(Number).filter((n) => n > 0);
const SECRET = 'bench-rtsp-secret';
const STREAM = 'live/bench';
const PREPARED = '/work/live555-build/media/test.264';

const children = new Set<ChildProcess>();
function track<T extends ChildProcess>(c: T): T {
  children.add(c);
  c.on('exit', () => children.delete(c));
  return c;
}
function killAll(): void {
  for (const c of children) c.kill('SIGKILL');
}
process.on('exit', killAll);
process.on('SIGINT', () => process.exit(130));

function log(s: string): void {
  process.stdout.write(`${s}\n`);
}

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { proc: ChildProcess; out: () => string } {
  const proc = track(spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  const keep = (c: Buffer): void => {
    out += c.toString();
    if (out.length > 100_000) out = out.slice(-50_000);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  return { proc, out: () => out };
}

async function waitUntil(what: string, fn: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if (await fn()) return;
    } catch {
      /* not yet */
    }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The H.264 elementary stream to publish: given, prepared, or generated (4 Mbps, 720p30, 60 s). */
async function sourceFile(dir: string): Promise<string> {
  const given = process.env.BENCH_H264 ?? (existsSync(PREPARED) ? PREPARED : undefined);
  if (given) return given;
  const out = join(dir, 'src.264');
  log('generating a 60 s 720p30 4 Mbps H.264 test stream with ffmpeg …');
  const g = run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-t', '60',
    '-c:v', 'libx264', '-preset', 'veryfast', '-g', '30', '-b:v', '4M', '-maxrate', '4M', '-bufsize', '2M',
    '-bsf:v', 'h264_mp4toannexb', '-f', 'h264', out]);
  const code = await new Promise<number | null>((r) => g.proc.on('exit', r));
  if (code !== 0) throw new Error(`ffmpeg could not generate the test stream: ${g.out()}`);
  return out;
}

/** live555MediaServer does not loop: it gets the file repeated, long enough for the whole run. */
async function repeated(src: string, to: string, times: number): Promise<void> {
  const out = createWriteStream(to);
  for (let i = 0; i < times; i++) {
    await new Promise<void>((res, rej) => {
      const input = createReadStream(src);
      input.on('error', rej);
      input.on('end', () => res());
      input.pipe(out, { end: false });
    });
  }
  await new Promise<void>((r) => out.end(() => r()));
}

async function ffmpegFrames(url: string, seconds: number): Promise<number> {
  const r = run('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-nostats', '-progress', 'pipe:1', '-rtsp_transport', 'tcp', '-i', url, '-t', String(seconds), '-f', 'null', '-']);
  await new Promise((res) => r.proc.on('exit', res));
  const all = [...r.out().matchAll(/^frame=(\d+)$/gm)];
  return all.length ? Number(all[all.length - 1][1]) : 0;
}

interface Figures {
  n: number;
  opened: number;
  stillOpen: number;
  mbps: number;
  cpu: number;
  cpuPerGB: number;
  rss: number;
}

function ask<T>(child: ChildProcess, msg: object): Promise<T> {
  return new Promise((res) => {
    child.once('message', (m) => res(m as T));
    child.send(msg);
  });
}

/** N sinks on the server at pid; figures over WINDOW seconds after a 2 s warm-up. */
async function measure(pid: number, urls: string[]): Promise<Figures> {
  if (!existsSync(`/proc/${pid}`)) throw new Error(`the server process ${pid} is gone`);
  const sink = track(fork(SINK, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const opened = await ask<{ opened: number; failed: number; firstError: string }>(sink, { cmd: 'open', urls });
  if (opened.failed > 0) log(`  ${opened.failed} of ${urls.length} sinks failed to open: ${opened.firstError}`);
  await sleep(3000); // warm-up: admissions written, sockets at steady state
  const c0 = cpuSeconds(pid);
  const b0 = (await ask<{ bytes: number }>(sink, { cmd: 'count' })).bytes;
  const t0 = performance.now();
  await sleep(WINDOW * 1000);
  const c1 = cpuSeconds(pid);
  const end = await ask<{ bytes: number; open: number }>(sink, { cmd: 'count' });
  const secs = (performance.now() - t0) / 1000;
  const rss = rssMiB(pid);
  sink.send({ cmd: 'close' });
  await new Promise((r) => sink.on('exit', r));
  await sleep(500);
  const bytes = end.bytes - b0;
  const cpu = c1 - c0;
  return { n: urls.length, opened: opened.opened, stillOpen: end.open, mbps: (bytes * 8) / secs / 1e6, cpu, cpuPerGB: bytes > 0 ? cpu / (bytes / 1e9) : NaN, rss };
}

function row(f: Figures): string {
  return `N=${String(f.n).padEnd(4)} readers ${f.stillOpen}/${f.opened}  delivered ${f.mbps.toFixed(1).padStart(7)} Mbps  CPU ${f.cpu.toFixed(2).padStart(6)} s  ${f.cpuPerGB.toFixed(2).padStart(6)} CPU-s/GB  RSS ${f.rss.toFixed(0).padStart(4)} MiB`;
}

interface Target {
  name: string;
  pid: number;
  urls(n: number): string[];
  stop(): Promise<void>;
}

async function startUsher(dir: string, src: string): Promise<Target> {
  const httpPort = await freePort();
  const rtspPort = await freePort();
  const env = {
    ...process.env,
    USHER_STORE_PATH: join(dir, 'usher.db'),
    USHER_HTTP_LISTEN: `127.0.0.1:${httpPort}`,
    USHER_RTSP_LISTEN: `127.0.0.1:${rtspPort}`,
    USHER_RTSP_UDP_PORTS: '43000-43099',
    USHER_AUTH_SIGNED_URLS_SECRET: SECRET,
    // sinks of one round are over (their sessions ended) before the next round's window
    USHER_SESSIONS_TIMEOUT_SECONDS: '2',
    USHER_LOG_LEVEL: 'warn',
  };
  // BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") is passed to Usher's node, for profiling.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  // Run through a link named `usher`, as the package's bin is installed.
  const bin = join(dir, 'usher');
  symlinkSync(CLI, bin);
  const usher = run(process.execPath, [...nodeArgs, bin, 'serve'], { env, cwd: dir });
  await waitUntil('usher to answer /healthz', async () => (await fetch(`http://127.0.0.1:${httpPort}/healthz`)).ok);
  const pid = usher.proc.pid!;
  await sleep(2000);
  const c0 = cpuSeconds(pid);
  await sleep(WINDOW * 1000);
  log(`  Usher              nothing published: CPU ${(cpuSeconds(pid) - c0).toFixed(2)} s in ${WINDOW} s (the process's own timers), RSS ${rssMiB(pid).toFixed(0)} MiB`);
  const base = `rtsp://127.0.0.1:${rtspPort}/${STREAM}`;
  const sign = (account: string, action: 'play' | 'publish'): string => signToken(SECRET, { stream: STREAM, account, action, ttlSeconds: 7200 });
  const pub = run('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-framerate', '30', '-i', src,
    '-c', 'copy', '-f', 'rtsp', '-rtsp_transport', 'tcp', `${base}?tkn=${sign('studio', 'publish')}`]);
  await waitUntil('the publisher to be admitted', async () => {
    const r = await fetch(`http://127.0.0.1:${httpPort}/v1/sessions?status=active&kind=input&server=builtin`);
    return ((await r.json()) as { total: number }).total === 1;
  });
  await sleep(2000);
  const frames = await Promise.all([ffmpegFrames(`${base}?tkn=${sign('ffmpeg-a', 'play')}`, 4), ffmpegFrames(`${base}?tkn=${sign('ffmpeg-b', 'play')}`, 4)]);
  log(`Usher: 2 ffmpeg readers decoded ${frames.join(' and ')} frames in 4 s (pid ${pid})`);
  let round = 0;
  return {
    name: 'Usher',
    pid,
    urls: (n) => {
      round++;
      return Array.from({ length: n }, (_, i) => `${base}?tkn=${sign(`bench-${round}-${i}`, 'play')}`);
    },
    async stop() {
      if (pub.proc.exitCode !== null) log(`  (the Usher publisher exited early: ${pub.out().slice(-500)})`);
      pub.proc.kill('SIGKILL');
      usher.proc.kill('SIGTERM');
      await new Promise((r) => usher.proc.on('exit', r));
    },
  };
}

async function startLive555(dir: string, src: string, mediaBin: string, proxyBin: string): Promise<Target> {
  const mediaDir = join(dir, 'live555-media');
  mkdirSync(mediaDir, { recursive: true });
  symlinkSync(src, join(mediaDir, 'test.264'));
  const media = run(mediaBin, [], { cwd: mediaDir });
  let mediaPort = 0;
  await waitUntil('live555MediaServer to print its URL', () => {
    const m = /rtsp:\/\/[^/\s:]+(?::(\d+))?\//.exec(media.out());
    if (m) mediaPort = m[1] ? Number(m[1]) : 554;
    return mediaPort > 0;
  }, 10_000);
  const proxyPort = await freePort();
  const proxy = run(proxyBin, ['-t', '-p', String(proxyPort), `rtsp://127.0.0.1:${mediaPort}/test.264`], { cwd: mediaDir });
  const url = `rtsp://127.0.0.1:${proxyPort}/proxyStream`;
  try {
    await waitUntil('live555ProxyServer to serve the stream', async () => (await ffmpegFrames(url, 1)) > 0, 30_000);
  } catch (e) {
    log(`live555MediaServer said:\n${media.out().slice(-1500)}\nlive555ProxyServer said:\n${proxy.out().slice(-1500)}`);
    throw e;
  }
  const pid = proxy.proc.pid!;
  const frames = await Promise.all([ffmpegFrames(url, 4), ffmpegFrames(url, 4)]);
  log(`live555: 2 ffmpeg readers decoded ${frames.join(' and ')} frames in 4 s (proxy pid ${pid})`);
  return {
    name: 'live555ProxyServer',
    pid,
    urls: (n) => Array.from({ length: n }, () => url),
    async stop() {
      proxy.proc.kill('SIGKILL');
      media.proc.kill('SIGKILL');
    },
  };
}

/** CPU of the relay with its publisher and no reader (the fixed cost), over one window. */
async function idleCpu(t: Target): Promise<number> {
  const c0 = cpuSeconds(t.pid);
  await sleep(WINDOW * 1000);
  return cpuSeconds(t.pid) - c0;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'usher-bench-rtsp-'));
  try {
    const one = await sourceFile(dir);
    const mbps = (statSync(one).size * 8) / 60 / 1e6;
    // Neither publisher loops the file (ffmpeg cannot seek back in a raw .264; live555MediaServer plays a file once):
    // both get the source repeated, long enough for the whole run.
    const seconds = NS.length * 2 * (WINDOW + 10) + 2 * WINDOW + 120;
    const times = Math.max(2, Math.ceil(seconds / 60));
    const src = join(dir, 'long.264');
    await repeated(one, src, times);
    log(`RTSP fan-out bench: source ${one} (~${mbps.toFixed(1)} Mbps if 60 s) repeated ${times}x, window ${WINDOW} s per N, N = ${NS.join(', ')}`);
    const targets: Target[] = [await startUsher(dir, src)];
    const mediaBin = process.env.LIVE555_MEDIA;
    const proxyBin = process.env.LIVE555_PROXY;
    if (mediaBin && proxyBin) targets.push(await startLive555(dir, src, mediaBin, proxyBin));
    else log('live555: skipped (set LIVE555_PROXY and LIVE555_MEDIA to compare)');

    // Windows alternate between the servers (publisher-only first, then each N), so background load on a shared
    // machine falls on both alike.
    const idle = new Map<string, number>();
    for (const t of targets) {
      idle.set(t.name, await idleCpu(t));
      log(`  ${t.name.padEnd(18)} publisher only: CPU ${idle.get(t.name)!.toFixed(2)} s in ${WINDOW} s, RSS ${rssMiB(t.pid).toFixed(0)} MiB`);
    }
    const results = new Map<string, Figures[]>(targets.map((t) => [t.name, []]));
    for (const n of NS) {
      for (const t of targets) {
        const f = await measure(t.pid, t.urls(n));
        results.get(t.name)!.push(f);
        log(`  ${t.name.padEnd(18)} ${row(f)}`);
      }
    }
    for (const t of targets) await t.stop();

    log('');
    log(`| N | server | readers open | delivered Mbps | CPU s in ${WINDOW} s | CPU s per delivered GB | CPU s per GB above publisher-only | RSS MiB |`);
    log('|---|---|---|---|---|---|---|---|');
    for (let i = 0; i < NS.length; i++) {
      for (const t of targets) {
        const f = results.get(t.name)![i];
        const marginal = (f.cpu - idle.get(t.name)!) / ((f.mbps * 1e6 * WINDOW) / 8 / 1e9);
        log(`| ${f.n} | ${t.name} | ${f.stillOpen}/${f.opened} | ${f.mbps.toFixed(1)} | ${f.cpu.toFixed(2)} | ${f.cpuPerGB.toFixed(2)} | ${marginal.toFixed(2)} | ${f.rss.toFixed(0)} |`);
      }
    }
    if (targets.length === 2) {
      log('');
      const [u, l] = [results.get('Usher')!, results.get('live555ProxyServer')!];
      for (let i = 0; i < NS.length; i++) {
        const ratio = u[i].cpuPerGB / l[i].cpuPerGB;
        log(`N=${NS[i]}: Usher CPU per delivered GB / live555's = ${ratio.toFixed(2)} (${ratio <= 1 ? 'Usher uses less or equal' : 'Usher uses more'})`);
      }
    }
  } finally {
    killAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench:rtsp failed: ${(e as Error).stack ?? String(e)}\n`);
    killAll();
    process.exit(0);
  },
);
