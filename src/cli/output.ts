/** Human-readable tables for the CLI (scripts use --json), and its error. */
import { UsherError } from '../errors.js';

export function table(rows: Array<Record<string, unknown>>, columns: string[]): string {
  if (rows.length === 0) return '(none)\n';
  const cell = (v: unknown): string => (v === null || v === undefined ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const cells = rows.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) => Math.min(60, Math.max(c.length, ...cells.map((r) => r[i].length))));
  const line = (vals: string[]): string => vals.map((v, i) => (v.length > widths[i] ? v.slice(0, widths[i] - 1) + '…' : v.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n') + '\n';
}

/** A CLI failure: exit code 2 (E_USAGE) for a command line that cannot run, 1 (E_REQUEST_FAILED) for a failed call. */
export class CliError extends UsherError {
  constructor(message: string, readonly exitCode: 1 | 2 = 1) {
    super(exitCode === 2 ? 'E_USAGE' : 'E_REQUEST_FAILED', message);
    this.name = 'CliError';
  }
}
