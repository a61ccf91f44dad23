/**
 * Versioned SQLite schema. Each entry moves the database from version i to i+1 (PRAGMA user_version).
 * Never edit a released migration; append a new one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: sessions, their connections, accounts, plans, denied keys, the event outbox.
  `
  CREATE TABLE sessions (
    id TEXT NOT NULL UNIQUE,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    stream TEXT NOT NULL,
    account TEXT,
    plan TEXT,
    device TEXT,
    role TEXT,
    ip TEXT NOT NULL,
    protocol TEXT NOT NULL,
    server TEXT NOT NULL,
    client_id TEXT,
    user_agent TEXT,
    token TEXT,
    auth_method TEXT,
    counted INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    last_seen INTEGER NOT NULL,
    expires_at INTEGER,
    bytes_in INTEGER NOT NULL DEFAULT 0,
    bytes_out INTEGER NOT NULL DEFAULT 0
  );
  -- Few indexes, all appended to in time order (ids are time-ordered UUIDv7): an index on a random key (session
  -- key, account) dirties one random page per insert and made every commit write megabytes. Admission's checks
  -- run on the store's in-memory admission state instead (admission-state.ts), rebuilt from the live rows at start.
  -- SQLite uses a partial index only when the query repeats its WHERE terms: keep queries and indexes in step.
  CREATE INDEX sessions_live ON sessions(started_at) WHERE status IN ('active', 'killing');
  CREATE INDEX sessions_ended ON sessions(ended_at) WHERE ended_at IS NOT NULL;

  CREATE TABLE conns (
    server TEXT NOT NULL,
    client_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    protocol TEXT NOT NULL,
    PRIMARY KEY (server, client_id)
  ) WITHOUT ROWID;
  CREATE INDEX conns_session ON conns(session_id);

  CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    plan TEXT,
    max_sessions INTEGER,
    disabled INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
  );

  CREATE TABLE plans (
    name TEXT PRIMARY KEY,
    max_sessions INTEGER NOT NULL,
    on_limit TEXT NOT NULL,
    exempt_streams TEXT NOT NULL,
    exempt_protocols TEXT NOT NULL,
    max_duration_seconds INTEGER NOT NULL
  );

  CREATE TABLE denied (
    key TEXT PRIMARY KEY,
    code TEXT NOT NULL,
    reason TEXT NOT NULL,
    stream TEXT NOT NULL,
    ip TEXT NOT NULL,
    until INTEGER NOT NULL
  );

  -- The outbox: one row per transition, written in the same transaction as the change it describes.
  CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    at INTEGER NOT NULL,
    session_id TEXT NOT NULL,
    reason TEXT
  );
  `,
  // 2: the Usher instance holding each connection; bounded counters of refusals that name nobody; the readiness
  //    probe's row. (scanLive walks sessions_live, in admission order: no index of its own to write per admission.)
  `
  ALTER TABLE conns ADD COLUMN instance TEXT;
  -- one row the store rewrites to find out whether the disk takes writes again (readiness after a full disk)
  CREATE TABLE probe (id INTEGER PRIMARY KEY CHECK (id = 1), at INTEGER NOT NULL);
  CREATE TABLE denial_counts (
    source TEXT NOT NULL,
    code TEXT NOT NULL,
    count INTEGER NOT NULL,
    first_at INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    PRIMARY KEY (source, code)
  ) WITHOUT ROWID;
  `,
];
