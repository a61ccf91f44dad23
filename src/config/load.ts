/**
 * One config pipeline: defaults → optional usher.yaml (or --config FILE) → USHER_* env → validate → freeze.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { configSchema, parseHostPort, type Config } from './schema.js';
import { ConfigError, deepFreeze, envNames, fromEnv, resolve } from './spec.js';

export { ConfigError };
export type { Config };

export interface LoadOptions {
  /** Explicit file (from --config); it must exist. Without it, ./usher.yaml is used when present. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Values applied over the file, under env (used by tests). */
  overrides?: Record<string, unknown>;
}

export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.USHER_CONFIG ?? (existsSync('usher.yaml') ? 'usher.yaml' : undefined);
  let raw: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError('', `cannot read ${file}: ${(e as Error).message}`);
    }
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (e) {
      throw new ConfigError('', `${file} is not valid YAML: ${(e as Error).message}`);
    }
    if (doc !== null && doc !== undefined) {
      if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError('', `${file} must hold a mapping at the top`);
      raw = doc as Record<string, unknown>;
    }
  }
  if (opts.overrides) raw = merge(raw, opts.overrides);
  raw = applyEnv(raw, env);
  const config = resolve(configSchema, raw, '') as Config;
  crossCheck(config);
  return deepFreeze(config);
}

function applyEnv(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const known = new Map(envNames(configSchema).map((n) => [n.env, n]));
  let out = raw;
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('USHER_') || value === undefined || name === 'USHER_CONFIG') continue;
    const node = known.get(name);
    if (!node) throw new ConfigError(name, 'unknown environment variable (no such config key)');
    const key = node.path.join('.');
    out = merge(out, nest(node.path, fromEnv(node.spec, value, key)));
  }
  return out;
}

function nest(path: string[], value: unknown): Record<string, unknown> {
  let o: unknown = value;
  for (let i = path.length - 1; i >= 0; i--) o = { [path[i]]: o };
  return o as Record<string, unknown>;
}

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = isObj(cur) && isObj(v) ? merge(cur, v) : v;
  }
  return out;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** Rules that involve more than one key. */
function crossCheck(c: Config): void {
  const http = parseHostPort(c.http.listen)!;
  if (!isLoopback(http.host) && c.http.adminToken === '') {
    throw new ConfigError('http.adminToken', `required when http.listen (${c.http.listen}) is not a loopback address`);
  }
  if (c.http.adminToken !== '' && c.http.adminToken.length < 16) {
    throw new ConfigError('http.adminToken', 'must be at least 16 characters');
  }
  if (c.store.driver === 'cluster' && (!c.store.redisUrl || !c.store.postgresUrl)) {
    throw new ConfigError('store.driver', 'cluster needs store.redisUrl and store.postgresUrl');
  }
  if (c.auth.jwt.secret === '' && c.auth.jwt.jwksFile === '' && c.auth.jwt.algorithms.some((a) => !a.startsWith('HS'))) {
    throw new ConfigError('auth.jwt.jwksFile', 'asymmetric algorithms need a JWKS file');
  }
  if (c.auth.jwt.jwksFile !== '' && !existsSync(c.auth.jwt.jwksFile)) {
    throw new ConfigError('auth.jwt.jwksFile', `no such file: ${c.auth.jwt.jwksFile}`);
  }
  for (const [name, plan] of Object.entries(c.plans)) {
    for (const s of plan.exemptStreams) if (s === '') throw new ConfigError(`plans.${name}.exemptStreams`, 'empty stream name');
  }
}
