/**
 * The shared vocabulary (SPEC §1): every module speaks these types; none of them holds state.
 */
import type { ErrorCode } from '../errors.js';

export type Kind = 'viewer' | 'input' | 'output' | 'unspecified';
export const KINDS: readonly Kind[] = ['viewer', 'input', 'output', 'unspecified'];

/** `killing`: a kick was ordered but the server holding the session has not confirmed it yet. */
export type Status = 'active' | 'killing' | 'ended' | 'killed' | 'denied';
export const STATUSES: readonly Status[] = ['active', 'killing', 'ended', 'killed', 'denied'];
export const LIVE_STATUSES: readonly Status[] = ['active', 'killing'];

export type Action = 'publish' | 'play';

/** Server names with a fixed meaning; every other name is a configured external server. */
export const BUILTIN_SERVER = 'builtin';
export const API_SERVER = 'api';

/**
 * One publish/play attempt, protocol-neutral (MediaMTX's auth.Request is the model).
 * Every adapter and the RTSP server build one of these and hand it to the admission pipeline.
 */
export interface AdmissionRequest {
  /** Who asks: `builtin`, `api` or a configured server's name. */
  server: string;
  /** rtsp, rtmp, hls, webrtc, srt, http, … (lower case). */
  protocol: string;
  action: Action;
  /** Normalised stream name: path without leading slash and without query (`live/demo`). */
  stream: string;
  ip: string;
  token?: string;
  user?: string;
  password?: string;
  /** Raw query string, without the leading `?`. The token is looked up in it when `token` is empty. */
  query?: string;
  /** Cookie header value; the `tkn` cookie is read when neither `token` nor the query carry one. */
  cookie?: string;
  /** The server's own id for this connection, used to kick it and to match its close event. */
  clientId?: string;
  userAgent?: string;
  /** Override the kind that `action` implies (`output` for relays, `unspecified` for probes). */
  kind?: Kind;
  /**
   * A media server's own relay leg (kind `output`), recognised by its adapter from fields only that server sets
   * (nginx-rtmp: flashver `ngx-local-relay` with no application). Never taken from API input.
   */
  relay?: boolean;
  /** RTSP Digest: checks a candidate secret against the client's digest response. */
  digest?: (secret: string) => boolean;
}

/** What the credentials step learned. */
export interface Claims {
  account: string | null;
  plan: string | null;
  device: string | null;
  role: string | null;
  /** Epoch ms after which the credential is no longer valid (session lifetime). */
  expiresAt: number | null;
  /** Which actions this credential grants. */
  actions: ReadonlySet<Action>;
  /** Stream names or `prefix*` patterns this credential is good for; null = any stream. */
  streams: readonly string[] | null;
  /** How the credential was checked (signed, jwt, streamKey, anonymous, backend). */
  method: string;
}

export interface Decision {
  allow: boolean;
  kind: Kind;
  code?: ErrorCode;
  reason?: string;
  /**
   * The client should retry with credentials (RTSP 401 + challenge, MediaMTX 401): it presented none, or presented a
   * user/password or Digest answer that failed. Decided by the pipeline alone (MediaMTX's rule).
   */
  askCredentials?: boolean;
  /** With askCredentials: Digest can succeed for this stream (it has a static key), so a Digest challenge may be offered. */
  digestPossible?: boolean;
  /** The request field at fault (E_VALIDATION). */
  field?: string;
  sessionId?: string;
  /** Epoch ms, or null when the session has no lifetime. */
  expiresAt?: number | null;
  /** True when the request joined a session that was already active (same key). */
  joined?: boolean;
  account?: string | null;
}

/** A connection that belongs to a session: how to find it again on its server (to kick it, to end it). */
export interface ConnRef {
  server: string;
  clientId: string;
  protocol: string;
  /** The Usher process holding it (its registry's instance id): a cluster routes kicks of it there. */
  instance?: string;
}

/** The durable record of one session (what the store keeps, what the API shows, minus the token). */
export interface SessionRecord {
  id: string;
  key: string;
  kind: Kind;
  status: Status;
  reason: string | null;
  stream: string;
  account: string | null;
  plan: string | null;
  device: string | null;
  role: string | null;
  ip: string;
  protocol: string;
  server: string;
  clientId: string | null;
  userAgent: string | null;
  /** The credential presented; kept for re-admission (invalidate), never shown by the API or logged. */
  token: string | null;
  /** How the credential was checked (signed, jwt, streamKey, anonymous); re-admission needs it. */
  authMethod: string | null;
  /** Whether this session counts against its account's limit. */
  counted: boolean;
  startedAt: number;
  endedAt: number | null;
  /** Last sign of life (heartbeat, hook update, connection close); the timeout runs from here. */
  lastSeen: number;
  expiresAt: number | null;
  bytesIn: number;
  bytesOut: number;
}

export interface AccountRecord {
  id: string;
  plan: string | null;
  /** Overrides the plan's maxSessions when not null. */
  maxSessions: number | null;
  disabled: boolean;
  updatedAt: number;
}

export interface PlanRecord {
  name: string;
  maxSessions: number;
  onLimit: 'deny' | 'killOldest';
  exemptStreams: string[];
  exemptProtocols: string[];
  maxDurationSeconds: number;
}

export interface DeniedKey {
  key: string;
  code: ErrorCode | string;
  reason: string;
  stream: string;
  ip: string;
  until: number;
}

export type SessionEventType = 'session.started' | 'session.ended' | 'session.killed' | 'session.denied';

export interface SessionEvent {
  type: SessionEventType;
  at: number;
  session: SessionRecord;
}

/**
 * The control port of a server that holds sessions: the registry asks it to drop a connection.
 * Each adapter and the built-in RTSP server provide one.
 */
export interface ControlPort {
  /** Drop one connection. Resolve when done (or when the server no longer has it); reject when it cannot be reached. */
  kick(conn: ConnRef, session: SessionRecord, reason: string): Promise<void>;
}
