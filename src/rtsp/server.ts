/**
 * The built-in RTSP server (SPEC §5), live555's GenericMediaServer/RTSPServer role: the TCP listener and its
 * connection table (bounded by rtsp.maxConnections), the one table of RTSP sessions (which says who holds client
 * `rtsp-<id>`, from its admission on), the stream catalogue, the UDP port pairs, the idle reaper, and the control
 * port through which the registry kicks clients.
 *
 * It is a leaf: admission and every count of sessions belong to the pipeline and the registry. This module only
 * reports what happens to the clients it holds (end of an unused admission, connection closed) and carries out kicks.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Config } from '../config/schema.js';
import { parseHostPort, parsePortRange } from '../config/schema.js';
import type { AdmissionPipeline } from '../core/pipeline.js';
import type { Registry } from '../core/registry.js';
import { BUILTIN_SERVER, type AdmissionRequest, type Decision } from '../core/types.js';
import type { Logger } from '../log.js';
import { StreamCatalogue } from './catalogue.js';
import { normalizeIp, RtspConn, type ConnHost } from './conn.js';
import type { HandlerConn } from './defs.js';
import { newSessionId, type SessionDescription } from './protocol/index.js';
import { RtspSession, SessionState, type CloseHow, type SessionHost, type SessionKind, type Ticket } from './session.js';
import type { MediaStream } from './stream.js';
import { UdpPortPool, type UdpPair } from './udp.js';

export interface RtspServerDeps {
  config: Config;
  registry: Registry;
  pipeline: AdmissionPipeline;
  log: Logger;
  /** The clock (ms); the registry's when not given, so tests can move both at once. */
  now?: () => number;
}

/** How often the reaper looks at sessions and connections (and the coarse clock ticks). */
const REAP_EVERY_MS = 1000;
const CLIENT_PREFIX = 'rtsp-';

export class RtspServer implements ConnHost, SessionHost {
  readonly cfg: Config['rtsp'];
  readonly tokenParam: string;
  readonly log: Logger;
  readonly now: () => number;
  readonly catalogue: StreamCatalogue;
  /**
   * Every RTSP session by id, in every state, from the moment its admission is asked until it ends: the one place
   * that says who holds client `rtsp-<id>` (kicks look here; a Session header finds the established ones).
   */
  readonly sessions = new Map<string, RtspSession>();
  readonly conns = new Set<RtspConn>();
  /** Open connections per client address (rtsp.maxConnectionsPerIp); an entry exists only while its count is > 0. */
  private readonly perIp = new Map<string, number>();
  readonly udpPool: UdpPortPool;
  /** The pair every UDP viewer is served from. */
  readerPair: UdpPair | undefined;
  /** Coarse clock (ms), advanced by the reaper; activity stamps use it instead of a clock read per packet. */
  clock: number;
  refusedConnections = 0;

  private readonly registry: Registry;
  private readonly pipeline: AdmissionPipeline;
  /** `address:rtcpPort` → UDP viewer, to credit its receiver reports as activity. */
  private readonly udpViewers = new Map<string, RtspSession>();
  private readonly host: string;
  private readonly port: number;
  private readonly tcp: Server;
  private reaper: NodeJS.Timeout | undefined;
  private nextConnId = 1;
  private closing = false;
  private readonly reports = new Set<Promise<void>>();

