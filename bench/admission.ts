/**
 * npm run bench:admission — admissions over HTTP (signed-URL token, limit check, durable SQLite write) at 256
 * connections, side by side with a bare node:http server measured in the same run (runs alternate, three each,
 * medians reported); then a fixed offered rate. Prints figures and ratios; it asserts nothing about them, but a
 * figure it could not measure (a failed probe admission, a load tool without a report, more than 1 % errors) stops
 * it with the reason and exit status 1.
 *
 * Load: wrk (Debian package `wrk`) when installed — it leaves the CPU to the servers — else autocannon, which
 * costs more CPU itself and so understates the bare baseline (the ratio then looks better than it is).
 * Env: BENCH_SECONDS (8), BENCH_ROUNDS (3), BENCH_CONNECTIONS (256), BENCH_RATE (5000), BENCH_SYNCHRONOUS (full),
 * BENCH_LOAD (wrk | autocannon; default wrk when installed).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchError, figure, runBench } from './lib/check.js';
import { cannonLoad, openLoop, wrkLoad, type Load } from './lib/load.js';
import { directBreakdown } from './lib/pipeline-direct.js';
import { cpuSeconds, freePort, killChildren, rssMiB, startNode, stop, waitHttp } from './lib/proc.js';
import { hasTool, INSTALL } from './lib/tools.js';
import { writeBodies } from './lib/wrk-bodies.js';

const HERE = dirname(fileURLToPath(import.meta.url)); // dist/bench
const ROOT = resolve(HERE, '..', '..');
const LUA = join(ROOT, 'bench', 'lib', 'admission.lua');
const SECRET = 'bench-secret';
const N_BODIES = 400_000;
/** More errors or non-2xx answers than this share of the requests and the run measured something else. */
const MAX_ERROR_SHARE = 0.01;

function envNumber(name: string, dflt: number, min: number): number {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isFinite(v) || v < min) throw new BenchError(`${name} must be a number ≥ ${min}, not "${process.env[name]}"`);
  return v;
}

interface Result extends Load { cpuPerReqUs: number; rss: number }
interface Server { url: string; pid: number; stop: () => Promise<void> }

/**
 * Every figure of one run checked: a number, requests answered, errors within MAX_ERROR_SHARE. At a fixed offered
 * rate, requests left unanswered are part of the figure (`unansweredCounts`); non-2xx answers never are.
 */
function checked(name: string, r: Result, unansweredCounts: boolean): Result {
  figure(`${name} req/s`, r.rps, Number.MIN_VALUE);
  figure(`${name} p50 latency`, r.p50);
  figure(`${name} p99 latency`, r.p99);
  figure(`${name} CPU per request`, r.cpuPerReqUs);
  const bad = (unansweredCounts ? 0 : r.errors) + r.non2xx;
  if (bad > MAX_ERROR_SHARE * Math.max(r.requests, 1)) {
    throw new BenchError(`${name}: ${r.errors} socket errors and ${r.non2xx} non-2xx answers out of ${r.requests} requests: the figures would not be admissions`);
  }
  return r;
}

async function measure(name: string, start: () => Promise<Server>, run: (url: string) => Promise<Load>, seconds: number, fixedRate = false): Promise<Result> {
  const s = await start();
  try {
    const cpu0 = cpuSeconds(s.pid);
    const r = await run(s.url);
    const cpu = cpuSeconds(s.pid) - cpu0;
    return checked(name, { ...r, cpuPerReqUs: (cpu / (r.rps * seconds)) * 1e6, rss: rssMiB(s.pid) }, fixedRate);
  } finally {
    await s.stop();
  }
}

