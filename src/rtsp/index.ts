/**
 * The built-in RTSP server's entry point (SPEC §5).
 */
import type { Config } from '../config/schema.js';
import type { AdmissionPipeline } from '../core/pipeline.js';
import type { Registry } from '../core/registry.js';
import type { Logger } from '../log.js';

export interface RtspDeps {
  config: Config;
  registry: Registry;
  pipeline: AdmissionPipeline;
  log: Logger;
}

export interface RtspHandle {
  address(): string;
  close(): Promise<void>;
}

export async function startRtsp(_deps: RtspDeps): Promise<RtspHandle | undefined> {
  return undefined;
}
