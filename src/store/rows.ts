/**
 * How a session record maps to a row of the sessions table, shared by the main thread and the store's worker.
 */
import type { Kind, SessionRecord, Status } from '../core/types.js';

export interface SessionRow {
  id: string; key: string; kind: string; status: string; reason: string | null; stream: string; account: string | null;
  plan: string | null; device: string | null; role: string | null; ip: string; protocol: string; server: string;
  client_id: string | null; user_agent: string | null; token: string | null; auth_method: string | null; counted: number;
  started_at: number; ended_at: number | null; last_seen: number; expires_at: number | null; bytes_in: number; bytes_out: number;
}

export const COLS = 'id, key, kind, status, reason, stream, account, plan, device, role, ip, protocol, server, client_id, user_agent, token, auth_method, counted, started_at, ended_at, last_seen, expires_at, bytes_in, bytes_out';

export function fromRow(r: SessionRow): SessionRecord {
  return {
    id: r.id, key: r.key, kind: r.kind as Kind, status: r.status as Status, reason: r.reason, stream: r.stream, account: r.account,
    plan: r.plan, device: r.device, role: r.role, ip: r.ip, protocol: r.protocol, server: r.server, clientId: r.client_id,
    userAgent: r.user_agent, token: r.token, authMethod: r.auth_method, counted: r.counted === 1, startedAt: r.started_at,
    endedAt: r.ended_at, lastSeen: r.last_seen, expiresAt: r.expires_at, bytesIn: r.bytes_in, bytesOut: r.bytes_out,
  };
}

export function toParams(s: SessionRecord): unknown[] {
  return [s.id, s.key, s.kind, s.status, s.reason, s.stream, s.account, s.plan, s.device, s.role, s.ip, s.protocol, s.server,
    s.clientId, s.userAgent, s.token, s.authMethod, s.counted ? 1 : 0, s.startedAt, s.endedAt, s.lastSeen, s.expiresAt, s.bytesIn, s.bytesOut];
}


/** Positions of some columns in a row from toParams (the order of COLS). */
export const P = { id: 0, key: 1, kind: 2, stream: 5, account: 6, device: 8, server: 12, counted: 17, startedAt: 18 } as const;

/**
 * admitRow's argument: the row, the connection as [server, clientId, protocol], limits as
 * [account, maxSessions, onLimit, streamMaxViewers, busy, maxConnections].
 */
export type AdmitRow = [
  params: unknown[],
  conn: [server: string, clientId: string, protocol: string, instance: string | null] | null,
  limits: [string | null, number, 'deny' | 'killOldest', number, 'refuse' | 'replace' | null, number | null],
];
