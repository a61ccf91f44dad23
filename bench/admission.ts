/**
 * npm run bench:admission — admissions over HTTP (signed-URL token, limit check, durable SQLite write) at 256
 * connections, side by side with a bare node:http server measured in the same run (runs alternate, three each,
 * medians reported); then a fixed offered rate. Prints figures and ratios; it asserts nothing.
 *
 * Load: wrk (Debian package `wrk`) when installed — it leaves the CPU to the servers — else autocannon, which
 * costs more CPU itself and so understates the bare baseline (the ratio then looks better than it is).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { cpuSeconds, freePort, rssMiB, startNode, stop, waitHttp } from './lib/proc.js';
import { directBreakdown } from './lib/pipeline-direct.js';
import { writeBodies } from './lib/wrk-bodies.js';

const SECRET = 'bench-secret';
const DURATION = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 256);
const RATE = Number(process.env.BENCH_RATE ?? 5000);
const SYNC = process.env.BENCH_SYNCHRONOUS ?? 'full';
const N_BODIES = 400_000;

const hasWrk = ((): boolean => {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (e) {
    return (e as { status?: number }).status === 1; // wrk --version exits 1 after printing
  }
})();

interface Result { rps: number; p50: number; p99: number; errors: number; non2xx: number; cpuPerReqUs: number; rss: number }

function wrkLoad(url: string, bodiesFile: string, duration: number): Promise<Omit<Result, 'cpuPerReqUs' | 'rss'>> {
  return new Promise((res, rej) => {
    const p = spawn('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${duration}s`, '--latency', '-s', resolve('bench/lib/admission.lua'), url], {
      env: { ...process.env, BODIES: bodiesFile },
    });
    let out = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.on('error', rej);
    p.on('close', () => {
      const num = (re: RegExp): number => Number(re.exec(out)?.[1] ?? NaN);
      const ms = (re: RegExp): number => {
        const m = re.exec(out);
        if (!m) return NaN;
        const v = Number(m[1]);
        return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
      };
      const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      res({
        rps: num(/Requests\/sec:\s+([\d.]+)/),
        p50: ms(/^\s+50%\s+([\d.]+)(us|ms|s)/m),
        p99: ms(/^\s+99%\s+([\d.]+)(us|ms|s)/m),
        errors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
        non2xx: num(/Non-2xx or 3xx responses: (\d+)/) || 0,
      });
    });
  });
}

async function cannonLoad(url: string, bodies: string[], o: { connections: number; overallRate?: number; duration: number }): Promise<Omit<Result, 'cpuPerReqUs' | 'rss'>> {
  let i = Math.floor(Math.random() * bodies.length);
  const r = await autocannon({
    url: `${url}/v1/admission`, method: 'POST', headers: { 'content-type': 'application/json' },
    connections: o.connections, overallRate: o.overallRate, duration: o.duration,
    requests: [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, body: bodies[i++ % bodies.length] }) }],
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts, non2xx: r.non2xx };
}

/** The open-loop generator in its own process, so its CPU is not the servers'. */
function openLoop(url: string, bodiesFile: string, seconds: number): Promise<Omit<Result, 'cpuPerReqUs' | 'rss'>> {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, [resolve('dist/bench/lib/openloop.js'), url, '/v1/admission', bodiesFile, String(RATE), String(seconds), '64']);
    let out = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.on('error', rej);
    p.on('close', () => {
      const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { done: number; seconds: number; errors: number; non2xx: number; p50: number; p99: number };
      res({ rps: r.done / r.seconds, p50: r.p50, p99: r.p99, errors: r.errors, non2xx: r.non2xx });
    });
  });
}