/** One admission must be allowed before any load: else the bodies no longer match the API, and the answer says how. */
async function probe(url: string, body: string): Promise<void> {
  const r = await fetch(`${url}/v1/admission`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(10_000) });
  const text = await r.text();
  if (r.status !== 200 || !(JSON.parse(text) as { allow?: boolean }).allow) {
    throw new BenchError(`a probe admission was not allowed (HTTP ${r.status}: ${text.slice(0, 500)}); the bench's request no longer matches the API`);
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function main(): Promise<void> {
  const DURATION = envNumber('BENCH_SECONDS', 8, 1);
  const ROUNDS = Math.round(envNumber('BENCH_ROUNDS', 3, 1));
  const CONNECTIONS = Math.round(envNumber('BENCH_CONNECTIONS', 256, 1));
  const RATE = envNumber('BENCH_RATE', 5000, 1);
  const SYNC = process.env.BENCH_SYNCHRONOUS ?? 'full';
  const wanted = process.env.BENCH_LOAD;
  if (wanted !== undefined && wanted !== 'wrk' && wanted !== 'autocannon') throw new BenchError(`BENCH_LOAD must be wrk or autocannon, not "${wanted}"`);
  const wrkThere = hasTool('wrk', ['--version']);
  if (wanted === 'wrk' && !wrkThere) throw new BenchError(`BENCH_LOAD=wrk but wrk is not installed: ${INSTALL.wrk}`);
  const useWrk = wanted === undefined ? wrkThere : wanted === 'wrk';
  if (!useWrk && wanted === undefined) console.log(`wrk is not installed (${INSTALL.wrk}); using autocannon, which understates the bare baseline`);

  const dir = mkdtempSync(join(tmpdir(), 'usher-bench-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const bodiesFile = join(dir, 'bodies.txt');
  process.stdout.write(`preparing ${fmt(N_BODIES)} distinct signed admissions (each a new session; accounts limited to 3 screens)… `);
  writeBodies(bodiesFile, N_BODIES, SECRET);
  const bodies = readFileSync(bodiesFile, 'utf8').trimEnd().split('\n');
  // the warm-up's bodies: ones the measured runs will not reach first
  const warmFile = join(dir, 'warm-bodies.txt');
  writeFileSync(warmFile, `${bodies.slice(-5000).join('\n')}\n`);
  process.stdout.write('done\n');

  const bare = async (): Promise<Server> => {
    const port = await freePort();
    const p = startNode([join(HERE, 'lib', 'bare-server.js'), String(port)]);
    await waitHttp(`http://127.0.0.1:${port}/`, p);
    return { url: `http://127.0.0.1:${port}`, pid: p.pid!, stop: () => stop(p) };
  };
  let round = 0;
  const usher = async (): Promise<Server> => {
    const port = await freePort();
    const db = join(dir, `usher-${round++}.db`);
    const p = startNode([join(ROOT, 'dist', 'src', 'cli', 'main.js'), 'serve'], {
      USHER_HTTP_LISTEN: `127.0.0.1:${port}`, USHER_STORE_PATH: db, USHER_STORE_SYNCHRONOUS: SYNC,
      USHER_AUTH_SIGNED_URLS_SECRET: SECRET, USHER_RTSP_ENABLED: 'false', USHER_SESSIONS_TIMEOUT_SECONDS: '3600',
      USHER_PLANS: JSON.stringify({ default: { maxSessions: 0 }, std: { maxSessions: 3 } }), USHER_LOG_LEVEL: 'warn',
    });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitHttp(`${url}/healthz`, p);
      await probe(url, bodies[bodies.length - 1]);
      // warm-up (JIT)
      if (useWrk) await wrkLoad(url, LUA, warmFile, 32, 1);
      else await cannonLoad(url, bodies.slice(-5000), { connections: 32, duration: 1 });
    } catch (e) {
      await stop(p);
      throw e;
    }
    return { url, pid: p.pid!, stop: () => stop(p) };
  };

  const load = (url: string): Promise<Load> =>
    useWrk ? wrkLoad(url, LUA, bodiesFile, CONNECTIONS, DURATION) : cannonLoad(url, bodies, { connections: CONNECTIONS, duration: DURATION });
  const B: Result[] = [];
  const U: Result[] = [];
  for (let k = 0; k < ROUNDS; k++) {
    B.push(await measure('bare node:http', bare, load, DURATION));
    U.push(await measure('usher', usher, load, DURATION));
  }
  const openloop = join(HERE, 'lib', 'openloop.js');
  const fixed = async (url: string): Promise<Load> => {
    await openLoop(openloop, url, bodiesFile, RATE, 3); // warm-up at the same rate
    return openLoop(openloop, url, bodiesFile, RATE, DURATION);
  };
  const fixedBare = await measure('bare node:http at a fixed rate', bare, fixed, DURATION, true);
  const fixedUsher = await measure('usher at a fixed rate', usher, fixed, DURATION, true);
  const direct = await directBreakdown(dir);
  figure('pipeline CPU per admission (memory store)', direct.memory);
  figure('pipeline CPU per admission (SQLite store)', direct.sqlite);

  const row = (name: string, rs: Result[]): void => {
    console.log(`| ${name} | ${fmt(median(rs.map((r) => r.rps)))} (${rs.map((r) => fmt(r.rps)).join(', ')}) | ${fmt(median(rs.map((r) => r.p50)), 1)} | ${fmt(median(rs.map((r) => r.p99)), 1)} | ${rs.reduce((a, r) => a + r.errors + r.non2xx, 0)} | ${fmt(median(rs.map((r) => r.cpuPerReqUs)), 0)} | ${fmt(median(rs.map((r) => r.rss)))} |`);
  };
  console.log(`\nadmission bench — ${useWrk ? 'wrk' : 'autocannon'}, ${CONNECTIONS} connections, ${DURATION}s × ${ROUNDS} alternating rounds, SQLite synchronous=${SYNC}, node ${process.version}`);
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

runBench('bench:admission', main, killChildren);
