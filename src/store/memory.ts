/**
 * In-memory store: same semantics as SQLite, nothing durable. For unit tests and `store.driver: memory`.
 */
import type { AccountRecord, ConnRef, DeniedKey, PlanRecord, SessionEvent, SessionEventType, SessionRecord } from '../core/types.js';
import { pageOf } from '../core/page.js';
import { AdmissionState } from './admission-state.js';
import { DenialCounter } from './denial-counter.js';
import {
  isLive, type AdmitOp, type AdmitResult, type DenialCount, type LiveSessionRow, type LiveSummary, type Page, type SessionFilter,
  type Store, type StoreHealth, type StreamUse,
} from './store.js';

const connKey = (c: Pick<ConnRef, 'server' | 'clientId'>): string => `${c.server}\0${c.clientId}`;
const copy = (s: SessionRecord): SessionRecord => ({ ...s });

export class MemoryStore implements Store {
  private sessions = new Map<string, SessionRecord>();
  /** The order rows were stored in (SQLite's rowid): admission order within one millisecond. */
  private readonly stored = new Map<string, number>();
  private storedSeq = 0;
  private readonly state = new AdmissionState();
  private conns = new Map<string, { id: string; conn: ConnRef }>();
  private accounts = new Map<string, AccountRecord>();
  private plans = new Map<string, PlanRecord>();
  private denied = new Map<string, DeniedKey>();
  private readonly denials = new DenialCounter();
  private events: Array<SessionEvent & { seq: number }> = [];
  private seq = 0;

  async init(): Promise<void> {}
  async close(): Promise<void> {}
  health(): StoreHealth {
    return { writable: true, error: null };
  }

  async admit(op: AdmitOp): Promise<AdmitResult> {
    const s = op.session;
    const d = this.state.decide(s, op.limits, op.replace, op.conn !== null);
    if (d.kind === 'limit') return { outcome: 'limit', scope: d.scope, active: d.ids.map((id) => copy(this.sessions.get(id)!)) };
    const replaced = d.replace.map((id) => {
      const old = this.sessions.get(id)!;
      old.status = 'killing';
      old.reason = 'replaced';
      this.state.remove(id);
      return copy(old);
    });
    if (d.kind === 'joined' || d.kind === 'rejoined') {
      const existing = this.sessions.get(d.id)!;
      existing.lastSeen = Math.max(existing.lastSeen, s.startedAt);
      if (op.conn) this.attachConn(existing.id, op.conn);
      else this.state.setConnectionless(existing.id, true);
      return { outcome: 'joined', session: copy(existing), replaced };
    }
    const rec = copy(s);
    this.sessions.set(rec.id, rec);
    this.stored.set(rec.id, ++this.storedSeq);
    this.state.add(rec, op.conn !== null ? 1 : 0);
    if (op.conn) this.conns.set(connKey(op.conn), { id: rec.id, conn: op.conn });
    this.event('session.started', rec);
    return { outcome: 'admitted', session: copy(rec), replaced };
  }

  private attachConn(id: string, conn: ConnRef): void {
    const k = connKey(conn);
    const prev = this.conns.get(k);
    if (prev?.id === id) return;
    if (prev) this.state.detach(prev.id);
    this.conns.set(k, { id, conn });
    this.state.attach(id);
  }

  async recordDenied(session: SessionRecord): Promise<void> {
    const rec = copy(session);
    this.sessions.set(rec.id, rec);
    this.stored.set(rec.id, ++this.storedSeq);
    this.event(rec.status === 'killed' ? 'session.killed' : 'session.denied', rec);
  }

  async countDenial(source: string, code: string, at: number): Promise<void> {
    this.denials.count(source, code, at);
  }

  async listDenialCounts(page: Page): Promise<{ items: DenialCount[]; total: number }> {
    return this.denials.page(page);
  }

  async setStatus(id: string, status: 'killing' | 'ended' | 'killed', reason: string | null, at: number): Promise<SessionRecord | undefined> {
    const s = this.sessions.get(id);
    if (!s || !isLive(s.status)) return undefined;
    if (status === 'killing' && s.status === 'killing') return copy(s);
    s.status = status;
    s.reason = reason ?? s.reason;
    this.state.remove(id);
    if (status !== 'killing') {
      s.endedAt = at;
      for (const [k, v] of this.conns) if (v.id === id) this.conns.delete(k);
      this.event(status === 'ended' ? 'session.ended' : 'session.killed', s);
    }
    return copy(s);
  }

  async touch(ids: readonly string[], at: number): Promise<void> {
    for (const id of ids) {
      const s = this.sessions.get(id);
      if (s && isLive(s.status) && s.lastSeen < at) s.lastSeen = at;
    }
  }

  async addBytes(id: string, bytesIn: number, bytesOut: number): Promise<void> {
    const s = this.sessions.get(id);
    if (s) {
      s.bytesIn += bytesIn;
      s.bytesOut += bytesOut;
    }
  }

  async attach(id: string, conn: ConnRef): Promise<void> {
    const s = this.sessions.get(id);
    if (s && isLive(s.status)) this.attachConn(id, conn);
  }

  async detach(conn: Pick<ConnRef, 'server' | 'clientId'>): Promise<void> {
    const k = connKey(conn);
    const prev = this.conns.get(k);
    if (!prev) return;
    this.conns.delete(k);
    this.state.detach(prev.id);
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const s = this.sessions.get(id);
    return s && copy(s);
  }

