/**
 * What an adapter is: a leaf that translates one media server's hook calls into admission requests and
 * connection events, answers in exactly the form that server expects, and knows that server's API to
 * drop a client (kick) and to list its live clients (sync). Adapters never decide policy.
 */
import type { ServerConfig, ServerType } from '../config/schema.js';
import type { AdmissionRequest, ControlPort, Decision } from '../core/types.js';

/** An incoming hook call, already read off the socket (bounded). */
export interface HookRequest {
  method: string;
  /** Path after `/hooks/<type>` (e.g. `/events` for Flussonic). */
  subpath: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The socket's remote address (the media server's, not the viewer's). */
  remoteAddress: string;
}

export interface HookResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface ConnStats {
  bytesIn?: number;
  bytesOut?: number;
}

/** Whether a connection's session may go on (answer to an update/refresh hook). */
export interface LiveState {
  live: boolean;
  code?: string;
  reason?: string;
  /** When an unknown connection was admitted just now: what its admission said. */
  admitted?: Pick<Decision, 'account' | 'expiresAt'>;
}

/** What the core offers an adapter. The adapter holds no session state of its own. */
export interface AdapterHost {
  /** Run the admission pipeline; on allow, the connection (server, clientId) is attached to the session. */
  admit(req: AdmissionRequest): Promise<Decision>;
  /** The server says this connection closed. Unknown ids are ignored. */
  connectionClosed(server: string, clientId: string, stats?: ConnStats): Promise<void>;
  /**
   * The server says this connection is still there (periodic update). Refreshes the session and tells whether it may
   * go on: `live: false` when it was killed or its lifetime ran out. A connection Usher does not know (it connected
   * while Usher was down, or a sync ended it) is admitted or refused by the rules when the adapter passes what it
   * knows of it as `unknown` (decided in one place, the hub, as sync does); without it, `live: false, E_NOT_FOUND`.
   */
  connectionAlive(server: string, clientId: string, stats?: ConnStats, unknown?: AdmissionRequest): Promise<LiveState>;
  /** The clock (epoch ms) every adapter uses for its logic (lifetimes, token renewal); the registry's. */
  now(): number;
  /**
   * Live streams a server's relay leg may belong to when the server names only the stream's last path segment
   * (nginx-rtmp's local relay leg has no application): streams whose last segment is `name` and that have a
   * live session of kind `having` (`input` for a push of a published stream, `viewer` for a pull a player asked
   * for). Usually one; the adapter refuses when there is none or more than one.
   */
  relayCandidates(name: string, having: 'input' | 'viewer'): Promise<string[]>;
  /** Whether the server's API lists this connection as its own relay leg (ServerControl.isRelay); false otherwise. */
  isRelay(server: string, clientId: string): Promise<boolean>;
}

/** One live client as a server's list API shows it (for sync). */
export interface LiveClient {
  clientId: string;
  stream: string;
  action: 'publish' | 'play';
  protocol: string;
  ip: string;
  /** Raw query string of the client's URL (carries the token), without `?`. */
  query?: string;
  token?: string;
  /** The server's own relay leg (recognised by what the server sets): admitted as an `output`, never as a viewer. */
  relay?: boolean;
}

/** Kick and list for one configured server. `list` is absent where the server has no such API (OME). */
export interface ServerControl extends ControlPort {
  list?(): Promise<LiveClient[]>;
  /**
   * Whether a connection is the server's own relay leg, as the server's API says (Node-Media-Server: the session
   * of one of its relay tasks). False when the API cannot say.
   */
  isRelay?(clientId: string): Promise<boolean>;
}

export interface Adapter {
  readonly type: ServerType;
  /** Translate and answer one hook call for `server` (the configured entry the call belongs to). */
  handle(req: HookRequest, server: ServerConfig, host: AdapterHost): Promise<HookResponse>;
  /** Build the kick/list client for a configured server; `now` is the clock (epoch ms) it keeps time with. */
  control(server: ServerConfig, now: () => number): ServerControl;
}
