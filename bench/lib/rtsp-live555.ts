/**
 * live555 as the baseline relay in the RTSP fan-out bench: live555MediaServer plays the test clip (repeated, as it
 * plays a file once) and live555ProxyServer (`-t`: RTP over TCP from the back end) relays it to every reader.
 * Neither is a Debian package: the binaries are built from live555's source outside this repository and given by
 * path (LIVE555_MEDIA, LIVE555_PROXY). Both print their URL on startup (live555MediaServer.cpp, live555ProxyServer.cpp:
 * "rtsp://<address>[:<port>]/…"); the media server takes port 554, else 8554 (it has no port option).
 */
import { accessSync, constants, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { BenchError, tail } from './check.js';
import { freePort, run, running, waitUntil } from './proc.js';
import { decodeCheck, exitedHow, ffmpegFrames, type Target } from './rtsp-target.js';

/** Throws a BenchError unless `path` (named by env var `name`) is an executable file. */
export function requireBinary(name: string, path: string): void {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new BenchError(`${name}=${path} is not an executable file (build live555 and point ${name} at the binary)`);
  }
}

/** Starts both servers in `dir` on `annexB` (an Annex B H.264 file long enough for the whole run) and checks a player decodes. */
export async function startLive555(dir: string, annexB: string, mediaBin: string, proxyBin: string, log: (s: string) => void): Promise<Target> {
  const mediaDir = join(dir, 'live555-media');
  mkdirSync(mediaDir, { recursive: true });
  symlinkSync(annexB, join(mediaDir, 'test.264'));
  const media = run(mediaBin, [], { cwd: mediaDir });
  let mediaPort = 0;
  try {
    await waitUntil('live555MediaServer to print its URL', () => {
      const m = /rtsp:\/\/[^/\s:]+(?::(\d+))?\//.exec(media.out());
      if (m) mediaPort = m[1] ? Number(m[1]) : 554;
      return mediaPort > 0 || !running(media.proc);
    }, 10_000);
  } catch {
    /* reported below */
  }
  if (!mediaPort) throw new BenchError(`live555MediaServer (${mediaBin}) did not start (ports 554 and 8554 both taken?):\n${tail(media.out())}`);
  const proxyPort = await freePort();
  const proxy = run(proxyBin, ['-t', '-p', String(proxyPort), `rtsp://127.0.0.1:${mediaPort}/test.264`], { cwd: mediaDir });
  const url = `rtsp://127.0.0.1:${proxyPort}/proxyStream`;
  const said = (): string => `live555MediaServer said:\n${tail(media.out())}\nlive555ProxyServer said:\n${tail(proxy.out())}`;
  try {
    await waitUntil('live555ProxyServer to serve the stream', async () => (await ffmpegFrames(url, 1)).frames > 0, 30_000);
  } catch (e) {
    throw new BenchError(`${(e as Error).message}\n${said()}`);
  }
  const problem = async (): Promise<string | undefined> => exitedHow('live555MediaServer', media) ?? exitedHow('live555ProxyServer', proxy);
  log(await decodeCheck('live555', () => url));
  return {
    name: 'live555ProxyServer',
    pid: proxy.proc.pid!,
    urls: (n) => Array.from({ length: n }, () => url),
    problem,
    async ensureUp() {
      // live555MediaServer plays its file once per client; restarting it would restart the proxy's back end too
      const why = await problem();
      if (why) throw new BenchError(why);
    },
    async stop() {
      proxy.proc.kill('SIGKILL');
      media.proc.kill('SIGKILL');
    },
  };
}