  async list(f: SessionFilter, page: Page): Promise<{ items: SessionRecord[]; total: number }> {
    const all = [...this.sessions.values()]
      .filter((s) => (!f.status || s.status === f.status) && (!f.stream || s.stream === f.stream) && (!f.account || s.account === f.account)
        && (!f.kind || s.kind === f.kind) && (!f.server || s.server === f.server))
      .sort((a, b) => b.startedAt - a.startedAt || (a.id < b.id ? 1 : -1));
    const { items, total } = pageOf(all, page);
    return { items: items.map(copy), total };
  }

  private liveRows(): LiveSessionRow[] {
    const rows = new Map<string, LiveSessionRow>();
    for (const s of this.sessions.values()) if (isLive(s.status)) rows.set(s.id, { session: copy(s), conns: [] });
    for (const c of this.conns.values()) rows.get(c.id)?.conns.push(c.conn);
    return [...rows.values()];
  }

  async listLive(): Promise<LiveSessionRow[]> {
    return this.liveRows().sort((a, b) => a.session.startedAt - b.session.startedAt);
  }

  async scanLive(afterId: string, limit: number): Promise<LiveSessionRow[]> {
    // admission order: started, then stored; resumed after the place of `afterId`, which may have ended meanwhile
    const place = (s: SessionRecord): [number, number] => [s.startedAt, this.stored.get(s.id) ?? 0];
    const after = afterId === '' ? undefined : this.sessions.get(afterId);
    if (afterId !== '' && !after) throw new Error(`scanLive: no session ${afterId} to resume after`);
    const cut = after && place(after);
    const later = (s: SessionRecord): boolean => {
      if (!cut) return true;
      const [t, n] = place(s);
      return t > cut[0] || (t === cut[0] && n > cut[1]);
    };
    return this.liveRows()
      .filter((r) => later(r.session))
      .sort((a, b) => a.session.startedAt - b.session.startedAt || (this.stored.get(a.session.id) ?? 0) - (this.stored.get(b.session.id) ?? 0))
      .slice(0, limit)
      .map((r) => ({ ...r, holding: this.state.get(r.session.id)?.holding ?? false }));
  }

  async streamUse(page: Page): Promise<{ items: StreamUse[]; total: number }> {
    return this.state.streamUse(page);
  }

  async accountUse(account: string): Promise<{ sessions: number; screens: number }> {
    return this.state.accountUse(account);
  }

  summary(): LiveSummary {
    return { live: this.state.size, streams: this.state.streamCount, accounts: this.state.accountCount };
  }

  async pruneHistory(before: number): Promise<number> {
    let n = 0;
    for (const [id, s] of this.sessions) {
      if (!isLive(s.status) && (s.endedAt ?? s.startedAt) < before) {
        this.sessions.delete(id);
        this.stored.delete(id);
        n++;
      }
    }
    return n;
  }

  async getAccount(id: string): Promise<AccountRecord | undefined> {
    const a = this.accounts.get(id);
    return a && { ...a };
  }
  async putAccount(a: AccountRecord): Promise<void> {
    this.accounts.set(a.id, { ...a });
  }
  async listAccounts(): Promise<AccountRecord[]> {
    return [...this.accounts.values()].map((a) => ({ ...a })).sort((a, b) => a.id.localeCompare(b.id));
  }
  async getPlan(name: string): Promise<PlanRecord | undefined> {
    const p = this.plans.get(name);
    return p && clonePlan(p);
  }
  async putPlan(p: PlanRecord): Promise<void> {
    this.plans.set(p.name, clonePlan(p));
  }
  async listPlans(): Promise<PlanRecord[]> {
    return [...this.plans.values()].map(clonePlan).sort((a, b) => a.name.localeCompare(b.name));
  }

  async putDenied(d: DeniedKey): Promise<void> {
    this.denied.set(d.key, { ...d });
  }
  async listDenied(now: number): Promise<DeniedKey[]> {
    return [...this.denied.values()].filter((d) => d.until > now).map((d) => ({ ...d })).sort((a, b) => a.until - b.until);
  }
  async clearDenied(key?: string): Promise<number> {
    if (key === undefined) {
      const n = this.denied.size;
      this.denied.clear();
      return n;
    }
    return this.denied.delete(key) ? 1 : 0;
  }

  async pruneDenied(now: number): Promise<number> {
    let n = 0;
    for (const [k, d] of this.denied) if (d.until <= now && this.denied.delete(k)) n++;
    return n;
  }

  async listEvents(afterSeq: number, limit: number): Promise<Array<SessionEvent & { seq: number }>> {
    return this.events.filter((e) => e.seq > afterSeq).slice(0, limit).map((e) => ({ ...e, session: copy(e.session) }));
  }

  private event(type: SessionEventType, s: SessionRecord): void {
    this.events.push({ seq: ++this.seq, type, at: s.endedAt ?? s.startedAt, session: { ...s, token: null } });
    // keep the newest 100k; trimmed in steps so the cost per event stays constant
    if (this.events.length > 110_000) this.events.splice(0, this.events.length - 100_000);
  }
}

function clonePlan(p: PlanRecord): PlanRecord {
  return { ...p, exemptStreams: [...p.exemptStreams], exemptProtocols: [...p.exemptProtocols] };
}
