/**
 * npm run bench:admission — admissions over HTTP (signed-URL token, limit check, durable SQLite write) at 256
 * connections, side by side with a bare node:http server measured in the same run; then a fixed offered rate.
 * Prints figures and ratios; it asserts nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { signToken } from '../src/auth/signed-url.js';
import { cpuSeconds, freePort, rssMiB, startNode, stop, waitHttp } from './lib/proc.js';

const SECRET = 'bench-secret';
const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 256);
const RATE = Number(process.env.BENCH_RATE ?? 5000);
const SYNC = process.env.BENCH_SYNCHRONOUS ?? 'full';

/** Distinct admissions: each body is a new session (new account/device), each account limited to 3 screens. */
function bodies(n: number): string[] {
  const out: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const stream = `bench/${i % 100}`;
    const token = signToken(SECRET, { stream, account: `acct${i >> 1}`, plan: 'std', device: `d${i}`, ttlSeconds: 3600 });
    out[i] = JSON.stringify({ action: 'play', stream, token, ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, protocol: 'hls' });
  }
  return out;
}

interface Result { rps: number; p50: number; p99: number; errors: number; non2xx: number; total: number; cpu: number; rss: number }

async function load(url: string, pid: number, reqBodies: string[], opts: { connections: number; overallRate?: number; duration: number }): Promise<Result> {
  let i = 0;
  const cpu0 = cpuSeconds(pid);
  const r = await autocannon({
    url: `${url}/v1/admission`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    connections: opts.connections,
    overallRate: opts.overallRate,
    duration: opts.duration,
    requests: [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, body: reqBodies[i++ % reqBodies.length] }) }],
  } as autocannon.Options);
  const cpu = cpuSeconds(pid) - cpu0;
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    total: r.requests.total,
    cpu,
    rss: rssMiB(pid),
  };
}

const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'usher-bench-'));
  const n = Math.ceil(DURATION * 60_000 + RATE * DURATION * 1.2);
  process.stdout.write(`preparing ${fmt(n)} distinct signed admissions… `);
  const reqBodies = bodies(n);
  process.stdout.write('done\n');

  // baseline: bare node:http
  const barePort = await freePort();
  const bare = startNode([resolve('dist/bench/lib/bare-server.js'), String(barePort)]);
  await waitHttp(`http://127.0.0.1:${barePort}/`, bare);
  await load(`http://127.0.0.1:${barePort}`, bare.pid!, reqBodies, { connections: CONNECTIONS, duration: 2 }); // warm-up
  const b = await load(`http://127.0.0.1:${barePort}`, bare.pid!, reqBodies, { connections: CONNECTIONS, duration: DURATION });
  await stop(bare);

  // Usher: real server process, SQLite on disk, WAL, synchronous as configured
  const port = await freePort();
  const usher = startNode([resolve('dist/src/cli/main.js'), 'serve'], {
    USHER_HTTP_LISTEN: `127.0.0.1:${port}`,
    USHER_STORE_PATH: join(dir, 'usher.db'),
    USHER_STORE_SYNCHRONOUS: SYNC,
    USHER_AUTH_SIGNED_URLS_SECRET: SECRET,
    USHER_RTSP_ENABLED: 'false',
    USHER_SESSIONS_TIMEOUT_SECONDS: '3600',
    USHER_PLANS: JSON.stringify({ default: { maxSessions: 0 }, std: { maxSessions: 3 } }),
    USHER_LOG_LEVEL: 'warn',
  });
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(`${url}/healthz`, usher);
  await load(url, usher.pid!, reqBodies.slice(-20_000), { connections: CONNECTIONS, duration: 2 }); // warm-up (JIT)
  const u = await load(url, usher.pid!, reqBodies, { connections: CONNECTIONS, duration: DURATION });
  const fixed = await load(url, usher.pid!, reqBodies.slice(n / 2), { connections: 64, overallRate: RATE, duration: DURATION });
  const metrics = await (await fetch(`${url}/metrics`)).text();
  await stop(usher);
  rmSync(dir, { recursive: true, force: true });

  const commits = Number(/^usher_store_commits_total (\d+)/m.exec(metrics)?.[1] ?? NaN);
  const ops = Number(/^usher_store_commit_ops_total (\d+)/m.exec(metrics)?.[1] ?? NaN);
  console.log(`\nadmission bench — ${CONNECTIONS} connections, ${DURATION}s each, SQLite synchronous=${SYNC}, node ${process.version}`);
  console.log('| server | req/s | p50 ms | p99 ms | errors | non-2xx | CPU s/10k req | RSS MiB |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  const row = (name: string, r: Result): void =>
    console.log(`| ${name} | ${fmt(r.rps)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${r.errors} | ${r.non2xx} | ${fmt((r.cpu / r.total) * 10_000, 3)} | ${fmt(r.rss)} |`);
  row('bare node:http (baseline)', b);
  row('usher POST /v1/admission', u);
  console.log(`\nthroughput ratio usher / bare: ${fmt(u.rps / b.rps, 2)}   (target ≥ 0.5)`);
  console.log(`group commit: ${fmt(ops)} writes in ${fmt(commits)} transactions (${fmt(ops / commits, 1)} per fsync)`);
  console.log(`\nfixed offered rate ${fmt(RATE)}/s (64 connections): achieved ${fmt(fixed.rps)}/s, p50 ${fmt(fixed.p50, 1)} ms, p99 ${fmt(fixed.p99, 1)} ms, errors ${fixed.errors}, non-2xx ${fixed.non2xx}   (target p99 ≤ 10 ms)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
