/**
 * The SQLite store's worker thread: owns the database connection, runs each batch the main thread sends in one
 * transaction (group commit), answers with the results. The main thread keeps serving requests meanwhile.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteEngine, type EngineOp, type EngineResult, type SqliteOptions } from './sqlite-engine.js';
import type { LiveSummary } from './store.js';

/** A batch's operations arrive as one JSON string (undefined arguments arrive as null). */
export type ToWorker = { type: 'batch'; json: string } | { type: 'close' };
export type FromWorker =
  | { type: 'ready'; summary: LiveSummary }
  | { type: 'failed'; message: string }
  /** `wrote`: the batch committed changes (a store that failed to write takes writes again). */
  | { type: 'results'; results: EngineResult[]; batches: number; ops: number; wrote: boolean; summary: LiveSummary }
  | { type: 'closed' };

const port = parentPort!;
const engine = new SqliteEngine(workerData as SqliteOptions);
try {
  engine.init();
  port.postMessage({ type: 'ready', summary: engine.summary() } satisfies FromWorker);
} catch (e) {
  port.postMessage({ type: 'failed', message: (e as Error).message } satisfies FromWorker);
}

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'batch') {
    const before = engine.totalChanges();
    const results = engine.runBatch(JSON.parse(msg.json) as EngineOp[]);
    const { batches, ops } = engine.commitStats;
    port.postMessage({ type: 'results', results, batches, ops, wrote: engine.totalChanges() > before, summary: engine.summary() } satisfies FromWorker);
  } else {
    engine.close();
    port.postMessage({ type: 'closed' } satisfies FromWorker);
  }
});
