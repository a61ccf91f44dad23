/**
 * SQLite store (better-sqlite3, WAL), run in a worker thread. Operations queue here; whenever no batch is in
 * flight, everything queued goes to the worker as one batch = one transaction = one fsync (group commit). So the
 * batch grows with the load, and an admission's promise resolves only after its COMMIT returned:
 * with `synchronous=FULL` (default) the WAL was fsynced; with `NORMAL` the data is in the OS (survives a
 * process crash, not a power loss). Operations run in the order they were called.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { AccountRecord, ConnRef, DeniedKey, PlanRecord, SessionEvent, SessionRecord } from '../core/types.js';
import type { EngineOp, SqliteOptions } from './sqlite-engine.js';
import { toParams, type AdmitRow } from './rows.js';
import type { FromWorker } from './sqlite-worker.js';
import type { AdmitOp, AdmitResult, LiveSessionRow, Page, SessionFilter, Store, StoreHealth } from './store.js';

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

export class SqliteStore implements Store {
  private worker: Worker | undefined;
  private queue: Pending[] = [];
  /** Batches sent and not answered yet, oldest first (the worker answers in order). */
  private inflight: Pending[][] = [];
  private scheduled = false;
  private closing: (() => void) | undefined;
  private failure: Error | undefined;
  /** Transactions committed and operations in them (metrics, bench). */
  readonly commitStats = { batches: 0, ops: 0 };

  constructor(private readonly opts: SqliteOptions) {}

  health(): StoreHealth {
    if (!this.worker) return { writable: false, error: this.failure?.message ?? 'store is closed' };
    return { writable: true, error: null };
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
            resolve();
            break;
          case 'failed':
            reject(new Error(m.message));
            void w.terminate();
            break;
          case 'results':
            this.settle(m.results);
            this.commitStats.batches = m.batches;
            this.commitStats.ops = m.ops;
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

  private call<T>(method: string, args: unknown[]): Promise<T> {
    if (!this.worker) return Promise.reject(this.failure ?? new Error('store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ op: [method, args], resolve: resolve as (v: unknown) => void, reject });
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

  private settle(results: Array<{ ok: true; v: unknown } | { ok: false; message: string }>): void {
    const batch = this.inflight.shift() ?? [];
    // what queued up while this batch was committing is the next batch
    if (this.queue.length) this.send();
    for (let i = 0; i < batch.length; i++) {
      const r = results[i];
      if (r.ok) batch[i].resolve(r.v);
      else batch[i].reject(new Error(r.message));
    }
  }

  /** The worker is gone: everything waiting fails now, and every later call fails at once (never hangs). */
  private dead(e: Error): void {
    this.worker = undefined;
    this.failure = e;
    for (const p of [...this.inflight.flat(), ...this.queue]) p.reject(e);
    this.inflight = [];
    this.queue = [];
  }

  async admit(op: AdmitOp): Promise<AdmitResult> {
    const { conn, limits } = op;
    const row: AdmitRow = [
      toParams(op.session),
      conn && [conn.server, conn.clientId, conn.protocol],
      [limits.account, limits.maxSessions, limits.onLimit, limits.streamMaxViewers],
    ];
    const r = await this.call<AdmitResult | 1>('admitRow', [row]);
    return r === 1 ? { outcome: 'admitted', session: op.session, replaced: [] } : r;
  }
  recordDenied(session: SessionRecord): Promise<void> {
    return this.call('recordDenied', [session]);
  }
  setStatus(id: string, status: 'killing' | 'ended' | 'killed', reason: string | null, at: number): Promise<SessionRecord | undefined> {
    return this.call('setStatus', [id, status, reason, at]);
  }
  touch(ids: readonly string[], at: number): Promise<void> {
    return this.call('touch', [ids, at]);
  }
  addBytes(id: string, bytesIn: number, bytesOut: number): Promise<void> {
    return this.call('addBytes', [id, bytesIn, bytesOut]);
  }
  attach(id: string, conn: ConnRef): Promise<void> {
    return this.call('attach', [id, conn]);
  }
  detach(conn: Pick<ConnRef, 'server' | 'clientId'>): Promise<void> {
    return this.call('detach', [{ server: conn.server, clientId: conn.clientId }]);
  }
  get(id: string): Promise<SessionRecord | undefined> {
    return this.call('get', [id]);
  }
  list(filter: SessionFilter, page: Page): Promise<{ items: SessionRecord[]; total: number }> {
    return this.call('list', [filter, page]);
  }
  listLive(): Promise<LiveSessionRow[]> {
    return this.call('listLive', []);
  }
  pruneHistory(before: number): Promise<number> {
    return this.call('pruneHistory', [before]);
  }
  getAccount(id: string): Promise<AccountRecord | undefined> {
    return this.call('getAccount', [id]);
  }
  putAccount(a: AccountRecord): Promise<void> {
    return this.call('putAccount', [a]);
  }
  listAccounts(): Promise<AccountRecord[]> {
    return this.call('listAccounts', []);
  }
  getPlan(name: string): Promise<PlanRecord | undefined> {
    return this.call('getPlan', [name]);
  }
  putPlan(p: PlanRecord): Promise<void> {
    return this.call('putPlan', [p]);
  }
  listPlans(): Promise<PlanRecord[]> {
    return this.call('listPlans', []);
  }
  putDenied(d: DeniedKey): Promise<void> {
    return this.call('putDenied', [d]);
  }
  listDenied(now: number): Promise<DeniedKey[]> {
    return this.call('listDenied', [now]);
  }
  clearDenied(key?: string): Promise<number> {
    return this.call('clearDenied', [key]);
  }
  pruneDenied(now: number): Promise<number> {
    return this.call('pruneDenied', [now]);
  }
  listEvents(afterSeq: number, limit: number): Promise<Array<SessionEvent & { seq: number }>> {
    return this.call('listEvents', [afterSeq, limit]);
  }
}
