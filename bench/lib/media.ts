/**
 * The test media the RTSP bench publishes, generated with ffmpeg into the bench's temp dir (nothing prepared is
 * needed): one H.264 clip as MP4 — ffmpeg's publisher loops it in real time (`-re -stream_loop -1`), which needs the
 * container's timestamps (a raw .264 has none: `-re` does not pace it and readers' `-t` never ends) — and the same
 * bitstream as Annex B (.264) for live555MediaServer, which plays a file once, so it gets the clip repeated.
 */
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { join } from 'node:path';
import { BenchError, tail } from './check.js';
import { exited, run } from './proc.js';

export interface TestMedia {
  /** MP4 (H.264 High, yuv420p, GOP = 1 s, no audio). */
  mp4: string;
  /** The same H.264 bitstream, Annex B. */
  annexB: string;
  /** Clip length, s. */
  seconds: number;
  /** Average video bitrate of the clip, Mbps (10^6 bit/s). */
  mbps: number;
}

async function ffmpeg(args: string[], what: string): Promise<void> {
  const r = run('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args]);
  const code = await exited(r.proc);
  if (code !== 0) throw new BenchError(`ffmpeg could not ${what} (exit ${code}):\n${tail(r.out())}`);
}

/** Encodes a `seconds`-long 720p30 test pattern at ~`mbps` into `dir`; throws a BenchError with ffmpeg's output. */
export async function generateMedia(dir: string, seconds = 20, mbps = 4): Promise<TestMedia> {
  const mp4 = join(dir, 'clip.mp4');
  const annexB = join(dir, 'clip.264');
  await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-t', String(seconds), '-c:v', 'libx264',
    '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', '30', '-b:v', `${mbps}M`, '-maxrate', `${mbps}M`,
    '-bufsize', `${mbps / 2}M`, mp4], 'encode the test clip');
  await ffmpeg(['-i', mp4, '-c', 'copy', '-bsf:v', 'h264_mp4toannexb', '-f', 'h264', annexB], 'extract the Annex B stream');
  return { mp4, annexB, seconds, mbps: (statSync(annexB).size * 8) / seconds / 1e6 };
}

/** Writes `src` `times` times over into `to` (Annex B streams concatenate into one valid stream). */
export async function repeatFile(src: string, to: string, times: number): Promise<void> {
  const out = createWriteStream(to);
  for (let i = 0; i < times; i++) {
    await new Promise<void>((res, rej) => {
      const input = createReadStream(src);
      input.on('error', rej);
      input.on('end', () => res());
      input.pipe(out, { end: false });
    });
  }
  await new Promise<void>((res, rej) => out.end((e?: Error | null) => (e ? rej(e) : res())));
}
