/**
 * Prometheus exposition (text format 0.0.4). Counters are fed by registry events and the pipeline's counters;
 * gauges are read from the registry when scraped, so nothing is polled on a hot path.
 */
import type { AdmissionPipeline } from './core/pipeline.js';
import type { Registry } from './core/registry.js';
import type { SessionEvent } from './core/types.js';

export interface CommitStats {
  batches: number;
  ops: number;
}

export class Metrics {
  private readonly events: Record<SessionEvent['type'], number> = {
    'session.started': 0, 'session.ended': 0, 'session.killed': 0, 'session.denied': 0,
  };
  private readonly started = Date.now();
  httpRequests = 0;

  constructor(
    private readonly registry: Registry,
    private readonly pipeline: AdmissionPipeline,
    private readonly commits: () => CommitStats | undefined,
  ) {
    registry.onEvent((e) => {
      this.events[e.type]++;
    });
  }

  render(): string {
    const out: string[] = [];
    // counters kept up to date as sessions change: a scrape must not walk a million sessions
    const counts = this.registry.counts();
    const gauge = (name: string, help: string, rows: Array<[string, number]>): void => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
      for (const [labels, v] of rows) out.push(`${name}${labels} ${v}`);
    };
    const counter = (name: string, help: string, rows: Array<[string, number]>): void => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [labels, v] of rows) out.push(`${name}${labels} ${v}`);
    };
    gauge('usher_sessions_live', 'Live sessions by kind.', Object.entries(counts.byKind).map(([k, v]) => [`{kind="${k}"}`, v]));
    gauge('usher_sessions_killing', 'Sessions whose kick a server has not confirmed yet.', [['', counts.killing]]);
    gauge('usher_streams_live', 'Streams with at least one live session.', [['', counts.streams]]);
    gauge('usher_denied_keys', 'Session keys in denied memory.', [['', counts.deniedKeys]]);
    counter('usher_session_events_total', 'Session events by type.', Object.entries(this.events).map(([k, v]) => [`{type="${k}"}`, v]));
    const c = this.pipeline.counters;
    counter('usher_admissions_total', 'Admission decisions.', [['{result="allowed"}', c.allowed], ['{result="joined"}', c.joined]]);
    counter('usher_admission_denials_total', 'Admission denials by code.', Object.entries(c.denied).map(([k, v]) => [`{code="${k}"}`, v ?? 0]));
    const commits = this.commits();
    if (commits) {
      counter('usher_store_commits_total', 'Store transactions committed (group commit batches).', [['', commits.batches]]);
      counter('usher_store_commit_ops_total', 'Store write operations committed.', [['', commits.ops]]);
    }
    counter('usher_http_requests_total', 'HTTP requests served.', [['', this.httpRequests]]);
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', [['', mem.rss]]);
    counter('process_cpu_seconds_total', 'User and system CPU time spent in seconds.', [['', (cpu.user + cpu.system) / 1e6]]);
    gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', [['', Math.floor(this.started / 1000)]]);
    return out.join('\n') + '\n';
  }
}
