/**
 * Every adapter, by server type. One file per media server.
 */
import type { ServerType } from '../config/schema.js';
import { flussonicAdapter } from './flussonic.js';
import { mediamtxAdapter } from './mediamtx.js';
import { mistAdapter } from './mistserver.js';
import { nginxRtmpAdapter } from './nginx-rtmp.js';
import { nmsAdapter } from './nms.js';
import { omeAdapter } from './ome.js';
import { srsAdapter } from './srs.js';
import type { Adapter } from './types.js';

export function allAdapters(): Map<ServerType, Adapter> {
  const list: Adapter[] = [nginxRtmpAdapter, mediamtxAdapter, srsAdapter, omeAdapter, mistAdapter, flussonicAdapter, nmsAdapter];
  return new Map(list.map((a) => [a.type, a]));
}
