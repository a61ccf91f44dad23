/**
 * npm run bench:registry — 1,000,000 tracked sessions: the registry's live index (connections and timers) and the
 * store's admission state (keys, screens, viewers: what admission decides on; in the SQLite store's worker thread),
 * their resident memory, and the time of one timeout sweep (the sessions whose last sign of life is one second old,
 * found and taken out of the index), next to the baseline measured in the same run: a plain scan of every session for
 * its deadline. Prints figures; asserts nothing about them, but a figure it could not measure (not a number, or a
 * sweep that found nothing due) stops it with exit status 1.
 * Env: BENCH_SESSIONS (1,000,000).
 */
import { LiveIndex } from '../src/core/live-index.js';
import { AdmissionState } from '../src/store/admission-state.js';
import { uuidv7 } from '../src/core/ids.js';
import { BenchError, figure, runBench } from './lib/check.js';

const N = Number(process.env.BENCH_SESSIONS ?? 1_000_000);
const TIMEOUT_MS = 15_000;
const gc = (globalThis as { gc?: () => void }).gc;
const mib = (b: number): string => (b / 1048576).toFixed(0);

function settle(): NodeJS.MemoryUsage {
  gc?.();
  gc?.();
  return process.memoryUsage();
}

async function main(): Promise<void> {
  if (!Number.isInteger(N) || N < 3000) throw new BenchError(`BENCH_SESSIONS must be an integer ≥ 3000, not "${process.env.BENCH_SESSIONS}"`);
  if (!gc) console.log('(run with --expose-gc for exact memory figures: npm run bench:registry does)');
  const before = settle();
  const idx = new LiveIndex(TIMEOUT_MS);
  const t0 = Date.now();
  const base = t0 - TIMEOUT_MS; // last heartbeats spread over the past 15 s: one fifteenth is due each second
  let t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    const lastSeen = base + (Math.floor(i / 3) % 15) * 1000 + 500;
    const server = i % 3 === 0 ? 'builtin' : i % 3 === 1 ? 'edge1' : 'api';
    const conns = server === 'api' ? [] : [{ server, clientId: String(i), protocol: server === 'builtin' ? 'rtsp' : 'rtmp' }];
    idx.add({ id: uuidv7(lastSeen), kind: 'viewer', server, lastSeen, expiresAt: null, status: 'active' }, conns);
  }
  const addNs = Number(process.hrtime.bigint() - t);
  const after = settle();
  const perSession = (after.heapUsed - before.heapUsed) / N;

  // The store's side of the same sessions: 1,000 streams, 200,000 accounts with devices, every session holding a slot.
  const state = new AdmissionState();
  t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    state.add({ id: uuidv7(base), key: `k${i}`, kind: 'viewer', stream: `live/channel${i % 1000}`, server: 'edge1', device: `d${i % 3}`, account: `acct${i % 200_000}`, counted: true }, 1);
  }
  const stateNs = Number(process.hrtime.bigint() - t);
  const withState = settle();
  const statePerSession = (withState.heapUsed - after.heapUsed) / N;

  // The moment the oldest second of heartbeat-only sessions (lastSeen = base + 500) has timed out, and no other.
  const sweepAt = Math.ceil((base + 500 + TIMEOUT_MS) / 1000) * 1000;

  // Baseline: what a sweep costs without time buckets — look at every session.
  t = process.hrtime.bigint();
  let dueScan = 0;
  for (const s of idx.sessions()) if (s.conns === null && s.lastSeen + TIMEOUT_MS <= sweepAt + 1000 && s.lastSeen + TIMEOUT_MS > sweepAt) dueScan++;
  const scanMs = Number(process.hrtime.bigint() - t) / 1e6;

  // Steady state: the server sweeps every second, so the path is warm. The first second's sweep warms it up;
  // the next second's sweep is the one measured.
  const warm = idx.sweep(sweepAt);
  for (const d of warm) idx.remove(d.session);
  settle();
  // ten consecutive seconds, each with its share of sessions due: median = the sweep's own cost, max = with a GC pause
  const times: number[] = [];
  let due: unknown[] = [];
  for (let k = 1; k <= 10; k++) {
    t = process.hrtime.bigint();
    const found = idx.sweep(sweepAt + k * 1000);
    // the registry takes each out once its end is recorded (the store's write is not part of this figure)
    for (const d of found) idx.remove(d.session);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
    due = found;
  }
  const sorted = [...times].sort((a, b) => a - b);
  const sweepMs = sorted[4];
  const maxMs = sorted[9];
  t = process.hrtime.bigint();
  const none = idx.sweep(sweepAt + 10 * 1000 + 10);
  const idleUs = Number(process.hrtime.bigint() - t) / 1e3;

  if (due.length === 0 || dueScan === 0) throw new BenchError(`the sweeps found no session due (sweep: ${due.length}, scan: ${dueScan}): the bench's clock arithmetic no longer matches the index`);
  for (const [name, v] of [['RSS', withState.rss], ['heap used by the index', after.heapUsed - before.heapUsed],
    ['heap used by the admission state', withState.heapUsed - after.heapUsed], ['add time', addNs], ['admission state add time', stateNs],
    ['sweep time', sweepMs], ['max sweep time', maxMs], ['scan time', scanMs]] as const) {
    figure(name, v, Number.MIN_VALUE);
  }
  figure('idle sweep time', idleUs);
  console.log(`registry bench — ${N.toLocaleString('en-US')} live sessions (1,000 streams, 200,000 accounts; 1/3 held by RTSP, 1/3 by an RTMP edge, 1/3 on heartbeats), node ${process.version}`);
  console.log('| figure | value |');
  console.log('|---|---:|');
  console.log(`| RSS with ${N.toLocaleString('en-US')} sessions, index and admission state | ${mib(withState.rss)} MiB (target ≤ 1024) |`);
  console.log(`| heap used by the registry's live index | ${mib(after.heapUsed - before.heapUsed)} MiB (${perSession.toFixed(0)} bytes/session) |`);
  console.log(`| heap used by the store's admission state | ${mib(withState.heapUsed - after.heapUsed)} MiB (${statePerSession.toFixed(0)} bytes/session) |`);
  console.log(`| add to the index / to the admission state | ${(addNs / N / 1000).toFixed(2)} / ${(stateNs / N / 1000).toFixed(2)} µs/session |`);
  console.log(`| one timeout sweep, ${due.length.toLocaleString('en-US')} sessions due and removed: median of 10 (max) | ${sweepMs.toFixed(1)} ms (${maxMs.toFixed(1)} ms) (target ≤ 50) |`);
  console.log(`| sweep with nothing due | ${idleUs.toFixed(0)} µs |`);
  console.log(`| baseline: scan all sessions for deadlines (found ${dueScan.toLocaleString('en-US')}) | ${scanMs.toFixed(1)} ms |`);
  console.log(`\nsweep / full-scan time ratio: ${(sweepMs / scanMs).toFixed(2)}; warm-up sweep removed ${warm.length.toLocaleString('en-US')}; remaining live: ${idx.size.toLocaleString('en-US')}; admission state: ${state.size.toLocaleString('en-US')}${none.length ? ' (unexpected extra due: ' + none.length + ')' : ''}`);
}

runBench('bench:registry', main);
