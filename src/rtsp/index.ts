/**
 * The built-in RTSP server's entry point (SPEC §5). Modules:
 * - server.ts   listeners, the session table, stream catalogue, UDP pairs, idle reaper, control port (kicks)
 * - conn.ts     one TCP connection: decoding, request order, CSeq, replies, input batches, its pending admission
 * - session.ts  one RTSP session: its state machine (every transition a method) and its end
 * - defs.ts     what handlers see: Reply, the request context, the narrow host and connection interfaces
 * - stream.ts   a named media stream (live555's ServerMediaSession) and its fan-out; track.ts its sub-sessions;
 *               catalogue.ts the name → stream table
 * - sink.ts     how packets reach a TCP or UDP viewer; udp.ts RTP/RTCP port pairs
 * - handlers/   one module per method; admission.ts turns requests into AdmissionRequests
 * - protocol/   the pure RTSP/SDP/RTP codecs
 * Imports form a tree: server → conn → handlers → session → stream (defs is types only).
 */
import type { Config } from '../config/schema.js';
import type { AdmissionPipeline } from '../core/pipeline.js';
import type { Registry } from '../core/registry.js';
import type { Logger } from '../log.js';
import { RtspServer } from './server.js';

export interface RtspDeps {
  config: Config;
  registry: Registry;
  pipeline: AdmissionPipeline;
  log: Logger;
  /** The clock (ms); the registry's when not given. */
  now?: () => number;
}

export interface RtspHandle {
  address(): string;
  close(): Promise<void>;
  /** The server itself (tests, metrics). */
  readonly server: RtspServer;
}

export async function startRtsp(deps: RtspDeps): Promise<RtspHandle | undefined> {
  const server = new RtspServer(deps);
  await server.start();
  return {
    server,
    address: () => server.address(),
    close: () => server.close(),
  };
}

export { RtspServer };
