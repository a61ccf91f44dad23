/**
 * The JSON Schemas (TypeBox) of the HTTP API's inputs and answers. Each is used three times: fastify compiles it
 * to validate requests (ajv) or serialize answers (fast-json-stringify), the route's handler is typed from it,
 * and @fastify/swagger puts it in the OpenAPI document at GET /openapi.json.
 */
import { Type, type Static, type TSchema, type TUnsafe } from 'typebox';
import { KINDS, STATUSES } from '../core/types.js';

/** `T | null`, written as a type list (`["string","null"]`) rather than anyOf: both validator and serializer stay on their fast paths. */
export function Nullable<T extends TSchema & { type: string }>(schema: T): TUnsafe<Static<T> | null> {
  return Type.Unsafe<Static<T> | null>({ ...schema, type: [schema.type, 'null'] });
}

/** Every error: `{code, message, field?}` (codes and statuses in src/errors.ts). */
export const ErrorBody = Type.Object(
  {
    code: Type.String({ description: 'stable error code (src/errors.ts)' }),
    message: Type.String(),
    field: Type.Optional(Type.String({ description: 'the input field at fault' })),
  },
  { description: 'An error' },
);

export const Kind = Type.Enum([...KINDS]);
export const Status = Type.Enum([...STATUSES]);
const ByKind = Type.Object({ viewer: Type.Integer(), input: Type.Integer(), output: Type.Integer(), unspecified: Type.Integer() });
const Time = Nullable(Type.String({ description: 'ISO 8601 time' }));

/** `limit` ≤ 1000 and `offset` for every list endpoint (SPEC §8): nothing answers an unbounded list. */
export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'items per page (1–1000)' })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: 0 })),
};
export const Page = Type.Object(PageQuery);

/** A page of a list: `{items, total, limit, offset}`. */
export function ListOf<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() });
}

/** The public shape of a session (SPEC §11): never the token. */
export const SessionItem = Type.Object(
  {
    id: Type.String(),
    kind: Kind,
    status: Status,
    reason: Nullable(Type.String()),
    stream: Type.String(),
    account: Nullable(Type.String()),
    plan: Nullable(Type.String()),
    device: Nullable(Type.String()),
    role: Nullable(Type.String()),
    ip: Type.String(),
    protocol: Type.String(),
    server: Type.String(),
    clientId: Nullable(Type.String()),
    userAgent: Nullable(Type.String()),
    key: Type.String({ description: 'session key (SPEC §2); the handle of denied memory' }),
    counted: Type.Boolean({ description: 'counts against its account\'s limit' }),
    startedAt: Type.String(),
    endedAt: Time,
    lastSeen: Time,
    expiresAt: Time,
    bytesIn: Type.Number(),
    bytesOut: Type.Number(),
  },
  { description: 'A session' },
);

// ── admission ─────────────────────────────────────────────────────────────────────────────

const opt = (maxLength: number, description?: string) => Type.Optional(Type.String(description ? { maxLength, description } : { maxLength }));

/** POST /v1/admission (SPEC §11). Fields that speak for someone else (server, clientId, ip, kind) need the admin token. */
export const AdmissionBody = Type.Object(
  {
    action: Type.Enum(['publish', 'play']),
    stream: Type.String({ minLength: 1, maxLength: 1024, description: 'stream name or URL path (a query after `?` is read as `query`)' }),
    server: opt(64, 'who asks (admin token): a configured server, `builtin`, or `api` (the default)'),
    protocol: opt(32),
    ip: opt(64, 'the viewer\'s address (admin token); default: the caller\'s'),
    token: opt(4096),
    user: opt(256),
    password: opt(4096),
    query: opt(8192),
    cookie: opt(8192),
    clientId: opt(256, 'the connection on `server` (admin token)'),
    userAgent: opt(1024),
    kind: Type.Optional(Type.Enum([...KINDS], { description: 'admin token' })),
  },
  { additionalProperties: false },
);
export type AdmissionBodyT = Static<typeof AdmissionBody>;

export const AdmissionAllowed = Type.Object({
  allow: Type.Boolean(),
  sessionId: Nullable(Type.String()),
  kind: Kind,
  expiresAt: Time,
});

export const AdmissionDenied = Type.Object({
  allow: Type.Boolean(),
  code: Type.String(),
  reason: Type.String(),
});

// ── admin ─────────────────────────────────────────────────────────────────────────────────

export const Id = Type.Object({ id: Type.String({ minLength: 1, maxLength: 256 }) });

