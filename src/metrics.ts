/**
 * Prometheus metrics (prom-client, text format 0.0.4), in a registry of this instance's own (no global state).
 * Counters are fed by registry events and read from the pipeline's counters; gauges read registry.counts() (O(1))
 * when scraped: nothing walks sessions, nothing is polled on a hot path.
 */
import { Counter, Gauge, Registry as PromRegistry, collectDefaultMetrics } from 'prom-client';
import type { AdmissionPipeline } from './core/pipeline.js';
import type { Registry } from './core/registry.js';
import { KINDS, type SessionEventType } from './core/types.js';

export interface CommitStats {
  batches: number;
  ops: number;
}

const EVENT_TYPES: readonly SessionEventType[] = ['session.started', 'session.ended', 'session.killed', 'session.denied'];

export class Metrics {
  /** HTTP requests served; counted by the HTTP server as each arrives (a field: cheaper than a labelled counter). */
  httpRequests = 0;
  private readonly prom = new PromRegistry();

  constructor(registry: Registry, pipeline: AdmissionPipeline, commits: () => CommitStats | undefined) {
    const registers = [this.prom];
    const counts = (): ReturnType<Registry['counts']> => registry.counts();
    new Gauge({
      name: 'usher_sessions_live', help: 'Live sessions by kind.', labelNames: ['kind'], registers,
      collect() {
        const c = counts();
        for (const k of KINDS) this.set({ kind: k }, c.byKind[k]);
      },
    });
    new Gauge({ name: 'usher_sessions_killing', help: 'Sessions whose kick a server has not confirmed yet.', registers, collect() { this.set(counts().killing); } });
    new Gauge({ name: 'usher_streams_live', help: 'Streams with at least one live session.', registers, collect() { this.set(counts().streams); } });
    new Gauge({ name: 'usher_denied_keys', help: 'Session keys in denied memory.', registers, collect() { this.set(counts().deniedKeys); } });

    const events = new Counter({ name: 'usher_session_events_total', help: 'Session events by type.', labelNames: ['type'], registers });
    for (const t of EVENT_TYPES) events.inc({ type: t }, 0);
    registry.onEvent((e) => events.inc({ type: e.type }));

    // Counters kept elsewhere (the pipeline's, the store's) are copied in at scrape time.
    const mirror = (c: Counter<string>, labels: Record<string, string>, v: number): void => {
      c.reset();
      c.inc(labels, v);
    };
    new Counter({
      name: 'usher_admissions_total', help: 'Admission decisions.', labelNames: ['result'], registers,
      collect() {
        this.reset();
        this.inc({ result: 'allowed' }, pipeline.counters.allowed);
        this.inc({ result: 'joined' }, pipeline.counters.joined);
      },
    });
    new Counter({
      name: 'usher_admission_denials_total', help: 'Admission denials by code.', labelNames: ['code'], registers,
      collect() {
        this.reset();
        for (const [code, v] of Object.entries(pipeline.counters.denied)) this.inc({ code }, v ?? 0);
      },
    });
    if (commits()) {
      new Counter({ name: 'usher_store_commits_total', help: 'Store transactions committed (group commit batches).', registers, collect() { mirror(this, {}, commits()?.batches ?? 0); } });
      new Counter({ name: 'usher_store_commit_ops_total', help: 'Store write operations committed.', registers, collect() { mirror(this, {}, commits()?.ops ?? 0); } });
    }
    const served = (): number => this.httpRequests;
    new Counter({ name: 'usher_http_requests_total', help: 'HTTP requests served.', registers, collect() { mirror(this, {}, served()); } });
    // process_cpu_seconds_total, process_resident_memory_bytes, process_start_time_seconds, nodejs_* (event loop lag, heap, GC)
    collectDefaultMetrics({ register: this.prom });
  }

  /** The exposition's content type (`text/plain; version=0.0.4; charset=utf-8`). */
  get contentType(): string {
    return this.prom.contentType;
  }

  /** The exposition text. */
  render(): Promise<string> {
    return this.prom.metrics();
  }
}
