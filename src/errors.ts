/**
 * Every error code Usher emits, in one place (fastify's errors.js is the model).
 * Codes are part of the public contract: scripts match on them. A retired code must not be reused.
 */

export interface ErrorSpec {
  /** HTTP status used when the error reaches the HTTP edge. */
  status: number;
  /** Default human message. */
  message: string;
}

export const ERRORS = {
  // ── Admission denials (answered to media servers / clients) ─────────────────────────────
  E_CREDENTIALS_REQUIRED: { status: 401, message: 'credentials required' },
  E_TOKEN_INVALID: { status: 403, message: 'token is invalid' },
  E_TOKEN_EXPIRED: { status: 403, message: 'token has expired' },
  E_STREAM_FORBIDDEN: { status: 403, message: 'not allowed on this stream' },
  E_LIMIT_REACHED: { status: 403, message: 'limit reached: too many sessions for this account' },
  E_STREAM_FULL: { status: 403, message: 'this stream has reached its viewer cap' },
  E_STREAM_BUSY: { status: 403, message: 'someone is already publishing this stream' },
  E_TOO_MANY_CONNECTIONS: { status: 403, message: 'this session holds as many connections as one key may' },
  E_DENIED_RECENTLY: { status: 403, message: 'denied recently; try again later' },
  E_ACCOUNT_DISABLED: { status: 403, message: 'account is disabled' },
  /** Raised through the backend-login seam (SPEC §3.3, core/pipeline.ts BackendLogin); named by the SPEC. */
  E_BACKEND_DENIED: { status: 403, message: 'the site refused this session' },
  /** Likewise: the site's login URL could not be asked and `auth.backend.failMode` is `closed`. */
  E_BACKEND_UNAVAILABLE: { status: 403, message: 'the site could not be asked' },
  E_SERVER_UNKNOWN: { status: 400, message: 'unknown server' },

  // ── API errors ───────────────────────────────────────────────────────────────────────────
  E_VALIDATION: { status: 400, message: 'invalid input' },
  E_BAD_JSON: { status: 400, message: 'body is not valid JSON' },
  E_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'unsupported content type' },
  E_PAYLOAD_TOO_LARGE: { status: 413, message: 'request body too large' },
  E_UNAUTHORIZED: { status: 401, message: 'missing or wrong bearer token' },
  E_NOT_FOUND: { status: 404, message: 'not found' },
  E_METHOD_NOT_ALLOWED: { status: 405, message: 'method not allowed' },
  E_CONFLICT: { status: 409, message: 'conflict' },
  E_SESSION_ENDED: { status: 410, message: 'session is over' },
  E_TIMEOUT: { status: 408, message: 'request timed out' },
  E_BAD_REQUEST: { status: 400, message: 'malformed HTTP request' },
  E_HEADERS_TOO_LARGE: { status: 431, message: 'request headers too large' },
  E_INTERNAL: { status: 500, message: 'internal error' },
  E_UNAVAILABLE: { status: 503, message: 'service unavailable' },

  // ── External media servers (adapters' calls to a server's API) ──────────────────────────
  E_SERVER_UNREACHABLE: { status: 502, message: 'the media server could not be asked' },
  E_XML_INVALID: { status: 502, message: 'the media server answered XML that could not be read' },

  // ── Start-up and the command line ─────────────────────────────────────────────────────────
  E_CONFIG_INVALID: { status: 500, message: 'invalid configuration' },
  /** A command line that cannot be run as given (exit code 2). */
  E_USAGE: { status: 400, message: 'bad command-line usage' },
  /** The CLI's call to the running server failed or was refused (exit code 1); the message carries the server's code. */
  E_REQUEST_FAILED: { status: 502, message: 'the call to Usher failed' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/**
 * Admission codes for which the session key is remembered in denied memory (see core/denied.ts). Only refusals of a
 * verified credential are remembered: one that failed verification names nobody and is only counted (SPEC §3 bounds).
 */
export const REMEMBERED_DENIALS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'E_STREAM_FORBIDDEN',
  'E_ACCOUNT_DISABLED',
  'E_BACKEND_DENIED',
]);

export class UsherError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** The input field at fault, when there is one (`stream`, `plans.default.maxSessions`, …). */
  readonly field?: string;

  constructor(code: ErrorCode, message?: string, field?: string, options?: { cause?: unknown }) {
    super(message ?? ERRORS[code].message, options);
    this.name = 'UsherError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.field = field;
  }

  toJSON(): { code: ErrorCode; message: string; field?: string } {
    return this.field === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, field: this.field };
  }
}

export function isUsherError(e: unknown): e is UsherError {
  return e instanceof UsherError;
}

/** Shorthand for validation failures: names the field at fault. */
export function invalid(field: string, message: string): UsherError {
  return new UsherError('E_VALIDATION', `${field}: ${message}`, field);
}
