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
});
