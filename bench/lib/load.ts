/**
 * Load generators for the admission bench, each returning the same figures: wrk (Debian package `wrk`; leaves the
 * CPU to the servers), autocannon (the devDependency; costs more CPU itself, so it understates a fast baseline) and
 * the open-loop generator (./openloop.ts, its own process).
 */
import type AutocannonModule from 'autocannon';
import { spawn } from 'node:child_process';
import { BenchError, tail } from './check.js';
import { INSTALL } from './tools.js';

export interface Load {
  /** Answered requests per second. */
  rps: number;
  /** Latency percentiles, ms. */
  p50: number;
  p99: number;
  /** Requests answered (any status). */
  requests: number;
  /** Connect/read/write errors and timeouts. */
  errors: number;
  /** Answers with a status outside 2xx (wrk counts 3xx as fine too). */
  non2xx: number;
}

/**
 * Figures from wrk's `--latency` report (wrk's src/wrk.c print_stats_latency / main: "  50%  516.00us",
 * "8355 requests in 1.01s", "Socket errors: connect 0, read 0, write 0, timeout 0", "Non-2xx or 3xx responses: N",
 * "Requests/sec:   8246.62"). Missing figures are NaN (the caller checks them).
 */
export function parseWrk(out: string): Load {
  const num = (re: RegExp): number => Number(re.exec(out)?.[1] ?? NaN);
  const ms = (re: RegExp): number => {
    const m = re.exec(out);
    if (!m) return NaN;
    const v = Number(m[1]);
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
  };
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50: ms(/^\s+50%\s+([\d.]+)(us|ms|s)/m),
    p99: ms(/^\s+99%\s+([\d.]+)(us|ms|s)/m),
    requests: num(/^\s*(\d+) requests in /m),
    errors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/) || 0,
  };
}

/** wrk POSTing the bodies in `bodiesFile` (one per line) through `lua` to `url`/v1/admission. */
export function wrkLoad(url: string, lua: string, bodiesFile: string, connections: number, seconds: number): Promise<Load> {
  return new Promise((res, rej) => {
    const p = spawn('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', lua, url], { env: { ...process.env, BODIES: bodiesFile } });
    let out = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (out += c.toString()));
    p.on('error', (e) => rej(new BenchError(`wrk could not run (${e.message}): ${INSTALL.wrk}`)));
    p.on('close', (code) => {
      const r = parseWrk(out);
      if (code !== 0 || !Number.isFinite(r.rps)) rej(new BenchError(`wrk exited with ${code} without a report:\n${tail(out)}`));
      else res(r);
    });
  });
}

type Autocannon = typeof AutocannonModule;
let cannon: Autocannon | undefined;

/** autocannon, loaded on first use so that a clone without devDependencies still runs with wrk. */
async function autocannon(): Promise<Autocannon> {
  if (!cannon) {
    try {
      cannon = (await import('autocannon')).default;
    } catch (e) {
      throw new BenchError(`autocannon could not be loaded (${(e as Error).message}): ${INSTALL.node_modules}, or install wrk (${INSTALL.wrk})`);
    }
  }
  return cannon;
}

/** autocannon POSTing `bodies` in turn (from a random start) to `url`/v1/admission. */
export async function cannonLoad(url: string, bodies: string[], o: { connections: number; overallRate?: number; duration: number }): Promise<Load> {
  let i = Math.floor(Math.random() * bodies.length);
  const r = await (await autocannon())({
    url: `${url}/v1/admission`, method: 'POST', headers: { 'content-type': 'application/json' },
    connections: o.connections, overallRate: o.overallRate, duration: o.duration,
    requests: [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, body: bodies[i++ % bodies.length] }) }],
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, requests: r.requests.total, errors: r.errors + r.timeouts, non2xx: r.non2xx };
}

/** The open-loop generator (`script` = dist/bench/lib/openloop.js) in its own process, so its CPU is not the servers'. */
export function openLoop(script: string, url: string, bodiesFile: string, rate: number, seconds: number, connections = 64): Promise<Load> {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, [script, url, '/v1/admission', bodiesFile, String(rate), String(seconds), String(connections)]);
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.on('error', rej);
    p.on('close', (code) => {
      try {
        const r = JSON.parse(out.trim().split('\n').pop() ?? '') as { done: number; seconds: number; errors: number; non2xx: number; p50: number; p99: number };
        res({ rps: r.done / r.seconds, p50: r.p50, p99: r.p99, requests: r.done, errors: r.errors, non2xx: r.non2xx });
      } catch {
        rej(new BenchError(`the open-loop generator exited with ${code} without a report:\n${tail(out + err)}`));
      }
    });
  });
}
