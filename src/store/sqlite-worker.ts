/**
 * The SQLite store's worker thread: owns the database connection, runs each batch the main thread sends in one
 * transaction (group commit), answers with the results. The main thread keeps serving requests meanwhile.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteEngine, type EngineOp, type SqliteOptions } from './sqlite-engine.js';

/** A batch's operations arrive as one JSON string (undefined arguments arrive as null). */
export type ToWorker = { type: 'batch'; json: string } | { type: 'close' };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'results'; results: ReturnType<SqliteEngine['runBatch']>; batches: number; ops: number }
  | { type: 'closed' };

const port = parentPort!;
const engine = new SqliteEngine(workerData as SqliteOptions);
try {
  engine.init();
  port.postMessage({ type: 'ready' } satisfies FromWorker);
} catch (e) {
  port.postMessage({ type: 'failed', message: (e as Error).message } satisfies FromWorker);
}

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'batch') {
    const results = engine.runBatch(JSON.parse(msg.json) as EngineOp[]);
    port.postMessage({ type: 'results', results, batches: engine.batches, ops: engine.ops } satisfies FromWorker);
  } else {
    engine.close();
    port.postMessage({ type: 'closed' } satisfies FromWorker);
  }
});
