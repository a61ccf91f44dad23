/**
 * How a bench refuses to print what it could not measure: a `BenchError` says why, `figure` rejects a value that
 * is not a finite number in range, and `exitOnError` prints the reason and exits non-zero — never a table of NaN.
 */

/** A bench cannot measure: `message` says why and what to do. */
export class BenchError extends Error {
  override name = 'BenchError';
}

/**
 * `value` if it is a finite number ≥ `min` (default 0, use -Infinity for none); else a BenchError naming the figure
 * (`name`, e.g. "usher req/s") and the value found.
 */
export function figure(name: string, value: number, min = 0): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new BenchError(`could not measure ${name}: got ${String(value)}${Number.isFinite(min) ? ` (expected a number ≥ ${min})` : ''}`);
  }
  return value;
}

/** The last `max` characters of a child's output, indented, for an error message. */
export function tail(out: string, max = 1500): string {
  const t = out.trim().slice(-max);
  return t ? t.replace(/^/gm, '    ') : '    (no output)';
}

/**
 * Runs a bench's main: exit 0 when it resolves; when it throws, print `<bench> failed: <reason>` (the stack too
 * unless it is a BenchError) and exit 1. `cleanup` runs in both cases (e.g. killing child processes).
 */
export function runBench(bench: string, main: () => Promise<void>, cleanup: () => void = () => {}): void {
  main().then(
    () => {
      cleanup();
      process.exit(0);
    },
    (e: unknown) => {
      cleanup();
      const why = e instanceof BenchError ? e.message : ((e as Error)?.stack ?? String(e));
      process.stderr.write(`\n${bench} failed: ${why}\n`);
      process.exit(1);
    },
  );
}
