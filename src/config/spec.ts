/**
 * A tiny typed schema language for the config: each node knows its default, how to validate a value
 * from the file, and how to parse a string from the environment. The TypeScript type of the config
 * is inferred from the schema, so the two can never drift apart.
 */
import { UsherError } from '../errors.js';
import { formatDuration, MAX_DURATION_SECONDS, parseDuration } from './duration.js';

type Check<T> = (v: T) => string | undefined;

export interface StrSpec { kind: 'str'; def: string; check?: Check<string> }
export interface IntSpec { kind: 'int'; def: number; min?: number; max?: number }
export interface BoolSpec { kind: 'bool'; def: boolean }
export interface DurSpec { kind: 'dur'; def: number; min?: number; max?: number }
export interface EnumSpec<V extends string> { kind: 'enum'; def: V; values: readonly V[] }
export interface ListSpec<I extends Spec> { kind: 'list'; of: I; def: unknown[]; check?: Check<unknown[]> }
/** `keep`: entries present whatever the file says (a file adding one plan keeps the `default` plan), unless it overrides them. */
export interface MapSpec<I extends Spec> { kind: 'map'; of: I; def: Record<string, unknown>; check?: Check<Record<string, unknown>>; keep?: Record<string, unknown> }
export interface ObjSpec<F extends Record<string, Spec>> { kind: 'obj'; fields: F; check?: Check<Record<string, unknown>> }
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Spec = StrSpec | IntSpec | BoolSpec | DurSpec | EnumSpec<string> | ListSpec<any> | MapSpec<any> | ObjSpec<any>;

export type Infer<S> = S extends StrSpec ? string
  : S extends IntSpec ? number
  : S extends BoolSpec ? boolean
  : S extends DurSpec ? number
  : S extends EnumSpec<infer V> ? V
  : S extends ListSpec<infer I> ? readonly Infer<I>[]
  : S extends MapSpec<infer I> ? Readonly<Record<string, Infer<I>>>
  : S extends ObjSpec<infer F> ? { readonly [K in keyof F]: Infer<F[K]> }
  : never;

export const t = {
  str: (def = '', check?: Check<string>): StrSpec => ({ kind: 'str', def, check }),
  int: (def: number, min?: number, max?: number): IntSpec => ({ kind: 'int', def, min, max }),
  bool: (def: boolean): BoolSpec => ({ kind: 'bool', def }),
  /** A duration in seconds; accepts 90, "90s", "5m", "1h", "1d". */
  dur: (def: number, min = 0, max = MAX_DURATION_SECONDS): DurSpec => ({ kind: 'dur', def, min, max }),
  enum: <V extends string>(values: readonly V[], def: V): EnumSpec<V> => ({ kind: 'enum', values, def }),
  list: <I extends Spec>(of: I, def: unknown[] = [], check?: Check<unknown[]>): ListSpec<I> => ({ kind: 'list', of, def, check }),
  map: <I extends Spec>(of: I, def: Record<string, unknown> = {}, check?: Check<Record<string, unknown>>, keep?: Record<string, unknown>): MapSpec<I> =>
    ({ kind: 'map', of, def, check, keep }),
  obj: <F extends Record<string, Spec>>(fields: F, check?: Check<Record<string, unknown>>): ObjSpec<F> => ({ kind: 'obj', fields, check }),
};

