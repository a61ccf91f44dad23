/**
 * 1,000 idle TCP connections (connected, silent) must not stop a publisher and a reader from working.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RtspServer } from '../../src/rtsp/server.js';
import { startUsher, waitFor, type TestUsher } from '../helpers/usher.js';
import { killAll, publish, read } from '../rtsp/ffmpeg.js';

const IDLE = 1000;

describe('RTSP with 1,000 idle connections', () => {
  let u: TestUsher;
  let port: number;
  let srv: RtspServer;
  const idle: Socket[] = [];

  beforeAll(async () => {
    u = await startUsher({
      rtsp: { enabled: true, listen: '127.0.0.1:0', udpPorts: '41300-41399', maxConnections: IDLE + 100, maxConnectionsPerIp: IDLE + 100, requestTimeoutSeconds: 300 },
    });
    port = Number(u.app.rtsp!.address().split(':').pop());
    srv = (u.app.rtsp as unknown as { server: RtspServer }).server;
  });
  afterAll(async () => {
    killAll();
    for (const s of idle) s.destroy();
    await u.stop();
  });

  it('a publisher and a reader still work', async () => {
    // bounded loop: 1,000 connections, 100 at a time
    for (let i = 0; i < IDLE; i += 100) {
      await Promise.all(
        Array.from({ length: 100 }, () => new Promise<void>((resolve, reject) => {
          const s = connect(port, '127.0.0.1', () => resolve());
          s.on('error', reject);
          idle.push(s);
        })),
      );
    }
    await waitFor(() => srv.conns.size >= IDLE);

    const pubToken = u.sign({ stream: 'live/busyhouse', account: 'studio', action: 'publish' });
    const pub = publish(`rtsp://127.0.0.1:${port}/live/busyhouse?tkn=${pubToken}`, 'tcp');
    await waitFor(() => (srv.catalogue.lookup('live/busyhouse')?.tracks[0].packets ?? 0) > 0, 15_000);
    const r = read(`rtsp://127.0.0.1:${port}/live/busyhouse?tkn=${u.sign({ stream: 'live/busyhouse', account: 'v' })}`, 'tcp', 2);
    const e = await r.exited;
    expect(e.code, r.stderr()).toBe(0);
    expect(r.frames()).toBeGreaterThan(0);
    // the idle ones are all still there
    expect(idle.every((s) => !s.destroyed)).toBe(true);
    expect(srv.conns.size).toBeGreaterThanOrEqual(IDLE + 1);
    pub.kill();
  });
});