async function measure(start: () => Promise<{ url: string; pid: number; stop: () => Promise<void> }>, run: (url: string) => Promise<Omit<Result, 'cpuPerReqUs' | 'rss'>>): Promise<Result> {
  const s = await start();
  const cpu0 = cpuSeconds(s.pid);
  const r = await run(s.url);
  const cpu = cpuSeconds(s.pid) - cpu0;
  const rss = rssMiB(s.pid);
  await s.stop();
  return { ...r, cpuPerReqUs: (cpu / (r.rps * DURATION)) * 1e6, rss };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'usher-bench-'));
  const bodiesFile = join(dir, 'bodies.txt');
  process.stdout.write(`preparing ${fmt(N_BODIES)} distinct signed admissions (each a new session; accounts limited to 3 screens)… `);
  writeBodies(bodiesFile, N_BODIES, SECRET);
  const bodies = (await import('node:fs')).readFileSync(bodiesFile, 'utf8').trimEnd().split('\n');
  process.stdout.write('done\n');

  const bare = async (): Promise<{ url: string; pid: number; stop: () => Promise<void> }> => {
    const port = await freePort();
    const p = startNode([resolve('dist/bench/lib/bare-server.js'), String(port)]);
    await waitHttp(`http://127.0.0.1:${port}/`, p);
    return { url: `http://127.0.0.1:${port}`, pid: p.pid!, stop: () => stop(p) };
  };
  let round = 0;
  const usher = async (): Promise<{ url: string; pid: number; stop: () => Promise<void> }> => {
    const port = await freePort();
    const db = join(dir, `usher-${round++}.db`);
    const p = startNode([resolve('dist/src/cli/main.js'), 'serve'], {
      USHER_HTTP_LISTEN: `127.0.0.1:${port}`, USHER_STORE_PATH: db, USHER_STORE_SYNCHRONOUS: SYNC,
      USHER_AUTH_SIGNED_URLS_SECRET: SECRET, USHER_RTSP_ENABLED: 'false', USHER_SESSIONS_TIMEOUT_SECONDS: '3600',
      USHER_PLANS: JSON.stringify({ default: { maxSessions: 0 }, std: { maxSessions: 3 } }), USHER_LOG_LEVEL: 'warn',
    });
    const url = `http://127.0.0.1:${port}`;
    await waitHttp(`${url}/healthz`, p);
    // warm-up (JIT), on bodies the measured run will not reach first
    await cannonLoad(url, bodies.slice(-5000), { connections: 32, duration: 1 });
    return { url, pid: p.pid!, stop: () => stop(p) };
  };

  const load = (url: string): Promise<Omit<Result, 'cpuPerReqUs' | 'rss'>> =>
    hasWrk ? wrkLoad(url, bodiesFile, DURATION) : cannonLoad(url, bodies, { connections: CONNECTIONS, duration: DURATION });
  const B: Result[] = [];
  const U: Result[] = [];
  for (let k = 0; k < ROUNDS; k++) {
    B.push(await measure(bare, (url) => load(url)));
    U.push(await measure(usher, (url) => load(url)));
  }
  const fixed = async (url: string): Promise<Omit<Result, 'cpuPerReqUs' | 'rss'>> => {
    await openLoop(url, bodiesFile, 3); // warm-up at the same rate
    return openLoop(url, bodiesFile, DURATION);
  };
  const fixedBare = await measure(bare, fixed);
  const fixedUsher = await measure(usher, fixed);
  const direct = await directBreakdown(dir);
  rmSync(dir, { recursive: true, force: true });

  const row = (name: string, rs: Result[]): void => {
    console.log(`| ${name} | ${fmt(median(rs.map((r) => r.rps)))} (${rs.map((r) => fmt(r.rps)).join(', ')}) | ${fmt(median(rs.map((r) => r.p50)), 1)} | ${fmt(median(rs.map((r) => r.p99)), 1)} | ${rs.reduce((a, r) => a + r.errors + r.non2xx, 0)} | ${fmt(median(rs.map((r) => r.cpuPerReqUs)), 0)} | ${fmt(median(rs.map((r) => r.rss)))} |`);
  };
  console.log(`\nadmission bench — ${hasWrk ? 'wrk' : 'autocannon'}, ${CONNECTIONS} connections, ${DURATION}s × ${ROUNDS} alternating rounds, SQLite synchronous=${SYNC}, node ${process.version}`);
  console.log('| server | req/s median (each round) | p50 ms | p99 ms | errors+non-2xx | server CPU µs/req | RSS MiB |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  row('bare node:http (baseline)', B);
  row('usher POST /v1/admission', U);
  const ratios = U.map((u, i) => u.rps / B[i].rps);
  console.log(`\nthroughput ratio usher / bare: ${fmt(median(ratios), 2)} (rounds: ${ratios.map((r) => fmt(r, 2)).join(', ')})   target ≥ 0.5`);
  console.log(`\nfixed offered rate ${fmt(RATE)}/s, 64 connections, open loop (bench/lib/openloop.ts: latency from when each request was due; its 1 ms timer adds up to ~1 ms):`);
  console.log(`| server | achieved/s | p50 ms | p99 ms | errors+non-2xx |`);
  console.log('|---|---:|---:|---:|---:|');
  for (const [name, r] of [['bare node:http', fixedBare], ['usher POST /v1/admission', fixedUsher]] as const) {
    console.log(`| ${name} | ${fmt(r.rps)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${r.errors + r.non2xx} |`);
  }
  console.log(`target: usher p99 ≤ 10 ms at ${fmt(RATE)}/s`);
  console.log(`\nwhere an admission's CPU goes (process CPU per admission, this process, no HTTP):`);
  console.log(`| part | µs |`);
  console.log('|---|---:|');
  console.log(`| HTTP alone (the bare server, above) | ${fmt(median(B.map((r) => r.cpuPerReqUs)), 0)} |`);
  console.log(`| pipeline + registry, memory store (token HMAC, session key, rules, bookkeeping) | ${fmt(direct.memory, 1)} |`);
  console.log(`| pipeline + registry + SQLite store (worker thread, group commit, fsync) | ${fmt(direct.sqlite, 1)} |`);
  console.log(`| usher over HTTP (above) | ${fmt(median(U.map((r) => r.cpuPerReqUs)), 0)} |`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
