/**
 * Timers of the RTSP server, driven by a clock the test moves (the server takes `now()` from its deps): idle RTSP
 * sessions are reaped, keep-alives keep them, and connections that never send a request are closed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/usher.js';
import { playTcp, publishTcp, RawRtsp, rtp } from './client.js';
import { startRtspHarness, type RtspHarness } from './harness.js';

describe('RTSP timers (manual clock)', () => {
  let h: RtspHarness;
  const open: RawRtsp[] = [];
  const track = <T extends RawRtsp>(c: T): T => {
    open.push(c);
    return c;
  };

  beforeAll(async () => {
    h = await startRtspHarness({ rtsp: { udpPorts: '41500-41549', sessionTimeoutSeconds: 60, requestTimeoutSeconds: 10 } });
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await h.stop();
  });

  it('reaps a session that sends nothing for sessionTimeoutSeconds, but not one that keeps alive', async () => {
    const pub = track(await publishTcp(h.port, 'live/idle', `tkn=${h.sign('live/idle', 'p', 'publish')}`));
    const { c: quiet } = await playTcp(h.port, 'live/idle', `tkn=${h.sign('live/idle', 'q')}`);
    const { c: chatty } = await playTcp(h.port, 'live/idle', `tkn=${h.sign('live/idle', 'c')}`);
    track(quiet);
    track(chatty);

    h.elapse(30_000);
    expect((await chatty.request('GET_PARAMETER', h.url('live/idle'))).status).toBe(200);
    pub.sendFrame(0, rtp(1));
    await waitFor(() => chatty.frames.length >= 1 && quiet.frames.length >= 1);
    h.elapse(31_000); // 61 s after the quiet viewer's last word, 31 s after the others'
    await quiet.closed;
    expect(h.server.sessions.has(quiet.session!)).toBe(false);
    expect(chatty.isClosed).toBe(false);
    expect(pub.isClosed).toBe(false);
  });

  it('closes a connection that sends no request within requestTimeoutSeconds, not one that did', async () => {
    const silent = track(await RawRtsp.connect(h.port));
    const spoke = track(await RawRtsp.connect(h.port));
    expect((await spoke.request('OPTIONS', h.url('x'))).status).toBe(200);
    await waitFor(() => h.server.conns.size >= 2);
    h.elapse(9_000);
    expect(silent.isClosed).toBe(false);
    h.elapse(2_000);
    await silent.closed;
    expect(spoke.isClosed).toBe(false);
  });

  it('closes a connection whose request, begun after a valid one, does not complete within requestTimeoutSeconds', async () => {
    // issue 7 §3: after one valid OPTIONS, one byte every few seconds used to hold the connection for ever
    const slow = track(await RawRtsp.connect(h.port));
    const ok = track(await RawRtsp.connect(h.port));
    expect((await slow.request('OPTIONS', h.url('x'))).status).toBe(200);
    expect((await ok.request('OPTIONS', h.url('x'))).status).toBe(200);
    const trickle = async (bytes: string): Promise<void> => {
      const before = [...h.server.conns].reduce((n, c) => n + c.bytesRead, 0);
      slow.socket.write(bytes);
      await waitFor(() => [...h.server.conns].reduce((n, c) => n + c.bytesRead, 0) > before);
    };
    await trickle('O');
    h.elapse(6_000);
    await trickle('P');
    h.elapse(3_000);
    expect(slow.isClosed).toBe(false); // 9 s into its request
    expect((await ok.request('OPTIONS', h.url('x'))).status).toBe(200); // complete requests are fine
    h.elapse(2_000);
    await slow.closed;
    expect(ok.isClosed).toBe(false);
  });

  it('a request that completes within requestTimeoutSeconds, however slowly sent, is answered', async () => {
    const c = track(await RawRtsp.connect(h.port));
    expect((await c.request('OPTIONS', h.url('x'))).status).toBe(200);
    const text = `OPTIONS ${h.url('x')} RTSP/1.0\r\nCSeq: 9\r\n\r\n`;
    const before = [...h.server.conns].reduce((n, x) => n + x.bytesRead, 0);
    c.socket.write(text.slice(0, 10));
    await waitFor(() => [...h.server.conns].reduce((n, x) => n + x.bytesRead, 0) > before);
    h.elapse(9_000);
    const answer = c.raw(text.slice(10));
    expect((await answer).status).toBe(200);
    h.elapse(9_000); // the clock restarts with the next request
    expect(c.isClosed).toBe(false);
  });
});

describe('RTSP connections per client address', () => {
  let h: RtspHarness;
  const open: RawRtsp[] = [];
  beforeAll(async () => {
    h = await startRtspHarness({ rtsp: { udpPorts: '41650-41699', maxConnections: 10, maxConnectionsPerIp: 5, requestTimeoutSeconds: 10 } });
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await h.stop();
  });

  it('one address cannot take every slot: past maxConnectionsPerIp its connections are closed at once, others are served', async () => {
    const mine: RawRtsp[] = [];
    for (let i = 0; i < 5; i++) {
      const c = await RawRtsp.connect(h.port);
      open.push(c);
      mine.push(c);
      expect((await c.request('OPTIONS', h.url('x'))).status).toBe(200);
    }
    const refusedBefore = h.server.refusedConnections;
    const sixth = await RawRtsp.connect(h.port);
    open.push(sixth);
    await sixth.closed;
    expect(h.server.refusedConnections).toBe(refusedBefore + 1);

    const other = await RawRtsp.connect(h.port, '127.0.0.1', '127.0.0.2');
    open.push(other);
    expect((await other.request('OPTIONS', h.url('x'))).status).toBe(200);

    mine[0].close();
    await waitFor(() => h.server.conns.size === 5);
    const again = await RawRtsp.connect(h.port);
    open.push(again);
    expect((await again.request('OPTIONS', h.url('x'))).status).toBe(200);
  });
});
