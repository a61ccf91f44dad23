#!/usr/bin/env node
/**
 * The `usher` command. `serve` runs the server; `sessions …` talk to the running server's admin API;
 * `token sign` and `config check` work locally from the config (and the data folder's signing key).
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startApp } from '../app.js';
import { signToken } from '../auth/signed-url.js';
import { parseDuration, MAX_DURATION_SECONDS, MAX_DURATION_TEXT } from '../config/duration.js';
import { ConfigError, loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { SECRET_KEYS, withSigningSecret } from '../config/secrets.js';
import { createLogger } from '../log.js';
import { ApiClient } from './api-client.js';
import { CliError, table } from './output.js';

const USAGE = `usage: usher <command> [options]        (every command takes --config FILE)

  serve                                   start the server
  sessions list [--stream S] [--account A] [--kind K] [--status S] [--server N] [--limit N] [--json]
  sessions kill ID [--reason TEXT]
  sessions sync [SERVER]                  reconcile with the media servers' client lists
  sessions clear --older-than DURATION    delete finished sessions older than 7d, 12h, …
  sessions invalidate [STREAM]            re-admit live sessions under today's rules
  token sign --stream S [--account A] [--plan P] [--device D] [--action play|publish] [--ttl 1h] [--ip IP]
  config check                            validate the configuration and print it (secrets hidden)

options for sessions commands: --url http://host:port (default: from http.listen), --json
`;

type Out = { write(s: string): unknown };

export async function main(argv: string[], out: Out = process.stdout, err: Out = process.stderr): Promise<number> {
  const [cmd, sub, ...rest] = argv;
  try {
    switch (cmd) {
      case 'serve':
        return await serve([sub, ...rest].filter((x): x is string => x !== undefined), err);
      case 'sessions':
        return await sessions(sub, rest, out);
      case 'token':
        if (sub !== 'sign') throw new CliError(USAGE, 2);
        return tokenSign(rest, out);
      case 'config':
        if (sub !== 'check') throw new CliError(USAGE, 2);
        return configCheck(rest, out);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        out.write(USAGE);
        return cmd === undefined ? 2 : 0;
      default:
        throw new CliError(`unknown command "${cmd}"\n${USAGE}`, 2);
    }
  } catch (e) {
    if (e instanceof ConfigError) {
      err.write(`${e.message}\n`);
      return 2;
    }
    if (e instanceof CliError) {
      err.write(`usher: ${e.message}\n`);
      return e.exitCode;
    }
    if (e instanceof TypeError && (e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      err.write(`usher: ${e.message}\n`);
      return 2;
    }
    err.write(`usher: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}

type OptionSpec = Record<string, { type: 'string' | 'boolean' }>;

function parse(args: string[], options: OptionSpec): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  const r = parseArgs({ args, options: { config: { type: 'string' }, ...options }, allowPositionals: true, strict: true });
  return { values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals };
}

function config(values: { config?: unknown }): Config {
  return loadConfig({ file: typeof values.config === 'string' ? values.config : undefined });
}

async function serve(args: string[], err: Out): Promise<number> {
  const { values } = parse(args, {});
  const { config: cfg, generated } = withSigningSecret(config(values));
  const log = createLogger(cfg.log.level);
  if (generated) log.warn({ path: generated }, 'no auth.signedUrls.secret configured: generated a signing key (keep it; tokens are signed with it)');
  // Work nobody awaited that failed: log it loudly but keep serving (every live RTSP viewer would die with us).
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
  const app = await startApp(cfg, log);
  let stopping = false;
  const stop = (sig: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal: sig }, 'stopping');
    const hard = setTimeout(() => process.exit(1), 10_000);
    hard.unref();
    app.stop().then(() => process.exit(0), (e: unknown) => {
      err.write(`usher: stop failed: ${String(e)}\n`);
      process.exit(1);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  return new Promise<number>(() => {}); // runs until a signal
}

async function sessions(sub: string | undefined, args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse(args, {
    url: { type: 'string' }, json: { type: 'boolean' }, stream: { type: 'string' }, account: { type: 'string' },
    kind: { type: 'string' }, status: { type: 'string' }, server: { type: 'string' }, limit: { type: 'string' },
    reason: { type: 'string' }, 'older-than': { type: 'string' },
  });
  const api = ApiClient.fromConfig(config(values), values.url as string | undefined);
  const asJson = values.json === true;
  const print = (v: unknown, human: () => string): void => void out.write(asJson ? JSON.stringify(v, null, 2) + '\n' : human());
  switch (sub) {
    case 'list': {
      const q = new URLSearchParams();
      for (const k of ['stream', 'account', 'kind', 'status', 'server', 'limit'] as const) {
        if (typeof values[k] === 'string') q.set(k, values[k] as string);
      }
      if (!q.has('limit')) q.set('limit', '1000');
      const { body } = await api.call<{ items: Array<Record<string, unknown>>; total: number }>('GET', `/v1/sessions?${q}`);
      print(body.items, () => table(body.items, ['id', 'kind', 'status', 'stream', 'account', 'ip', 'protocol', 'server', 'startedAt', 'reason'])
        + `${body.items.length} of ${body.total} session(s)\n`);
      return 0;
    }
    case 'kill': {
      const id = positionals[0];
      if (!id) throw new CliError('sessions kill needs a session id', 2);
      const { status, body } = await api.call<Record<string, unknown>>('DELETE', `/v1/sessions/${encodeURIComponent(id)}`, { reason: (values.reason as string) ?? 'kicked' });
      print(body, () => `${id}: ${status === 202 ? 'killing (the server holding it has not confirmed yet)' : 'killed'}\n`);
      return 0;
    }
    case 'sync': {
      const name = positionals[0];
      const { body } = await api.call<Record<string, unknown>>('POST', name ? `/v1/servers/${encodeURIComponent(name)}/sync` : '/v1/servers/sync');
      const items = name ? [body] : (body as { items: Array<Record<string, unknown>> }).items;
      print(body, () => table(items, ['server', 'listed', 'ended', 'admitted', 'kicked', 'at']));
      return 0;
    }
    case 'clear': {
      const older = values['older-than'] as string | undefined;
      if (!older || parseDuration(older) === undefined) throw new CliError('sessions clear needs --older-than DURATION (e.g. 30d, 12h)', 2);
      const { body } = await api.call<{ deleted: number }>('POST', '/v1/sessions/clear', { olderThan: older });
      print(body, () => `deleted ${body.deleted} finished session(s)\n`);
      return 0;
    }
    case 'invalidate': {
      const stream = positionals[0];
      const { body } = await api.call<{ checked: number; killed: Array<{ id: string; code: string }> }>('POST', '/v1/sessions/invalidate', stream ? { stream } : {});
      print(body, () => `re-admitted ${body.checked - body.killed.length} of ${body.checked}; killed ${body.killed.length}\n`
        + body.killed.map((k) => `  ${k.id}  ${k.code}\n`).join(''));
      return 0;
    }
    default:
      throw new CliError(`unknown sessions command "${sub ?? ''}"\n${USAGE}`, 2);
  }
}

function tokenSign(args: string[], out: Out): number {
  const { values } = parse(args, {
    stream: { type: 'string' }, account: { type: 'string' }, plan: { type: 'string' }, device: { type: 'string' },
    role: { type: 'string' }, action: { type: 'string' }, ttl: { type: 'string' }, ip: { type: 'string' },
  });
  if (typeof values.stream !== 'string' || values.stream === '') throw new CliError('token sign needs --stream', 2);
  const action = (values.action as string | undefined) ?? 'play';
  if (!['play', 'publish', '*'].includes(action)) throw new CliError('--action must be play or publish', 2);
  const ttl = parseDuration((values.ttl as string | undefined) ?? '1h');
  if (ttl === undefined || ttl <= 0) throw new CliError('--ttl must be a duration like 90s, 5m, 1h, 1d', 2);
  if (ttl > MAX_DURATION_SECONDS) throw new CliError(`--ttl must be at most ${MAX_DURATION_TEXT}`, 2);
  const { config: cfg } = withSigningSecret(config(values));
  const token = signToken(cfg.auth.signedUrls.secret, {
    stream: values.stream.replace(/^\/+/, ''),
    account: values.account as string | undefined,
    plan: values.plan as string | undefined,
    device: values.device as string | undefined,
    role: values.role as string | undefined,
    action: action as 'play' | 'publish' | '*',
    ip: values.ip as string | undefined,
    ttlSeconds: ttl,
  });
  out.write(token + '\n');
  return 0;
}

function configCheck(args: string[], out: Out): number {
  const { values } = parse(args, {});
  const cfg = config(values);
  out.write(`config ok\n${JSON.stringify(redact(cfg), null, 2)}\n`);
  return 0;
}

const SECRETS: ReadonlySet<string> = new Set(SECRET_KEYS);

function redact(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(redact);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, SECRETS.has(k) && x !== '' && !(typeof x === 'object' && x && Object.keys(x).length === 0) ? '[set]' : redact(x)]));
  }
  return v;
}

// Run when executed as a program (not when imported by tests).
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main(process.argv.slice(2)).then((code) => {
    if (code !== 0 || process.argv[2] !== 'serve') process.exitCode = code;
  });
}
