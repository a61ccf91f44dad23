/**
 * The RTSP server inside a real Usher (real SQLite, real sockets), driven by a raw RTSP client: headers, fan-out over
 * TCP and UDP, RTCP passing, admission answers (401 challenge / 403 / Basic / Digest), busy paths, kicks, slow readers.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRtpInfo, parseSdp, parseTransportSpec } from '../../src/rtsp/protocol/index.js';
import type { RtspServer } from '../../src/rtsp/server.js';
import { startUsher, waitFor, type TestUsher } from '../helpers/usher.js';
import { digestHeader, playTcp, publishTcp, RawRtsp, rtp, SDP_H264_AAC } from './client.js';

const UDP = '41000-41099';

function portOf(u: TestUsher): number {
  return Number(u.app.rtsp!.address().split(':').pop());
}
function server(u: TestUsher): RtspServer {
  return (u.app.rtsp as unknown as { server: RtspServer }).server;
}
async function sessions(u: TestUsher, q = ''): Promise<Array<Record<string, any>>> {
  return (await u.api('GET', `/v1/sessions?server=builtin${q}`)).body.items;
}

describe('RTSP server (raw client)', () => {
  let u: TestUsher;
  let port: number;
  const open: RawRtsp[] = [];
  const track = <T extends RawRtsp>(c: T): T => {
    open.push(c);
    return c;
  };

  beforeAll(async () => {
    u = await startUsher({
      rtsp: { enabled: true, listen: '127.0.0.1:0', udpPorts: UDP, authMethods: ['basic', 'digest'] },
      auth: { streamKeys: { 'live/keyed': 'k3y-secret' } },
    });
    port = portOf(u);
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await u.stop();
  });

  const tok = (stream: string, account: string, action: 'play' | 'publish' = 'play'): string => `tkn=${u.sign({ stream, account, action })}`;

  it('publishes and plays over TCP with the right headers and the publisher\'s packets', async () => {
    const pub = track(await publishTcp(port, 'live/a', tok('live/a', 'p', 'publish')));
    const seqs = [100, 101, 102];
    for (const s of seqs) pub.sendFrame(0, rtp(s, 9000));
    pub.sendFrame(2, rtp(55, 4410, 20, 97));
    await waitFor(() => server(u).catalogue.lookup('live/a')?.tracks[1].lastSeq === 55);

    const c = track(await RawRtsp.connect(port));
    const url = `rtsp://127.0.0.1:${port}/live/a?${tok('live/a', 'r1')}`;
    const o = await c.request('OPTIONS', url);
    expect(o.status).toBe(200);
    expect(o.get('cseq')).toBe('1');
    expect(o.get('server')).toBe('Usher');
    expect(o.get('public')).toContain('GET_PARAMETER');

    const d = await c.request('DESCRIBE', url, { Accept: 'application/sdp' });
    expect(d.status).toBe(200);
    expect(d.get('cseq')).toBe('2');
    const base = `rtsp://127.0.0.1:${port}/live/a/`;
    expect(d.get('content-base')).toBe(base);
    expect(d.get('content-type')).toBe('application/sdp');
    const sdp = parseSdp(d.body);
    expect(sdp.ok && sdp.sdp.media.map((m) => m.control)).toEqual(['trackID=0', 'trackID=1']);
    expect(sdp.ok && sdp.sdp.control).toBe('*');

    // as ffmpeg does: the URL it was given, plus '/' and the control
    const s0 = await c.request('SETUP', `${url}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
    expect(s0.status).toBe(200);
    expect(s0.get('session')).toMatch(/^[0-9a-f]{16};timeout=60$/);
    const t0 = parseTransportSpec(s0.get('transport')!);
    expect(t0.ok && t0.spec).toMatchObject({ lowerTransport: 'TCP', interleaved: [0, 1], ssrc: 0x11223344 });
    // as GStreamer does: the control resolved against Content-Base
    const s1 = await c.request('SETUP', `${base}trackID=1`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=2-3' });
    expect(s1.status).toBe(200);
    expect(s1.get('session')).toBe(s0.get('session'));

    const p = await c.request('PLAY', `${url}/`, { Range: 'npt=0.000-' });
    expect(p.status).toBe(200);
    expect(p.get('range')).toBe('npt=0.000-');
    const info = parseRtpInfo(p.get('rtp-info')!);
    expect(info).toEqual([
      { url: `${url}/trackID=0`, seq: 103, rtptime: 9000 },
      { url: `${base}trackID=1`, seq: 56, rtptime: 4410 },
    ]);

    // packets now flow, RTCP included, on the reader's channels
    pub.sendFrame(0, rtp(103, 12000));
    pub.sendFrame(1, Buffer.from('80c80006aabbccdd', 'hex'));
    pub.sendFrame(2, rtp(56, 5434, 20, 97));
    await waitFor(() => c.frames.length >= 3);
    expect(c.frames.map((f) => f.channel)).toEqual([0, 1, 2]);
    expect(c.frames[0].payload.equals(rtp(103, 12000))).toBe(true);

    // both are live sessions of the registry, under the builtin server, with the RTSP client ids
    const live = await sessions(u, '&status=active&stream=live/a');
    expect(live.map((s) => s.kind).sort()).toEqual(['input', 'viewer']);
    expect(live.find((s) => s.kind === 'viewer')!.clientId).toBe(`rtsp-${c.session}`);

    // keep-alive and teardown
    expect((await c.request('GET_PARAMETER', `${url}/`)).status).toBe(200);
    expect((await c.request('TEARDOWN', `${url}/`)).status).toBe(200);
    expect(server(u).sessions.has(c.session!)).toBe(false);
    pub.close();
    await waitFor(() => server(u).catalogue.lookup('live/a') === undefined);
  });

  it('frames once per channel for readers on other channels, and sends raw RTP to UDP readers', async () => {
    const pub = track(await publishTcp(port, 'live/b', tok('live/b', 'p', 'publish')));
    const { c: other } = await playTcp(port, 'live/b', tok('live/b', 'r2'), [[10, 11], [12, 13]]);
    track(other);

    const c = track(await RawRtsp.connect(port));
    const url = `rtsp://127.0.0.1:${port}/live/b?${tok('live/b', 'r3')}`;
    expect((await c.request('DESCRIBE', url)).status).toBe(200);
    const rtpSock: UdpSocket = createSocket('udp4');
    const rtcpSock: UdpSocket = createSocket('udp4');
    await new Promise<void>((r) => rtpSock.bind(0, '127.0.0.1', () => r()));
    await new Promise<void>((r) => rtcpSock.bind(rtpSock.address().port + 1, '127.0.0.1', () => r()));
    const got: Buffer[] = [];
    const gotRtcp: Buffer[] = [];
    rtpSock.on('message', (m) => got.push(m));
    rtcpSock.on('message', (m) => gotRtcp.push(m));
    try {
      const cp = rtpSock.address().port;
      const s = await c.request('SETUP', `${url}/trackID=0`, { Transport: `RTP/AVP;unicast;client_port=${cp}-${cp + 1}` });
      expect(s.status).toBe(200);
      const t = parseTransportSpec(s.get('transport')!);
      expect(t.ok && t.spec.clientPort).toEqual([cp, cp + 1]);
      const sp = t.ok ? t.spec.serverPort! : [0, 0];
      expect(sp[0]).toBeGreaterThanOrEqual(41000);
      expect(sp[1]).toBe(sp[0] + 1);
      expect((await c.request('PLAY', url)).status).toBe(200);

      pub.sendFrame(0, rtp(1));
      pub.sendFrame(1, Buffer.from('80c8000611111111', 'hex'));
      pub.sendFrame(2, rtp(2, 1, 10, 97));
      await waitFor(() => got.length >= 1 && gotRtcp.length >= 1 && other.frames.length >= 3);
      expect(got[0].equals(rtp(1))).toBe(true);
      expect(got).toHaveLength(1); // the UDP reader set up video only
      expect(gotRtcp[0].toString('hex')).toBe('80c8000611111111');
      expect(other.frames.map((f) => f.channel)).toEqual([10, 11, 12]);
      expect(other.frames[0].payload.equals(rtp(1))).toBe(true);

      // an RTCP receiver report from the reader counts as activity
      const sess = server(u).sessions.get(c.session!)!;
      sess.lastActivity = 0;
      rtcpSock.send(Buffer.from('80c90001deadbeef', 'hex'), sp[1], '127.0.0.1');
      await waitFor(() => sess.lastActivity > 0);
    } finally {
      rtpSock.close();
      rtcpSock.close();
    }
  });

  it('takes a UDP publisher on a port pair of its own', async () => {
    const c = track(await RawRtsp.connect(port));
    const url = `rtsp://127.0.0.1:${port}/live/udp?${tok('live/udp', 'p', 'publish')}`;
    expect((await c.request('ANNOUNCE', url, { 'Content-Type': 'application/sdp' }, SDP_H264_AAC)).status).toBe(200);
    const out = createSocket('udp4');
    await new Promise<void>((r) => out.bind(0, '127.0.0.1', () => r()));
    try {
      const cp = out.address().port;
      const s = await c.request('SETUP', `${url}/streamid=0`, { Transport: `RTP/AVP/UDP;unicast;client_port=${cp}-${cp + 1};mode=record` });
      expect(s.status).toBe(200);
      const t = parseTransportSpec(s.get('transport')!);
      const sp = t.ok ? t.spec.serverPort! : [0, 0];
      expect(t.ok && t.spec.mode).toBe('record');
      expect(sp[0]).toBeGreaterThanOrEqual(41000);
      expect((await c.request('RECORD', url)).status).toBe(200);

      const { c: r } = await playTcp(port, 'live/udp', tok('live/udp', 'r'));
      track(r);
      for (let i = 0; i < 5; i++) out.send(rtp(500 + i), sp[0], '127.0.0.1');
      await waitFor(() => r.frames.length >= 5);
      expect(r.frames.map((f) => f.payload.readUInt16BE(2))).toEqual([500, 501, 502, 503, 504]);
      expect(r.frames.every((f) => f.channel === 0)).toBe(true);
    } finally {
      out.close();
    }
  });

  it('asks for credentials (401 + Basic only: Digest cannot carry a token), refuses a bad token (403, counted), takes Basic', async () => {
    const pub = track(await publishTcp(port, 'live/auth', tok('live/auth', 'p', 'publish')));
    expect(pub.isClosed).toBe(false);
    const c = track(await RawRtsp.connect(port));
    const url = `rtsp://127.0.0.1:${port}/live/auth`;
    const none = await c.request('DESCRIBE', url);
    expect(none.status).toBe(401);
    // authMethods offers Digest too, but this stream has no static key a Digest response could be checked against
    expect(none.headers.get('www-authenticate')).toEqual(['Basic realm="Usher"']);

    const bad = await c.request('DESCRIBE', `${url}?tkn=not.valid`);
    expect(bad.status).toBe(403);
    // a token nobody signed names nobody: counted per source and code, not stored as a session (SPEC §3 bounds)
    await waitFor(async () => ((await u.api('GET', '/v1/denials')).body.items as Array<{ source: string; code: string }>)
      .some((d) => d.source === 'builtin/127.0.0.1' && d.code === 'E_TOKEN_INVALID'));

    const token = u.sign({ stream: 'live/auth', account: 'basic-user' });
    const basic = `Basic ${Buffer.from(`someone:${token}`).toString('base64')}`;
    const c2 = track(await RawRtsp.connect(port));
    const ok = await c2.request('DESCRIBE', url, { Authorization: basic });
    expect(ok.status).toBe(200);
    const wrong = await c2.request('DESCRIBE', `rtsp://127.0.0.1:${port}/live/auth2`, { Authorization: `Basic ${Buffer.from('x:y').toString('base64')}` });
    expect(wrong.status).toBe(401);
  });

  it('takes Digest credentials checked against a stream key', async () => {
    const pub = track(await publishTcp(port, 'live/keyed', 'tkn=k3y-secret'));
    expect(pub.isClosed).toBe(false);
    const c = track(await RawRtsp.connect(port));
    const url = `rtsp://127.0.0.1:${port}/live/keyed`;
    const first = await c.request('DESCRIBE', url);
    expect(first.status).toBe(401);
    const challenges = first.headers.get('www-authenticate')!;
    expect(challenges).toHaveLength(2);
    expect(challenges[0]).toBe('Basic realm="Usher"');
    expect(challenges[1]).toMatch(/^Digest realm="Usher", nonce="[0-9a-f]{32}"$/);
    const challenge = (r: { headers: Map<string, string[]> }): string => /nonce="([0-9a-f]+)"/.exec(r.headers.get('www-authenticate')![1])![1];
    const good = await c.request('DESCRIBE', url, { Authorization: digestHeader('viewer', 'k3y-secret', 'Usher', challenge(first), 'DESCRIBE', url) });
    expect(good.status).toBe(200);
    // a wrong secret (on another connection, so another nonce) is asked again
    const c2 = track(await RawRtsp.connect(port));
    const n2 = challenge(await c2.request('DESCRIBE', url));
    const bad = await c2.request('DESCRIBE', url, { Authorization: digestHeader('viewer', 'wrong', 'Usher', n2, 'DESCRIBE', url) });
    expect(bad.status).toBe(401);
    // and a response made for the other connection's nonce is refused (no replay)
    const replay = await c2.request('DESCRIBE', url, { Authorization: digestHeader('viewer', 'k3y-secret', 'Usher', challenge(first), 'DESCRIBE', url) });
    expect(replay.status).not.toBe(200);
  });

  it('answers 404 for a stream nobody publishes (after admission) and ends that admission', async () => {
    const c = track(await RawRtsp.connect(port));
    const r = await c.request('DESCRIBE', `rtsp://127.0.0.1:${port}/live/nobody?${tok('live/nobody', 'x')}`);
    expect(r.status).toBe(404);
    await waitFor(async () => (await sessions(u, '&stream=live/nobody')).some((s) => s.status === 'ended' && s.reason === 'stream not found'));
  });

  it('refuses a second publisher on a busy path with 403', async () => {
    const first = track(await publishTcp(port, 'live/busy', tok('live/busy', 'p1', 'publish')));
    await expect(publishTcp(port, 'live/busy', tok('live/busy', 'p2', 'publish'))).rejects.toMatchObject({ status: 403 });
    expect(first.isClosed).toBe(false);
    // a pipeline rule with a real denial record (issue 8 §4), not an admitted session that ends
    await waitFor(async () => (await sessions(u, '&stream=live/busy')).some((s) => s.account === 'p2' && s.status === 'denied' && s.reason === 'E_STREAM_BUSY'));
  });

  it('kicks a reader at once through the admin API, and a publisher kick ends its readers', async () => {
    const pub = track(await publishTcp(port, 'live/kick', tok('live/kick', 'p', 'publish')));
    const { c: r1 } = await playTcp(port, 'live/kick', tok('live/kick', 'k1'));
    const { c: r2 } = await playTcp(port, 'live/kick', tok('live/kick', 'k2'));
    track(r1);
    track(r2);
    const live = await sessions(u, '&status=active&stream=live/kick');
    const viewer = live.find((s) => s.account === 'k1')!;
    const del = await u.api('DELETE', `/v1/sessions/${viewer.id}`, { reason: 'test kick' });
    expect(del.status).toBe(200);
    expect(del.body.status).toBe('killed');
    await r1.closed;
    expect(r2.isClosed).toBe(false);

    const input = live.find((s) => s.kind === 'input')!;
    expect((await u.api('DELETE', `/v1/sessions/${input.id}`)).status).toBe(200);
    await pub.closed;
    await r2.closed;
    expect(server(u).catalogue.lookup('live/kick')).toBeUndefined();
    await waitFor(async () => (await u.api('GET', `/v1/sessions/${input.id}`)).body.status === 'killed');
  });

  it('drops a reader that stops reading while the other reader gets every byte', async () => {
    const pub = track(await publishTcp(port, 'live/slow', tok('live/slow', 'p', 'publish')));
    const { c: slow } = await playTcp(port, 'live/slow', tok('live/slow', 's1'));
    const { c: fast } = await playTcp(port, 'live/slow', tok('live/slow', 's2'));
    track(slow);
    track(fast);
    slow.socket.pause();
    fast.keepFrames = false;
    // Push until the slow reader is dropped: past the kernel's socket buffers (tens of MB on loopback) and the
    // 4 MiB queue bound; bounded at 400 MB.
    const packet = rtp(1, 1, 1400);
    const frame = Buffer.concat([Buffer.from([0x24, 0, packet.length >> 8, packet.length & 0xff]), packet]);
    const burst = Buffer.concat(Array.from({ length: 45 }, () => frame));
    let sent = 0;
    const slowSession = server(u).sessions.get(slow.session!)!;
    expect(slowSession).toBeDefined();
    while (!slowSession.closed && sent < 400e6) {
      if (!pub.socket.write(burst)) await new Promise((r) => pub.socket.once('drain', r));
      sent += 45 * packet.length;
    }
    expect(slowSession.closeReason).toBe('slow reader');
    slow.socket.resume(); // it reads what the kernel still holds, then sees the close
    await slow.closed;
    // a little more after the drop reaches the fast reader too
    for (let i = 0; i < 10; i++) {
      pub.socket.write(burst);
      sent += 45 * packet.length;
    }
    await waitFor(() => fast.frameBytes === sent, 20_000);
    expect(pub.isClosed).toBe(false);
  });
});

describe('RTSP server: onBusyPath=replace', () => {
  let u: TestUsher;
  let port: number;
  const open: RawRtsp[] = [];
  beforeAll(async () => {
    u = await startUsher({ rtsp: { enabled: true, listen: '127.0.0.1:0', udpPorts: '41050-41099', onBusyPath: 'replace' } });
    port = portOf(u);
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await u.stop();
  });

  it('a second publisher replaces the first; the first is killed with reason replaced and its readers end', async () => {
    const tk = (a: string): string => `tkn=${u.sign({ stream: 'live/r', account: a, action: 'publish' })}`;
    const first = await publishTcp(port, 'live/r', tk('p1'));
    const { c: reader } = await playTcp(port, 'live/r', `tkn=${u.sign({ stream: 'live/r', account: 'v' })}`);
    open.push(first, reader);
    const second = await publishTcp(port, 'live/r', tk('p2'));
    open.push(second);
    await first.closed;
    await reader.closed;
    expect(second.isClosed).toBe(false);
    await waitFor(async () => (await u.api('GET', '/v1/sessions?server=builtin&account=p1')).body.items[0]?.status === 'killed');
    expect((await u.api('GET', '/v1/sessions?server=builtin&account=p1')).body.items[0].reason).toBe('replaced');
  });
});
