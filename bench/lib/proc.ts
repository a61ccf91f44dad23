/**
 * Bench helpers: start a server as a child process, wait for it, read its CPU time and RSS from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export { cpuSeconds, freePort, rssMiB, sleep } from './procfs.js';

export async function waitHttp(url: string, proc: ChildProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`process exited with ${proc.exitCode}`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(500) });
      if (r.status < 500) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function startNode(args: string[], env: Record<string, string> = {}): ChildProcess {
  const p = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  process.on('exit', () => p.kill('SIGKILL'));
  return p;
}

export async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  p.kill('SIGTERM');
  await Promise.race([new Promise((r) => p.once('exit', r)), new Promise((r) => setTimeout(r, 3000))]);
  if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
}
