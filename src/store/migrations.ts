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
  -- Partial indexes: only live rows sit in them, so admission's checks stay small however long the history.
  CREATE INDEX sessions_live_key ON sessions(key) WHERE status IN ('active', 'killing');
  CREATE INDEX sessions_account_counted ON sessions(account, started_at) WHERE status = 'active' AND counted = 1;
  CREATE INDEX sessions_stream_viewers ON sessions(stream) WHERE status = 'active' AND kind = 'viewer';
  CREATE INDEX sessions_stream ON sessions(stream);
  CREATE INDEX sessions_account ON sessions(account);
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

  CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    at INTEGER NOT NULL,
    session_id TEXT NOT NULL,
    data TEXT NOT NULL
  );
  `,
];
