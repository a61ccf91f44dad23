/**
 * SQLite store (better-sqlite3, WAL), run in a worker thread. Operations queue here; whenever no batch is in
 * flight, everything queued goes to the worker as one batch = one transaction = one fsync (group commit). So the
 * batch grows with the load, and an admission's promise resolves only after its COMMIT returned:
 * with `synchronous=FULL` (default) the WAL was fsynced; with `NORMAL` the data is in the OS (survives a
 * process crash, not a power loss). Operations run in the order they were called.
 *
 * Calls are typed end to end: every method of the engine's port (`EngineApi`, which the compiler holds to the
 * LiveStore and RecordStore interfaces) becomes an async method here, generated from the engine's prototype — a
 * store method added to the interfaces and the engines appears here by itself.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { NOT_OPS, SqliteEngine, STORAGE_ERRORS, type EngineApi, type EngineMethod, type EngineOp, type EngineResult, type SqliteOptions } from './sqlite-engine.js';
import { toParams, type AdmitRow } from './rows.js';
import type { FromWorker } from './sqlite-worker.js';
import type { AdmitOp, AdmitResult, LiveSummary, Store, StoreHealth } from './store.js';

export type { SqliteOptions };

interface Pending {
  op: EngineOp;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/**
 * Batches the worker may hold at once. One keeps batches biggest (fewest fsyncs) but leaves the event loop idle
 * while the worker commits; two lets the next batch form and wait at the worker meanwhile.
 */
const MAX_IN_FLIGHT = 2;


/**
 * Start the worker: the compiled .js next to this file, or — when this file runs from TypeScript source (tests) —
 * the .ts worker through tsx's loader (a dev dependency; production always has the .js).
 */
