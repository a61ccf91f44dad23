/**
 * Group commit: write operations that arrive in the same turn of the event loop run in ONE transaction,
 * so one fsync makes a whole batch of admissions durable. Each operation's promise resolves only after
 * the COMMIT returned, i.e. after the data is on disk (under the database's `synchronous` setting).
 */
import type { Database } from 'better-sqlite3';

interface Pending {
  run: () => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class GroupCommitter {
  private queue: Pending[] = [];
  private scheduled = false;
  /** Batches committed and operations in them (for metrics and the bench). */
  batches = 0;
  ops = 0;

  constructor(private readonly db: Database, private readonly maxBatch = 4096) {}

  enqueue<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (v: unknown) => void, reject });
      if (this.queue.length >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        // setImmediate runs after the current poll phase, so every request read in this turn joins the batch.
        setImmediate(() => this.flush());
      }
    });
  }

  /** Run everything queued now, in one transaction. */
  flush(): void {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    const results: unknown[] = new Array(batch.length);
    try {
      this.db.transaction(() => {
        for (let i = 0; i < batch.length; i++) results[i] = batch[i].run();
      })();
    } catch {
      // One operation failed and rolled the batch back: run each alone so the others still land.
      this.runAlone(batch);
      return;
    }
    this.batches++;
    this.ops += batch.length;
    for (let i = 0; i < batch.length; i++) batch[i].resolve(results[i]);
  }

  private runAlone(batch: Pending[]): void {
    for (const p of batch) {
      try {
        const r = this.db.transaction(p.run)();
        this.batches++;
        this.ops++;
        p.resolve(r);
      } catch (e) {
        p.reject(e);
      }
    }
  }
}
