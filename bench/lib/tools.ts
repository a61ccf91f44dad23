/** External programs a bench needs: is one installed, and a clear error naming the install command when not. */
import { execFileSync } from 'node:child_process';
import { BenchError } from './check.js';

/**
 * True when `cmd args` could be run at all (whatever its exit status: `wrk --version` exits 1), false when it is
 * missing or not executable.
 */
export function hasTool(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch (e) {
    const status = (e as { status?: number | null }).status;
    return typeof status === 'number' && status !== 126 && status !== 127;
  }
}

/** Throws a BenchError `<cmd> is not installed: <install>` unless `hasTool(cmd, args)`. */
export function requireTool(cmd: string, args: string[], install: string): void {
  if (!hasTool(cmd, args)) throw new BenchError(`${cmd} is not installed (or not on PATH): ${install}`);
}

/** The Debian install commands the benches name. */
export const INSTALL = {
  ffmpeg: 'apt-get install -y ffmpeg',
  wrk: 'apt-get install -y wrk',
  node_modules: 'npm ci (autocannon is a devDependency)',
} as const;