function startWorker(opts: SqliteOptions): Worker {
  const js = new URL('./sqlite-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return new Worker(js, { workerData: opts });
  const ts = new URL('./sqlite-worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(ts)}); })`;
  return new Worker(boot, { eval: true, workerData: opts });
}

/** The engine's port as seen from this thread: the same methods, answering with promises. */
type Remote<T> = { [K in keyof T]: T[K] extends (...a: infer A) => infer R ? (...a: A) => Promise<R> : never };

// Declaration merging: the methods below are installed on each instance by the constructor.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface SqliteStore extends Omit<Remote<EngineApi>, 'admit' | 'admitRow'> {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class SqliteStore implements Store {
  private worker: Worker | undefined;
  private queue: Pending[] = [];
  /** Batches sent and not answered yet, oldest first (the worker answers in order). */
  private inflight: Pending[][] = [];
  private scheduled = false;
  private closing: (() => void) | undefined;
  private failure: Error | undefined;
  /** The last write failure that means "cannot write now" (full disk, I/O error); cleared by a batch that commits. */
  private storageError: string | null = null;
  private lastSummary: LiveSummary = { live: 0, streams: 0, accounts: 0 };
  private probing = false;
  private lastProbe = 0;
  /** Transactions committed and operations in them (metrics, bench). */
  readonly commitStats = { batches: 0, ops: 0 };

  constructor(private readonly opts: SqliteOptions) {
    for (const name of Object.getOwnPropertyNames(SqliteEngine.prototype)) {
      if (NOT_OPS.has(name) || name in this) continue;
      Object.defineProperty(this, name, { value: (...args: unknown[]) => this.call(name as EngineMethod, args as never) });
    }
  }

  init(): Promise<void> {
    const w = startWorker(this.opts);
    this.worker = w;
    return new Promise((resolve, reject) => {
      w.once('error', reject);
      w.on('message', (m: FromWorker) => {
        switch (m.type) {
          case 'ready':
            w.off('error', reject);
            w.on('error', (e) => this.dead(e));
            w.on('exit', (code) => {
              if (!this.closing) this.dead(new Error(`store worker exited (${code})`));
            });
            this.lastSummary = m.summary;
            resolve();
            break;
          case 'failed':
            reject(new Error(m.message));
            void w.terminate();
            break;
          case 'results':
            this.commitStats.batches = m.batches;
            this.commitStats.ops = m.ops;
            this.lastSummary = m.summary;
            this.settle(m.results, m.wrote);
            break;
          case 'closed':
            this.closing?.();
            break;
        }
      });
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    if (!w) return;
    while (this.worker && (this.inflight.length || this.queue.length)) await new Promise((r) => setTimeout(r, 1));
    if (!this.worker) return;
    await new Promise<void>((resolve) => {
      this.closing = resolve;
      w.postMessage({ type: 'close' });
    });
    await w.terminate();
    this.worker = undefined;
  }

  /**
   * Readiness. After a write failed for lack of room (or an I/O error), it stays false until a write commits again;
   * while it is false, a probe write goes out at most once a second, so readiness recovers when the disk does, even
   * with no traffic (a load balancer that routes on readiness sends none).
   */
  health(): StoreHealth {
    if (!this.worker) return { writable: false, error: this.failure?.message ?? 'store is closed' };
    if (this.storageError !== null && !this.probing && Date.now() - this.lastProbe >= 1000) {
      this.probing = true;
      this.lastProbe = Date.now();
      this.call('probe', [this.lastProbe]).catch(() => undefined).finally(() => (this.probing = false));
    }
    return { writable: this.storageError === null, error: this.storageError };
  }

  summary(): LiveSummary {
    return this.lastSummary;
  }

  private call<K extends EngineMethod>(method: K, args: Parameters<EngineApi[K]>): Promise<ReturnType<EngineApi[K]>> {
    if (!this.worker) return Promise.reject(this.failure ?? new Error('store is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ op: [method, args] as EngineOp, resolve: resolve as (v: unknown) => void, reject });
      if (this.inflight.length < MAX_IN_FLIGHT && !this.scheduled) {
        this.scheduled = true;
        // after this turn's I/O callbacks: every request read in this turn joins the batch
        setImmediate(() => this.send());
      }
    });
  }

  private send(): void {
    this.scheduled = false;
    if (this.inflight.length >= MAX_IN_FLIGHT || this.queue.length === 0 || !this.worker) return;
    const batch = this.queue;
    this.queue = [];
    this.inflight.push(batch);
    // one JSON string crosses the thread boundary: cheaper than structured-cloning hundreds of small arrays
    this.worker.postMessage({ type: 'batch', json: JSON.stringify(batch.map((p) => p.op)) });
  }

  private settle(results: EngineResult[], wrote: boolean): void {
    const batch = this.inflight.shift() ?? [];
    // what queued up while this batch was committing is the next batch
    if (this.queue.length) this.send();
    let storage: string | null = null;
    for (let i = 0; i < batch.length; i++) {
      const r = results[i];
      if (r.ok) {
        batch[i].resolve(r.v);
        continue;
      }
      if (r.code !== null && STORAGE_ERRORS.test(r.code)) storage = `${r.code}: ${r.message}`;
      batch[i].reject(Object.assign(new Error(r.message), { code: r.code, storage: storage !== null }));
    }
    // a batch that committed changes shows the disk takes writes again
    if (storage !== null) this.storageError = storage;
    else if (wrote) this.storageError = null;
  }

  /** The worker is gone: everything waiting fails now, and every later call fails at once (never hangs). */
  private dead(e: Error): void {
    this.worker = undefined;
    this.failure = e;
    for (const p of [...this.inflight.flat(), ...this.queue]) p.reject(e);
    this.inflight = [];
    this.queue = [];
  }

  /** The hot path: a flat row instead of an object crosses the thread boundary (measured: less JSON each way). */
  async admit(op: AdmitOp): Promise<AdmitResult> {
    const { conn, limits } = op;
    if (op.replace && op.replace.length > 0) return this.call('admit', [op]);
    const row: AdmitRow = [
      toParams(op.session),
      conn && [conn.server, conn.clientId, conn.protocol, conn.instance ?? null],
      [limits.account, limits.maxSessions, limits.onLimit, limits.streamMaxViewers, limits.busy, limits.maxConnections ?? null],
    ];
    const r = await this.call('admitRow', [row]);
    return r === 1 ? { outcome: 'admitted', session: op.session, replaced: [] } : r;
  }
}
