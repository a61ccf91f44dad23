/**
 * The built-in RTSP server (SPEC §5), live555's GenericMediaServer/RTSPServer role: the TCP listener and its
 * connection table (bounded by rtsp.maxConnections), the RTSP session table, the media-stream catalogue, the UDP
 * port pairs, the idle reaper, and the control port through which the registry kicks clients.
 *
 * It is a leaf: admission and every count of sessions belong to the pipeline and the registry. This module only
 * reports what happens to the connections it holds (connectionClosed) and carries out kicks.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Config } from '../config/schema.js';
import { parseHostPort, parsePortRange } from '../config/schema.js';
import type { AdmissionPipeline } from '../core/pipeline.js';
import type { Registry } from '../core/registry.js';
import { BUILTIN_SERVER } from '../core/types.js';
import type { Logger } from '../log.js';
import { RtspConn } from './conn.js';
import { newSessionId } from './protocol/index.js';
import { RtspSession, SessionState, type Role, type SessionHost, type Ticket } from './session.js';
import { StreamCatalogue } from './catalogue.js';
import type { MediaStream } from './stream.js';
import { UdpPortPool, type UdpPair } from './udp.js';

export interface RtspServerDeps {
  config: Config;
  registry: Registry;
  pipeline: AdmissionPipeline;
  log: Logger;
}

/** How often the reaper looks at sessions and connections (and the coarse clock ticks). */
const REAP_EVERY_MS = 1000;

export class RtspServer implements SessionHost {
  readonly cfg: Config['rtsp'];
  readonly config: Config;
  readonly registry: Registry;
  readonly pipeline: AdmissionPipeline;
  readonly log: Logger;
  readonly catalogue: StreamCatalogue;
  readonly sessions = new Map<string, RtspSession>();
  readonly conns = new Set<RtspConn>();
  /** clientId → what holds it: a session, or a connection with an admission in flight or a DESCRIBE not yet set up. */
  readonly owners = new Map<string, RtspSession | RtspConn>();
  /** `address:rtcpPort` → UDP reader session, to credit its receiver reports as activity. */
  readonly udpReaders = new Map<string, RtspSession>();
  readonly udpPool: UdpPortPool;
  /** The pair every UDP reader is served from. */
  readerPair: UdpPair | undefined;
  /** Coarse clock (ms), advanced by the reaper; activity stamps use it instead of a clock read per packet. */
  now = Date.now();
  refusedConnections = 0;

  private readonly host: string;
  private readonly port: number;
  private readonly tcp: Server;
  private reaper: NodeJS.Timeout | undefined;
  private nextConnId = 1;
  private closing = false;
  private readonly reports = new Set<Promise<void>>();
  private readonly kickedInFlight = new Set<string>();

  constructor(d: RtspServerDeps) {
    this.config = d.config;
    this.cfg = d.config.rtsp;
    this.registry = d.registry;
    this.pipeline = d.pipeline;
    this.log = d.log;
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
      this.readerPair.onRtcp = (_m, r) => this.udpReaders.get(`${r.address}:${r.port}`)?.touch();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'no UDP port pair for readers: UDP transport disabled');
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
    if (this.closing || this.conns.size >= this.cfg.maxConnections) {
      this.refusedConnections++;
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    this.conns.add(new RtspConn(this, socket, this.nextConnId++));
  }

  /** A new RTSP session id, unique among the live ones. */
  newSessionId(): string {
    for (;;) {
      const id = newSessionId();
      if (!this.sessions.has(id) && !this.owners.has(`rtsp-${id}`)) return id;
    }
  }

  createSession(id: string, role: Role, ticket: Ticket, conn: RtspConn): RtspSession {
    const s = new RtspSession(id, role, ticket, conn.ip, this);
    s.conn = conn;
    conn.sessions.add(s);
    this.sessions.set(id, s);
    this.owners.set(ticket.clientId, s);
    return s;
  }

  /** Called by RtspSession.close(): forget it, close its connection unless told not to, tell the registry. */
  sessionClosed(s: RtspSession, reason: string, keepConnection: boolean): void {
    if (this.sessions.get(s.id) === s) this.sessions.delete(s.id);
    if (this.owners.get(s.clientId) === s) this.owners.delete(s.clientId);
    for (const k of s.udpKeys) if (this.udpReaders.get(k) === s) this.udpReaders.delete(k);
    const c = s.conn;
    s.conn = undefined;
    if (c) {
      c.sessions.delete(s);
      if (c.recording === s) c.recording = undefined;
      if (!keepConnection && !c.closed) c.close(reason);
    }
    if (!s.kicked) this.report(s.clientId, { bytesIn: s.bytesIn, bytesOut: s.bytesOut });
    this.log.debug({ session: s.id, role: s.role, stream: s.stream?.name, reason }, 'RTSP session closed');
  }