/** A configuration that cannot start Usher: code E_CONFIG_INVALID, `field` (and `key`) naming the key at fault. */
export class ConfigError extends UsherError {
  constructor(readonly key: string, message: string) {
    super('E_CONFIG_INVALID', `config: ${key ? key + ': ' : ''}${message}`, key || undefined);
    this.name = 'ConfigError';
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validate `value` (undefined = take the default) against `spec`; throws ConfigError naming the key. */
export function resolve(spec: Spec, value: unknown, key: string): unknown {
  switch (spec.kind) {
    case 'str': {
      const v = value === undefined ? spec.def : value;
      if (typeof v !== 'string') throw new ConfigError(key, `expected a string, got ${describe(v)}`);
      const err = spec.check?.(v);
      if (err) throw new ConfigError(key, err);
      return v;
    }
    case 'int': {
      const v = value === undefined ? spec.def : value;
      if (typeof v !== 'number' || !Number.isInteger(v)) throw new ConfigError(key, `expected an integer, got ${describe(v)}`);
      if (spec.min !== undefined && v < spec.min) throw new ConfigError(key, `must be >= ${spec.min}`);
      if (spec.max !== undefined && v > spec.max) throw new ConfigError(key, `must be <= ${spec.max}`);
      return v;
    }
    case 'bool': {
      const v = value === undefined ? spec.def : value;
      if (typeof v !== 'boolean') throw new ConfigError(key, `expected true or false, got ${describe(v)}`);
      return v;
    }
    case 'dur': {
      if (value === undefined) return spec.def;
      const v = typeof value === 'number' || typeof value === 'string' ? parseDuration(value) : undefined;
      if (v === undefined) throw new ConfigError(key, `expected a duration like 90, "90s", "5m", "1h", "1d", got ${describe(value)}`);
      if (spec.min !== undefined && v < spec.min) throw new ConfigError(key, `must be >= ${spec.min}s`);
      if (spec.max !== undefined && v > spec.max) throw new ConfigError(key, `must be <= ${formatDuration(spec.max)}`);
      return v;
    }
    case 'enum': {
      const v = value === undefined ? spec.def : value;
      if (typeof v !== 'string' || !spec.values.includes(v)) {
        throw new ConfigError(key, `expected one of ${spec.values.join(' | ')}, got ${describe(v)}`);
      }
      return v;
    }
    case 'list': {
      const v = value === undefined ? spec.def : value;
      if (!Array.isArray(v)) throw new ConfigError(key, `expected a list, got ${describe(v)}`);
      const out = v.map((item, i) => resolve(spec.of, item, `${key}[${i}]`));
      const err = spec.check?.(out);
      if (err) throw new ConfigError(key, err);
      return out;
    }
    case 'map': {
      const given = value === undefined ? spec.def : value;
      if (!isPlainObject(given)) throw new ConfigError(key, `expected a mapping, got ${describe(given)}`);
      const v = { ...spec.keep, ...given };
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v)) out[k] = resolve(spec.of, item, `${key}.${k}`);
      const err = spec.check?.(out);
      if (err) throw new ConfigError(key, err);
      return out;
    }
    case 'obj': {
      const v = value === undefined || value === null ? {} : value;
      if (!isPlainObject(v)) throw new ConfigError(key, `expected a mapping, got ${describe(v)}`);
      for (const k of Object.keys(v)) {
        if (!(k in spec.fields)) throw new ConfigError(key ? `${key}.${k}` : k, 'unknown key');
      }
      const out: Record<string, unknown> = {};
      for (const [k, sub] of Object.entries(spec.fields as Record<string, Spec>)) {
        out[k] = resolve(sub, v[k], key ? `${key}.${k}` : k);
      }
      const err = spec.check?.(out);
      if (err) throw new ConfigError(key, err);
      return out;
    }
  }
}

/** Parse an environment string for a spec node (lists and maps take JSON, or a comma list for lists of strings). */
export function fromEnv(spec: Spec, raw: string, key: string): unknown {
  switch (spec.kind) {
    case 'str':
    case 'enum':
      return raw;
    case 'dur':
      return raw;
    case 'int': {
      if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(key, `expected an integer, got "${raw}"`);
      return Number(raw);
    }
    case 'bool': {
      const s = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(s)) return true;
      if (['0', 'false', 'no', 'off', ''].includes(s)) return false;
      throw new ConfigError(key, `expected true or false, got "${raw}"`);
    }
    case 'list':
    case 'map':
    case 'obj':
      if (spec.kind === 'list' && !raw.trim().startsWith('[') && (spec.of.kind === 'str' || spec.of.kind === 'enum')) {
        return raw.split(',').map((s) => s.trim()).filter(Boolean);
      }
      try {
        return JSON.parse(raw);
      } catch {
        throw new ConfigError(key, 'expected JSON');
      }
  }
}

/** Walk the schema: every node's dotted path with its env variable name (USHER_ + upper snake). */
export function envNames(spec: Spec, path: string[] = []): Array<{ path: string[]; env: string; spec: Spec }> {
  const out: Array<{ path: string[]; env: string; spec: Spec }> = [];
  if (path.length > 0) out.push({ path, env: 'USHER_' + path.map(upperSnake).join('_'), spec });
  if (spec.kind === 'obj') {
    for (const [k, sub] of Object.entries(spec.fields as Record<string, Spec>)) out.push(...envNames(sub, [...path, k]));
  }
  return out;
}

const upperSnake = (s: string): string => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

export function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as Record<string, unknown>)) deepFreeze(v);
  }
  return o;
}
