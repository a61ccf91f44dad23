/**
 * Real clients for the end-to-end tests: ffmpeg as publisher (lavfi test source, libx264 + AAC) and as reader
 * (`-f null -`, frames counted from `-progress pipe:1`), plus helpers for other client binaries.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export interface Proc {
  proc: ChildProcess;
  /** Resolves when the process exits (code, or null when killed by a signal). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout(): string;
  stderr(): string;
  /** Frames decoded so far (ffmpeg readers started with readArgs). */
  frames(): number;
  kill(signal?: NodeJS.Signals): void;
}

const running = new Set<Proc>();

export function run(cmd: string, args: string[], env?: Record<string, string>): Proc {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ? { ...process.env, ...env } : process.env });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  });
  proc.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
    if (err.length > 200_000) err = err.slice(-100_000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.on('exit', (code, signal) => resolve({ code, signal }));
    proc.on('error', () => resolve({ code: -1, signal: null }));
  });
  const p: Proc = {
    proc,
    exited,
    stdout: () => out,
    stderr: () => err,
    frames: () => {
      const all = [...out.matchAll(/^frame=(\d+)$/gm)];
      return all.length ? Number(all[all.length - 1][1]) : 0;
    },
    kill: (signal = 'SIGKILL') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    },
  };
  running.add(p);
  void exited.then(() => running.delete(p));
  return p;
}

/** Kills every child still running (afterAll). */
export function killAll(): void {
  for (const p of running) p.kill('SIGKILL');
}

/** ffmpeg publishing a generated stream (testsrc + sine, libx264 ultrafast + AAC) with -re. */
export function publish(url: string, transport: 'tcp' | 'udp', seconds = 120): Proc {
  return run('ffmpeg', [
    '-hide_banner', '-nostdin', '-loglevel', 'warning', '-re',
    '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25',
    '-f', 'lavfi', '-i', 'sine=frequency=1000',
    '-t', String(seconds),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25',
    '-c:a', 'aac',
    '-f', 'rtsp', '-rtsp_transport', transport, url,
  ]);
}

/** ffmpeg reading (decoding to null); `seconds` bounds it, otherwise it runs until the stream ends. */
export function read(url: string, transport: 'tcp' | 'udp', seconds?: number): Proc {
  return run('ffmpeg', [
    '-hide_banner', '-nostdin', '-loglevel', 'warning', '-nostats', '-progress', 'pipe:1',
    '-rtsp_transport', transport, '-i', url,
    ...(seconds !== undefined ? ['-t', String(seconds)] : []),
    '-f', 'null', '-',
  ]);
}

export function has(binary: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${binary}`]).status === 0;
}

/** Resolves with the exit, or with undefined after ms. */
export function exitWithin(p: Proc, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
  return Promise.race([p.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms))]);
}