  constructor(d: RtspServerDeps) {
    this.cfg = d.config.rtsp;
    this.tokenParam = d.config.sessions.tokenParam;
    this.registry = d.registry;
    this.pipeline = d.pipeline;
    this.log = d.log;
    this.now = d.now ?? d.registry.now;
    this.clock = this.now();
    this.catalogue = new StreamCatalogue({ coalesceMs: this.cfg.writeCoalesceMs });
    const hp = parseHostPort(this.cfg.listen)!;
    this.host = hp.host;
    this.port = hp.port;
    const range = parsePortRange(this.cfg.udpPorts)!;
    this.udpPool = new UdpPortPool(range.min, range.max, this.host === '' ? '0.0.0.0' : this.host);
    this.tcp = createServer({ noDelay: true }, (s) => this.onConnection(s));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.tcp.once('error', reject);
      this.tcp.listen(this.port, this.host, () => {
        this.tcp.off('error', reject);
        resolve();
      });
    });
    this.tcp.on('error', (err) => this.log.error({ err }, 'RTSP listener error'));
    try {
      this.readerPair = await this.udpPool.allocate();
      this.readerPair.onRtcp = (_m, r) => this.udpViewers.get(`${r.address}:${r.port}`)?.touch();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'no UDP port pair for viewers: UDP transport disabled');
    }
    this.reaper = setInterval(() => this.reap(), REAP_EVERY_MS);
    this.reaper.unref();
    this.registry.setControlPort(BUILTIN_SERVER, { kick: async (conn, _s, reason) => this.kick(conn.clientId, reason) });
  }

  address(): string {
    const a = this.tcp.address() as AddressInfo | null;
    if (!a) return this.cfg.listen;
    return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  }

  get listenPort(): number {
    return (this.tcp.address() as AddressInfo).port;
  }

  private onConnection(socket: Socket): void {
    const ip = normalizeIp(socket.remoteAddress ?? '');
    const fromIp = this.perIp.get(ip) ?? 0;
    if (this.closing || this.conns.size >= this.cfg.maxConnections || fromIp >= this.cfg.maxConnectionsPerIp) {
      this.refusedConnections++;
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    this.perIp.set(ip, fromIp + 1);
    this.conns.add(new RtspConn(this, socket, this.nextConnId++));
  }

  // ── HandlerHost ─────────────────────────────────────────────────────────────────────────

  admit(req: AdmissionRequest): Promise<Decision> {
    return this.pipeline.admit(req);
  }

  newSession(conn: HandlerConn, kind: SessionKind): RtspSession {
    let id: string;
    do id = newSessionId();
    while (this.sessions.has(id));
    const s = new RtspSession(id, kind, conn, this);
    this.sessions.set(id, s);
    return s;
  }

  session(id: string): RtspSession | undefined {
    const s = this.sessions.get(id);
    return s !== undefined && s.established && !s.closed ? s : undefined;
  }

  stream(name: string): MediaStream | undefined {
    return this.catalogue.lookup(name);
  }

  createStream(name: string, sdp: SessionDescription): MediaStream {
    return this.catalogue.create(name, sdp, this.now());
  }

  takeOver(occupant: MediaStream, newcomer: Ticket): boolean {
    const pub = occupant.publisher instanceof RtspSession ? occupant.publisher : undefined;
    const held = pub?.ticket?.sessionId;
    if (pub !== undefined && held !== undefined && held === newcomer.sessionId) {
      // The same Usher session coming back (same key: its old connection died and is not reaped yet, SPEC §5): it
      // replaces its own stale connection at once, whatever onBusyPath says. The Usher session goes on, now held by
      // the new connection (admission attached it); the old one is only reported closed.
      occupant.remove();
      pub.close('replaced by a new connection of the same session', 'drop');
      this.log.info({ stream: occupant.name, session: pub.id }, 'RTSP input replaced its stale connection');
      return true;
    }
    // Another input: the pipeline decided (issue 8 §4). It refuses a newcomer while the occupant's session is live
    // under onBusyPath: refuse (E_STREAM_BUSY), and under replace kills that session (reason replaced) as it admits the
    // newcomer; either way an admitted newcomer takes the path. Only an occupant the pipeline does not track
    // (inputMode 0) is invisible to it: for that one alone, onBusyPath is applied here.
    if (pub !== undefined && held === undefined && this.cfg.onBusyPath === 'refuse') return false;
    occupant.remove();
    if (pub !== undefined) this.letGo(pub);
    return true;
  }

  allocateUdpPair(): Promise<UdpPair> {
    return this.udpPool.allocate();
  }

  listenRtcp(s: RtspSession, address: string, port: number): void {
    const key = `${address}:${port}`;
    this.udpViewers.set(key, s);
    s.udpKeys.push(key);
  }

  // ── SessionHost / ConnHost ──────────────────────────────────────────────────────────────

  sessionClosed(s: RtspSession, reason: string, how: CloseHow): void {
    if (this.sessions.get(s.id) === s) this.sessions.delete(s.id);
    for (const k of s.udpKeys) if (this.udpViewers.get(k) === s) this.udpViewers.delete(k);
    const c = s.conn;
    s.detach();
    if (c) {
      c.drop(s);
      if (how === 'drop' && !c.closed) c.close(reason);
    }
    const t = s.ticket;
    if (t !== undefined && !s.kicked) {
      // An admission that never became a set-up session (no stream, path busy, a refused SETUP) ends with the reason;
      // anything else, and a connection that went away, only detaches (the Usher session lingers, SPEC §2).
      if (s.state === SessionState.Initial && how !== 'lost') this.release(t, reason);
      // a TEARDOWN is the client saying it is done: its Usher session ends at once when nothing else holds it (SPEC §2)
      else this.report(t.clientId, { bytesIn: s.bytesIn, bytesOut: s.bytesOut }, reason === 'teardown' ? reason : undefined);
    }
    this.log.debug({ session: s.id, kind: s.kind, stream: s.stream?.name, reason }, 'RTSP session closed');
  }

  ticketOrphaned(s: RtspSession, ticket: Ticket): void {
    // Kicked while its admission was in flight: the registry is finishing the kill; nothing to report.
    if (!s.kicked) this.release(ticket, s.closeReason ?? 'connection closed');
  }

  connClosed(c: RtspConn): void {
    if (!this.conns.delete(c)) return;
    const n = (this.perIp.get(c.ip) ?? 1) - 1;
    if (n > 0) this.perIp.set(c.ip, n);
    else this.perIp.delete(c.ip);
  }

  /**
   * An admitted client that will not use its admission: a session it started ends with the reason unless another
   * connection has joined it meanwhile (the registry decides that: it knows every connection); one it joined just loses
   * this connection.
   */
  private release(ticket: Ticket, reason: string): void {
    this.report(ticket.clientId, undefined, ticket.sessionId !== undefined && !ticket.joined ? reason : undefined);
  }

  /**
   * An input replaced by another (its stream already stopped resolving; its viewers end with it). When the registry
   * is killing its session (the pipeline replaced it), it is closed as kicked: the registry finishes the kill, and
   * its kick finds nothing left. Otherwise (untracked, or no longer live) it is closed and reported as usual.
   */
  private letGo(pub: RtspSession): void {
    const live = pub.ticket === undefined ? undefined : this.registry.byConn(BUILTIN_SERVER, pub.clientId);
    if (live?.status === 'killing') pub.kick('replaced');
    else pub.close('replaced');
  }

  /** The control port: drop this client at once (its session and its connection). */
  async kick(clientId: string, reason: string): Promise<void> {
    if (!clientId.startsWith(CLIENT_PREFIX)) return;
    const s = this.sessions.get(clientId.slice(CLIENT_PREFIX.length));
    if (!s) return;
    s.kick(reason);
    this.log.info({ clientId, reason }, 'RTSP client kicked');
  }

  /** `endReason`: the session ends at once with it when nothing else holds it (TEARDOWN, an admission never used). */
  private report(clientId: string, bytes?: { bytesIn: number; bytesOut: number }, endReason?: string): void {
    this.track(this.registry.connectionClosed(BUILTIN_SERVER, clientId, bytes, endReason));
  }

  private track(p: Promise<void>): void {
    const q = p.catch((err: unknown) => this.log.error({ err }, 'registry update failed'));
    this.reports.add(q);
    void q.finally(() => this.reports.delete(q));
  }

  /**
   * Ends sessions silent for sessionTimeoutSeconds, and closes connections that sent no request within
   * requestTimeoutSeconds, whose request (or frame) under way has not completed within it, or that sit idle.
   */
  reap(): void {
    const now = (this.clock = this.now());
    const timeout = this.cfg.sessionTimeoutSeconds * 1000;
    for (const s of this.sessions.values()) {
      if (s.established && now - s.activity() > timeout) s.close('timeout');
    }
    const requestTimeout = this.cfg.requestTimeoutSeconds * 1000;
    for (const c of this.conns) {
      if (!c.gotRequest) {
        if (now - c.createdAt > requestTimeout) c.close('no request');
      } else if (c.partialSince !== undefined && now - c.partialSince > requestTimeout) {
        c.close('request timeout');
      } else if (!c.hasEstablished() && now - c.lastActivity > timeout) {
        c.close('idle');
      }
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.reaper) clearInterval(this.reaper);
    const listening = new Promise<void>((resolve) => this.tcp.close(() => resolve()));
    for (const s of [...this.sessions.values()]) s.close('server stopping');
    for (const c of [...this.conns]) c.close('server stopping');
    for (const st of this.catalogue.all()) st.delete('server stopping');
    this.readerPair?.close();
    await listening;
    await Promise.allSettled([...this.reports]);
  }
}
