/**
 * Secrets Usher makes for itself so the Quick start needs no file: without `auth.signedUrls.secret`, a random
 * signing key is generated into the data folder on first run (mode 0600) and reused afterwards.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Config } from './schema.js';
import { deepFreeze } from './spec.js';

export function dataDir(c: Config): string {
  return resolve(c.store.driver === 'sqlite' ? dirname(c.store.path) : './data');
}

export function signingKeyPath(c: Config): string {
  return join(dataDir(c), 'signing.key');
}

/** Returns the config with the signing secret filled in, and whether a new key was written. */
export function withSigningSecret(c: Config, create = true): { config: Config; generated: string | undefined } {
  if (c.auth.signedUrls.secret) return { config: c, generated: undefined };
  const path = signingKeyPath(c);
  let secret: string;
  let generated: string | undefined;
  if (existsSync(path)) {
    secret = readFileSync(path, 'utf8').trim();
  } else {
    if (!create) return { config: c, generated: undefined };
    mkdirSync(dirname(path), { recursive: true });
    secret = randomBytes(32).toString('base64url');
    try {
      writeFileSync(path, secret + '\n', { mode: 0o600, flag: 'wx' });
      generated = path;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      secret = readFileSync(path, 'utf8').trim(); // another process made it first
    }
  }
  const copy = structuredClone(c) as { auth: { signedUrls: { secret: string } } };
  copy.auth.signedUrls.secret = secret;
  return { config: deepFreeze(copy as unknown as Config), generated };
}

/**
 * Config keys whose values are secrets, wherever they sit in the tree (`http.adminToken`, `servers[].password`,
 * `auth.streamKeys`, …). One list for every place that must hide them: log redaction (src/log.ts) and
 * `usher config check` (src/cli/main.ts).
 */
export const SECRET_KEYS: readonly string[] = ['secret', 'adminToken', 'metricsToken', 'password', 'token', 'streamKeys'];
