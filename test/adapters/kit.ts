/**
 * Helpers shared by the adapter conformance tests: call a hook the way the media server does (raw bytes, exact
 * headers) and read back what Usher recorded.
 */
import { waitFor, type TestUsher } from '../helpers/usher.js';

export interface HookAnswer {
  status: number;
  body: string;
  headers: Headers;
}

export async function hook(u: TestUsher, path: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<HookAnswer> {
  const res = await fetch(u.url + path, {
    method: init.method ?? 'POST',
    headers: init.headers,
    body: init.body,
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

export interface Item {
  id: string;
  kind: string;
  status: string;
  reason: string | null;
  stream: string;
  account: string | null;
  device: string | null;
  ip: string;
  protocol: string;
  server: string;
  clientId: string | null;
  userAgent: string | null;
  bytesIn: number;
  bytesOut: number;
}

export async function sessions(u: TestUsher, query = ''): Promise<Item[]> {
  const r = await u.api('GET', `/v1/sessions?limit=1000${query ? `&${query}` : ''}`);
  if (r.status !== 200) throw new Error(`GET /v1/sessions: ${r.status}`);
  return r.body.items as Item[];
}

/** The one session (any status) holding `clientId` on `server`, newest first. */
export async function byClient(u: TestUsher, server: string, clientId: string): Promise<Item | undefined> {
  return (await sessions(u, `server=${encodeURIComponent(server)}`)).find((s) => s.clientId === clientId);
}

export async function waitStatus(u: TestUsher, id: string, status: string, timeoutMs = 10_000): Promise<Item> {
  const found = await waitFor(async () => {
    const r = await u.api('GET', `/v1/sessions/${id}`);
    return r.status === 200 && r.body.status === status ? (r.body as Item) : undefined;
  }, timeoutMs);
  if (!found) throw new Error('unreachable: waitFor returns only a found session');
  return found;
}

export const form = (o: Record<string, string>): string => new URLSearchParams(o).toString();
