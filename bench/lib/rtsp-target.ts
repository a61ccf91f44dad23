/**
 * One relay under test in the RTSP fan-out bench (Usher, or live555ProxyServer in front of live555MediaServer) and
 * the real-player check both must pass before any window is measured.
 */
import { BenchError, tail } from './check.js';
import { exited, run, running, type Run } from './proc.js';

export interface Target {
  /** "Usher" or "live555ProxyServer". */
  name: string;
  /** The relay process whose CPU and RSS are measured. */
  pid: number;
  /** `n` reader URLs (each a distinct viewer where the server tells them apart). */
  urls(n: number): string[];
  /** Why the relay or its publisher is not up right now, or undefined when all is up. */
  problem(): Promise<string | undefined>;
  /** Makes sure the publisher is up, restarting it where that is possible; a BenchError when it cannot. */
  ensureUp(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A real ffmpeg player over RTP/TCP decoding `seconds` of stream time: frames decoded and wall time taken, s.
 * Killed after `seconds` + 20 s of wall time (a stream without valid timestamps never reaches its `-t`).
 */
export async function ffmpegFrames(url: string, seconds: number): Promise<{ frames: number; wall: number; out: string }> {
  const t0 = performance.now();
  const r = run('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-nostats', '-progress', 'pipe:1',
    '-rtsp_transport', 'tcp', '-i', url, '-t', String(seconds), '-f', 'null', '-']);
  const killer = setTimeout(() => r.proc.kill('SIGKILL'), (seconds + 20) * 1000);
  await exited(r.proc);
  clearTimeout(killer);
  const all = [...r.out().matchAll(/^frame=(\d+)$/gm)];
  return { frames: all.length ? Number(all[all.length - 1][1]) : 0, wall: (performance.now() - t0) / 1000, out: r.out() };
}

/**
 * Two ffmpeg players decode 4 s each at once (URLs from `url(i)`): both must decode frames, and no faster than
 * half real time — a publisher that is not paced (a raw .264 under `-re`) would make every figure meaningless.
 * Returns the log line; throws a BenchError naming what failed.
 */
export async function decodeCheck(name: string, url: (i: number) => string): Promise<string> {
  const seconds = 4;
  const players = await Promise.all([0, 1].map((i) => ffmpegFrames(url(i), seconds)));
  for (const p of players) {
    if (p.frames === 0) throw new BenchError(`${name}: an ffmpeg player decoded no frame in ${p.wall.toFixed(1)} s:\n${tail(p.out)}`);
    if (p.wall < seconds / 2) {
      throw new BenchError(`${name}: an ffmpeg player got ${seconds} s of stream (${p.frames} frames) in ${p.wall.toFixed(1)} s: the publisher is not paced in real time`);
    }
    if (p.wall > seconds + 19) throw new BenchError(`${name}: an ffmpeg player did not reach ${seconds} s of stream time in ${p.wall.toFixed(0)} s (${p.frames} frames): the stream's timestamps are wrong`);
  }
  return `${name}: 2 ffmpeg players decoded ${players.map((p) => p.frames).join(' and ')} frames of ${seconds} s in ${players.map((p) => p.wall.toFixed(1)).join(' and ')} s`;
}

/** A child's state for a problem() message: undefined while it runs, else how it exited and its last output. */
export function exitedHow(what: string, r: Run): string | undefined {
  if (running(r.proc)) return undefined;
  return `${what} exited (${r.proc.exitCode !== null ? `code ${r.proc.exitCode}` : r.proc.signalCode}); its last output:\n${tail(r.out(), 800)}`;
}