  /** Called once per connection when it closes. */
  connClosed(c: RtspConn): void {
    this.conns.delete(c);
    if (c.pending) {
      const { ticket } = c.pending;
      c.pending = undefined;
      if (this.owners.get(ticket.clientId) === c) {
        this.owners.delete(ticket.clientId);
        this.report(ticket.clientId);
      }
    }
    for (const s of [...c.sessions]) {
      c.sessions.delete(s);
      if (c.recording === s) c.recording = undefined;
      s.conn = undefined;
      // RFC 2326: a session is not a connection. A UDP reader that is playing goes on until TEARDOWN, a kick or the
      // idle timeout; everything else (TCP interleaving, a publisher, a half set-up session) ends with it.
      if (s.role === 'reader' && s.transport === 'UDP' && s.state === SessionState.Play) continue;
      s.close('connection closed');
    }
  }

  /** Holds a DESCRIBE's admission on its connection until SETUP (a second DESCRIBE replaces it). */
  holdPending(c: RtspConn, ticket: Ticket, sid: string): void {
    const prev = c.pending;
    if (prev && prev.ticket.clientId !== ticket.clientId) this.release(prev.ticket, 'superseded');
    c.pending = { ticket, sid };
    this.owners.set(ticket.clientId, c);
  }

  /** Takes a connection's pending admission for a stream, if it has one. */
  takePending(c: RtspConn, stream: string): { ticket: Ticket; sid: string } | undefined {
    const p = c.pending;
    if (!p || p.ticket.stream !== stream) return undefined;
    c.pending = undefined;
    return p;
  }

  /**
   * An admitted client that will not get a session after all (stream not found, path busy, bad SETUP): a session it
   * started is ended with the reason; one it joined just loses this connection.
   */
  release(ticket: Ticket, reason: string): void {
    const owner = this.owners.get(ticket.clientId);
    if (owner && !(owner instanceof RtspSession)) this.owners.delete(ticket.clientId);
    // Kicked while its admission was in flight: the registry is finishing the kill; nothing to report.
    if (this.kickedInFlight.delete(ticket.clientId)) return;
    if (ticket.sessionId !== undefined && !ticket.joined) {
      this.track(this.registry.end(ticket.sessionId, reason).then(() => undefined));
    } else {
      this.report(ticket.clientId);
    }
  }

  /**
   * onBusyPath=replace: the old stream stops resolving at once, and its publisher is killed through the registry
   * (so the record reads killed/replaced); its readers end with it.
   */
  replacePublisher(old: MediaStream): void {
    old.remove();
    const pub = old.publisher;
    if (!(pub instanceof RtspSession)) return;
    const live = this.registry.byConn(BUILTIN_SERVER, pub.clientId);
    if (live) {
      this.track(
        this.registry.kill(live.id, 'replaced', { ban: false }).then(
          () => pub.close('replaced'),
          () => pub.close('replaced'),
        ),
      );
    } else {
      pub.close('replaced');
    }
  }

  /** The control port: drop this client at once (its session and its connection). */
  async kick(clientId: string, reason: string): Promise<void> {
    const owner = this.owners.get(clientId);
    if (!owner) return;
    if (owner instanceof RtspSession) {
      owner.kicked = true;
      const conn = owner.conn;
      owner.close(`kicked: ${reason}`);
      conn?.close('kicked');
    } else {
      // A connection holding a DESCRIBE's admission, or with the admission still in flight (its handler sees the
      // connection closed and releases the ticket, which must then not be reported).
      if (owner.pending?.ticket.clientId === clientId) owner.pending = undefined;
      else this.kickedInFlight.add(clientId);
      this.owners.delete(clientId);
      owner.close('kicked');
    }
    this.log.info({ clientId, reason }, 'RTSP client kicked');
  }

  private report(clientId: string, bytes?: { bytesIn: number; bytesOut: number }): void {
    this.track(this.registry.connectionClosed(BUILTIN_SERVER, clientId, bytes));
  }

  private track(p: Promise<void>): void {
    const q = p.catch((err: unknown) => this.log.error({ err }, 'registry update failed'));
    this.reports.add(q);
    void q.finally(() => this.reports.delete(q));
  }

  /** Ends sessions silent for sessionTimeoutSeconds and connections that never sent a request or sit idle. */
  reap(): void {
    const now = (this.now = Date.now());
    const timeout = this.cfg.sessionTimeoutSeconds * 1000;
    for (const s of this.sessions.values()) {
      if (now - s.activity() > timeout) s.close('timeout');
    }
    const requestTimeout = this.cfg.requestTimeoutSeconds * 1000;
    for (const c of this.conns) {
      if (!c.gotRequest) {
        if (now - c.createdAt > requestTimeout) c.close('no request');
      } else if (c.sessions.size === 0 && now - c.lastActivity > timeout) {
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
