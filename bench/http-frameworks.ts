/**
 * npm run bench:http — what the HTTP layer costs on the admission path, per candidate design, so the choice of
 * framework is measured rather than guessed. Three servers serve POST /v1/admission with the admission body shape
 * (bench/lib/http-fw-server.ts): (a) bare node:http doing JSON.parse only — the baseline, (b) fastify + TypeBox
 * (ajv-compiled validation, fast-json-stringify answer), (c) node:http + zod 4. wrk at 256 connections, rounds
 * alternating between the three (BENCH_ROUNDS, BENCH_SECONDS), each server a fresh process warmed up first.
 * Prints req/s, p50/p99, server CPU µs/request (from /proc) and each candidate's ratio to the baseline of the
 * same round; it asserts nothing, but a figure it could not measure stops it with exit status 1. Needs wrk (Debian
 * package `wrk`; named with its install command when missing).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { figure, runBench } from './lib/check.js';
import { wrkLoad, type Load } from './lib/load.js';
import { cpuSeconds, freePort, rssMiB, startNode, stop, waitHttp } from './lib/proc.js';
import { INSTALL, requireTool } from './lib/tools.js';
import { writeBodies } from './lib/wrk-bodies.js';

const HERE = dirname(fileURLToPath(import.meta.url)); // dist/bench: runs from any directory of a fresh clone
const LUA = join(resolve(HERE, '..', '..'), 'bench', 'lib', 'admission.lua');
const DURATION = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 256);
const MODES = [
  { mode: 'bare', name: 'bare node:http, JSON.parse only (baseline)' },
  { mode: 'fastify', name: 'fastify + TypeBox (ajv, fast-json-stringify)' },
  { mode: 'zod', name: 'node:http + zod 4' },
] as const;

interface Round { rps: number; p50: number; p99: number; bad: number; cpuUs: number; rss: number }

/** One wrk run (the admission bench's runner); errors and non-2xx answers are reported, not hidden. */
async function wrk(url: string, bodies: string, seconds: number): Promise<Omit<Round, 'cpuUs' | 'rss'>> {
  const r: Load = await wrkLoad(url, LUA, bodies, CONNECTIONS, seconds);
  return { rps: r.rps, p50: r.p50, p99: r.p99, bad: r.errors + r.non2xx };
}

async function round(mode: string, bodies: string): Promise<Round> {
  const port = await freePort();
  const p = startNode([join(HERE, 'lib', 'http-fw-server.js'), mode, String(port)]);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitHttp(`${url}/`, p);
    await wrk(url, bodies, 2); // warm-up: JIT, connection set-up
    const cpu0 = cpuSeconds(p.pid!);
    const r = await wrk(url, bodies, DURATION);
    const cpu = cpuSeconds(p.pid!) - cpu0;
    const cpuUs = figure(`${mode} CPU per request`, (cpu / (r.rps * DURATION)) * 1e6, Number.MIN_VALUE);
    figure(`${mode} req/s`, r.rps, Number.MIN_VALUE);
    return { ...r, cpuUs, rss: rssMiB(p.pid!) };
  } finally {
    await stop(p);
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function main(): Promise<void> {
  requireTool('wrk', ['--version'], INSTALL.wrk);
  const dir = mkdtempSync(join(tmpdir(), 'usher-bench-http-'));
  const bodies = join(dir, 'bodies.txt');
  writeBodies(bodies, 50_000, 'bench-secret');
  const results = new Map<string, Round[]>(MODES.map((m) => [m.mode, []]));
  try {
    for (let k = 0; k < ROUNDS; k++) {
      // alternate the order too, so no candidate always runs right after the same one
      const order = k % 2 === 0 ? MODES : [...MODES].reverse();
      for (const m of order) results.get(m.mode)!.push(await round(m.mode, bodies));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const base = results.get('bare')!;
  console.log(`\nHTTP frameworks on the admission body — wrk, ${CONNECTIONS} connections, ${DURATION}s × ${ROUNDS} alternating rounds, node ${process.version}`);
  console.log('| server | req/s median (each round) | p50 ms | p99 ms | errors+non-2xx | server CPU µs/req | RSS MiB | req/s ratio to bare (median; rounds) | CPU ratio to bare |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const m of MODES) {
    const rs = results.get(m.mode)!;
    const ratios = rs.map((r, i) => r.rps / base[i].rps);
    const cpuRatios = rs.map((r, i) => r.cpuUs / base[i].cpuUs);
    console.log(`| ${m.name} | ${fmt(median(rs.map((r) => r.rps)))} (${rs.map((r) => fmt(r.rps)).join(', ')}) | ${fmt(median(rs.map((r) => r.p50)), 1)} | ${fmt(median(rs.map((r) => r.p99)), 1)} | ${rs.reduce((a, r) => a + r.bad, 0)} | ${fmt(median(rs.map((r) => r.cpuUs)))} | ${fmt(median(rs.map((r) => r.rss)))} | ${fmt(median(ratios), 2)} (${ratios.map((r) => fmt(r, 2)).join(', ')}) | ${fmt(median(cpuRatios), 2)} |`);
  }
}

runBench('bench:http', main);
