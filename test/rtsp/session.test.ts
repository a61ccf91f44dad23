/**
 * The RTSP session state machine and the connection's robustness, against a real server: 455 outside the allowed
 * states, 454 for unknown sessions, 400/413/505/501 for what is not a good request, garbage never crashes the
 * server, connections past maxConnections are closed (timers are in timers.test.ts).
 */
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUsher, waitFor, type TestUsher } from '../helpers/usher.js';
import { playTcp, publishTcp, RawRtsp, SDP_H264_AAC } from './client.js';

describe('RTSP session states and connection robustness', () => {
  let u: TestUsher;
  let port: number;
  let base: string;
  const open: RawRtsp[] = [];
  const conn = async (): Promise<RawRtsp> => {
    const c = await RawRtsp.connect(port);
    open.push(c);
    return c;
  };

  beforeAll(async () => {
    u = await startUsher({
      rtsp: { enabled: true, listen: '127.0.0.1:0', udpPorts: '41100-41199', requestTimeoutSeconds: 1, maxConnections: 40, maxRequestBytes: 2048, maxHeaders: 16 },
    });
    port = Number(u.app.rtsp!.address().split(':').pop());
    base = `rtsp://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await u.stop();
  });

  const tok = (stream: string, account: string, action: 'play' | 'publish' = 'play'): string => `tkn=${u.sign({ stream, account, action })}`;

  it('455 for PLAY or RECORD before any SETUP, 454 for an unknown session', async () => {
    const c = await conn();
    expect((await c.request('PLAY', `${base}/live/s`)).status).toBe(455);
    expect((await c.request('RECORD', `${base}/live/s`)).status).toBe(455);
    expect((await c.request('PAUSE', `${base}/live/s`)).status).toBe(455);
    expect((await c.request('PLAY', `${base}/live/s`, { Session: 'deadbeef00000000' })).status).toBe(454);
    expect((await c.request('SETUP', `${base}/live/s/trackID=0`, { Session: 'deadbeef00000000', Transport: 'RTP/AVP/TCP;interleaved=0-1' })).status).toBe(454);
    expect((await c.request('GET_PARAMETER', `${base}/live/s`, { Session: 'deadbeef00000000' })).status).toBe(454);
    // the connection is still usable after refusals
    expect((await c.request('OPTIONS', `${base}/live/s`)).status).toBe(200);
  });

  it('a publisher session: PLAY is 455, SETUP after RECORD is 455, a second ANNOUNCE is 455', async () => {
    const pub = await publishTcp(port, 'live/st', tok('live/st', 'p', 'publish'));
    open.push(pub);
    const url = `${base}/live/st`;
    expect((await pub.request('PLAY', url)).status).toBe(455);
    expect((await pub.request('SETUP', `${url}/streamid=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=4-5;mode=record' })).status).toBe(455);
    expect((await pub.request('ANNOUNCE', url, { 'Content-Type': 'application/sdp' }, SDP_H264_AAC)).status).toBe(455);
    // PAUSE takes a publisher back to PreRecord, then RECORD again
    expect((await pub.request('PAUSE', url)).status).toBe(200);
    expect((await pub.request('RECORD', url)).status).toBe(200);
  });

  it('a reader session: RECORD is 455, SETUP after PLAY is 455, PAUSE then PLAY again', async () => {
    const pub = await publishTcp(port, 'live/rd', tok('live/rd', 'p', 'publish'));
    open.push(pub);
    const { c, play } = await playTcp(port, 'live/rd', tok('live/rd', 'r'));
    open.push(c);
    expect(play.status).toBe(200);
    const url = `${base}/live/rd`;
    expect((await c.request('RECORD', url)).status).toBe(455);
    expect((await c.request('SETUP', `${url}/trackID=1`, { Transport: 'RTP/AVP/TCP;interleaved=2-3' })).status).toBe(455);
    expect((await c.request('PAUSE', url)).status).toBe(200);
    expect((await c.request('PLAY', url)).status).toBe(200);
  });

  it('SETUP refusals: no Transport (400), an unknown track (404), an unsupported transport (461)', async () => {
    const pub = await publishTcp(port, 'live/su', tok('live/su', 'p', 'publish'));
    open.push(pub);
    const c = await conn();
    const url = `${base}/live/su?${tok('live/su', 'r')}`;
    expect((await c.request('DESCRIBE', url)).status).toBe(200);
    expect((await c.request('SETUP', `${url}/trackID=0`)).status).toBe(400);
    expect((await c.request('SETUP', `${url}/trackID=7`, { Transport: 'RTP/AVP/TCP;interleaved=0-1' })).status).toBe(404);
    const c2 = await conn();
    expect((await c2.request('DESCRIBE', url)).status).toBe(200);
    expect((await c2.request('SETUP', `${url}/trackID=0`, { Transport: 'RTP/SAVP;unicast;client_port=5000-5001' })).status).toBe(461);
    // SETUP without DESCRIBE is admitted at SETUP
    const c3 = await conn();
    const s = await c3.request('SETUP', `${url}/trackID=0`, { Transport: 'RTP/AVP/TCP;interleaved=0-1' });
    expect(s.status).toBe(200);
    expect((await c3.request('PLAY', url)).status).toBe(200);
  });

  it('answers 400 to a malformed request and closes; 413 to an oversized one; 400 without CSeq', async () => {
    const a = await conn();
    expect((await a.raw('OPTIONS\r\n\r\n')).status).toBe(400);
    await a.closed;
    const b = await conn();
    expect((await b.raw(`OPTIONS ${base}/x RTSP/1.0\r\nCSeq: 1\r\nX-Pad: ${'a'.repeat(4000)}\r\n\r\n`)).status).toBe(413);
    await b.closed;
    const c = await conn();
    expect((await c.raw(`OPTIONS ${base}/x RTSP/1.0\r\nUser-Agent: t\r\n\r\n`)).status).toBe(400);
    await c.closed;
    const d = await conn();
    const many = Array.from({ length: 20 }, (_, i) => `X-H${i}: v\r\n`).join('');
    expect((await d.raw(`OPTIONS ${base}/x RTSP/1.0\r\nCSeq: 1\r\n${many}\r\n`)).status).toBe(400);
    await d.closed;
  });

  it('a malformed request on a connection with a session still gets its 400 before the close, and ends the session', async () => {
    const pub = await publishTcp(port, 'live/mal', tok('live/mal', 'p', 'publish'));
    open.push(pub);
    const { c } = await playTcp(port, 'live/mal', tok('live/mal', 'r'));
    open.push(c);
    const sessions = (u.app.rtsp as unknown as { server: { sessions: Map<string, unknown> } }).server.sessions;
    expect(sessions.has(c.session!)).toBe(true);
    expect((await c.raw('GARBAGE\r\n\r\n')).status).toBe(400);
    await c.closed;
    expect(sessions.has(c.session!)).toBe(false);
    expect(pub.isClosed).toBe(false);
  });

  it('505 for another RTSP version, 501 for an unknown method', async () => {
    const c = await conn();
    expect((await c.raw(`OPTIONS ${base}/x RTSP/2.0\r\nCSeq: 1\r\n\r\n`)).status).toBe(505);
    const r = await c.raw(`FROBNICATE ${base}/x RTSP/1.0\r\nCSeq: 2\r\n\r\n`);
    expect(r.status).toBe(501);
    expect(r.get('cseq')).toBe('2');
  });

  it('survives garbage (property test) and still serves requests', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 3000 }), async (bytes) => {
        await new Promise<void>((resolve) => {
          const s = connect(port, '127.0.0.1', () => {
            s.write(bytes);
            setTimeout(() => s.destroy(), 5);
          });
          s.on('error', () => {});
          s.on('close', () => resolve());
        });
      }),
      { numRuns: 60 },
    );
    const c = await conn();
    expect((await c.request('OPTIONS', `${base}/x`)).status).toBe(200);
  });

  it('closes connections past maxConnections at once and serves again once below', async () => {
    const held: RawRtsp[] = [];
    const srv = (u.app.rtsp as unknown as { server: { conns: Set<unknown>; refusedConnections: number } }).server;
    while (srv.conns.size < 40) {
      const c = await conn();
      held.push(c);
      // one request each, so the request timeout does not thin them out meanwhile
      await c.request('OPTIONS', `${base}/x`).catch(() => undefined);
    }
    const refusedBefore = srv.refusedConnections;
    const extra = await conn();
    await extra.closed;
    expect(srv.refusedConnections).toBe(refusedBefore + 1);
    for (const c of held) c.close();
    await waitFor(() => srv.conns.size < 40);
    const ok = await conn();
    expect((await ok.request('OPTIONS', `${base}/x`)).status).toBe(200);
  });
});