export const SessionsQuery = Type.Object({
  status: Type.Optional(Status),
  kind: Type.Optional(Kind),
  stream: opt(1024),
  account: opt(256),
  server: opt(64),
  ...PageQuery,
});

export const StreamItem = Type.Object({
  stream: Type.String(),
  sessions: Type.Integer(),
  viewers: Type.Integer(),
  inputs: Type.Integer(),
  byKind: ByKind,
});

export const Stats = Type.Object({
  live: Type.Integer(),
  byKind: ByKind,
  killing: Type.Integer(),
  streams: Type.Integer(),
  accounts: Type.Integer(),
  deniedKeys: Type.Integer(),
  admissions: Type.Object({
    allowed: Type.Integer(),
    joined: Type.Integer(),
    denied: Type.Record(Type.String(), Type.Integer(), { description: 'denials by code' }),
  }),
});

export const AccountItem = Type.Object({
  id: Type.String(),
  plan: Nullable(Type.String()),
  maxSessions: Nullable(Type.Integer()),
  disabled: Type.Boolean(),
  updatedAt: Time,
});

export const AccountDetail = Type.Object({
  ...AccountItem.properties,
  live: Type.Integer({ description: 'live sessions' }),
  effectivePlan: Type.String(),
  stored: Type.Boolean({ description: 'whether the account has a record of its own' }),
});

/** A name in a path (accounts, plans): what `PUT` may create. */
export const NAME_PATTERN = '^[A-Za-z0-9_.@:-]{1,256}$';

export const AccountPut = Type.Object(
  {
    plan: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 256 }))),
    maxSessions: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 1_000_000 }))),
    disabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const PlanItem = Type.Object({
  name: Type.String(),
  maxSessions: Type.Integer(),
  onLimit: Type.Enum(['deny', 'killOldest']),
  exemptStreams: Type.Array(Type.String()),
  exemptProtocols: Type.Array(Type.String()),
  maxDurationSeconds: Type.Number(),
  source: Type.Enum(['config', 'api']),
});

const NameList = Type.Array(Type.String({ minLength: 1, maxLength: 512 }), { maxItems: 1000 });

export const PlanPut = Type.Object(
  {
    maxSessions: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
    onLimit: Type.Optional(Type.Enum(['deny', 'killOldest'])),
    exemptStreams: Type.Optional(NameList),
    exemptProtocols: Type.Optional(NameList),
    maxDurationSeconds: Type.Optional(Type.Unsafe<number | string>({ type: ['number', 'string'], description: 'seconds, or a duration like "2h"' })),
  },
  { additionalProperties: false },
);

export const DeniedItem = Type.Object({
  key: Type.String(),
  code: Type.String(),
  reason: Type.String(),
  stream: Type.String(),
  ip: Type.String(),
  until: Type.String(),
});

/** A bounded counter of refusals that named nobody (SPEC §3 bounds); source `*` holds the sources past the cap. */
export const DenialCountItem = Type.Object({
  source: Type.String(),
  code: Type.String(),
  count: Type.Integer(),
  firstAt: Type.String(),
  lastAt: Type.String(),
});

export const Cleared = Type.Object({ cleared: Type.Integer() });

export const KillBody = Type.Object({ reason: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })) }, { additionalProperties: false });
export const KillQuery = Type.Object({ reason: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })) });

export const InvalidateBody = Type.Object({ stream: Type.Optional(Type.String({ maxLength: 1024 })) }, { additionalProperties: false });
export const Invalidated = Type.Object({
  checked: Type.Integer(),
  killed: Type.Array(Type.Object({ id: Type.String(), code: Type.String() })),
});

export const ClearBody = Type.Object(
  { olderThan: Type.Unsafe<number | string>({ type: ['number', 'string'], description: 'a duration: 30d, 12h, 90s, or seconds' }) },
  { additionalProperties: false },
);

export const SyncReport = Type.Object({
  server: Type.String(),
  listed: Type.Integer(),
  ended: Type.Integer(),
  admitted: Type.Integer(),
  kicked: Type.Integer(),
  at: Type.String(),
});

export const ServerItem = Type.Object({
  name: Type.String(),
  type: Type.String(),
  api: Type.String(),
  configured: Type.Boolean(),
  canList: Type.Boolean(),
  live: Type.Integer(),
  lastSync: Type.Union([SyncReport, Type.Null()]),
  lastSyncError: Nullable(Type.String()),
});

export const Health = Type.Object({
  status: Type.Enum(['ok', 'unavailable']),
  live: Type.Optional(Type.Integer()),
  uptimeSeconds: Type.Optional(Type.Integer()),
  code: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
});
