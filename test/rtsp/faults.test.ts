/**
 * The faults of issue 7 §3, each as the raw RTSP bytes a client sent, over a real socket, against the RTSP server
 * with the real core around it (admission pipeline, registry, memory store).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rtcpBye } from '../../src/rtsp/protocol/index.js';
import { waitFor } from '../helpers/usher.js';
import { publishTcp, RawRtsp, rtp } from './client.js';
import { startRtspHarness, type RtspHarness } from './harness.js';

/** A UDP socket on a free loopback port. */
function bindUdp(): Promise<UdpSocket> {
  const s = createSocket('udp4');
  return new Promise((resolve) => s.bind(0, '127.0.0.1', () => resolve(s)));
}

/** One request as a client writes it: request line, headers, empty line. */
function req(method: string, uri: string, headers: Record<string, string | number>): string {
  return `${method} ${uri} RTSP/1.0\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
}

describe('RTSP faults of issue 7 §3 (raw requests)', () => {
  let h: RtspHarness;
  const open: RawRtsp[] = [];
  const conn = async (): Promise<RawRtsp> => {
    const c = await RawRtsp.connect(h.port);
    open.push(c);
    return c;
  };

  beforeAll(async () => {
    h = await startRtspHarness({ rtsp: { udpPorts: '41550-41599' } });
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await h.stop();
  });

  const publish = async (stream: string): Promise<RawRtsp> => {
    const pub = await publishTcp(h.port, stream, `tkn=${h.sign(stream, 'studio', 'publish')}`);
    open.push(pub);
    return pub;
  };
  const viewers = async (stream: string): Promise<Array<{ status: string; account: string | null; reason: string | null }>> =>
    (await h.sessions(stream)).filter((s) => s.kind === 'viewer');

  it("ExoPlayer's UDP→TCP fallback on one connection: the SETUP after TEARDOWN is admitted with the DESCRIBE's token", async () => {
    const pub = await publish('live/demo');
    const c = await conn();
    const base = `rtsp://127.0.0.1:${h.port}/live/demo`;
    const d = await c.raw(req('DESCRIBE', `${base}?tkn=${h.sign('live/demo', 'exo')}`, { CSeq: 1, Accept: 'application/sdp' }));
    expect(d.status).toBe(200);
    expect(d.get('content-base')).toBe(`${base}/`);
    const s1 = await c.raw(req('SETUP', `${base}/trackID=0`, { CSeq: 2, Transport: 'RTP/AVP;unicast;client_port=41998-41999' }));
    expect(s1.status).toBe(200);
    const sid1 = s1.get('session')!.split(';')[0];
    expect((await c.raw(req('PLAY', `${base}/`, { CSeq: 3, Session: sid1, Range: 'npt=0.000-' }))).status).toBe(200);
    expect((await c.raw(req('TEARDOWN', `${base}/`, { CSeq: 4, Session: sid1 }))).status).toBe(200);

    const s2 = await c.raw(req('SETUP', `${base}/trackID=0`, { CSeq: 5, Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' }));
    expect(s2.status).toBe(200);
    const sid2 = s2.get('session')!.split(';')[0];
    expect(sid2).not.toBe(sid1);
    expect((await c.raw(req('PLAY', `${base}/`, { CSeq: 6, Session: sid2, Range: 'npt=0.000-' }))).status).toBe(200);
    pub.sendFrame(0, rtp(7));
    await waitFor(() => c.frames.length >= 1);
    expect(c.frames[0].channel).toBe(0);
    // the TEARDOWN ended the first Usher session at once (SPEC §2: an explicit end); the retry is admitted as a new one
    const v = await viewers('live/demo');
    expect(v.map((s) => [s.status, s.account, s.reason]).sort()).toEqual([['active', 'exo', null], ['ended', 'exo', 'teardown']]);
  });

  it('one connection giving up its admission does not end the session another connection is playing on', async () => {
    const pub = await publish('live/two');
    const base = `rtsp://127.0.0.1:${h.port}/live/two`;
    const token = h.sign('live/two', 'twice');
    const a = await conn();
    expect((await a.raw(req('DESCRIBE', `${base}?tkn=${token}`, { CSeq: 1 }))).status).toBe(200);
    const b = await conn();
    expect((await b.raw(req('DESCRIBE', `${base}?tkn=${token}`, { CSeq: 1 }))).status).toBe(200);
    const s = await b.raw(req('SETUP', `${base}/trackID=0`, { CSeq: 2, Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' }));
    expect((await b.raw(req('PLAY', `${base}/`, { CSeq: 3, Session: s.get('session')!.split(';')[0] }))).status).toBe(200);
    // A never sets up: its TEARDOWN, and a second DESCRIBE superseding the first on B's side, give its admission up
    expect((await a.raw(req('TEARDOWN', `${base}/`, { CSeq: 2 }))).status).toBe(200);
    a.close();
    pub.sendFrame(0, rtp(9));
    await waitFor(() => b.frames.length >= 1);
    await new Promise((r) => setTimeout(r, 100));
    expect((await viewers('live/two')).map((v) => [v.status, v.account])).toEqual([['active', 'twice']]);
  });

  it('one key opens at most 16 RTSP sessions at once, even as UDP viewers that outlive their connections', async () => {
    await publish('live/many');
    const base = `rtsp://127.0.0.1:${h.port}/live/many`;
    const token = h.sign('live/many', 'hoarder');
    const statuses: number[] = [];
    for (let i = 0; i < 17; i++) {
      const c = await conn();
      const s = await c.raw(req('SETUP', `${base}/trackID=0?tkn=${token}`, { CSeq: 1, Transport: `RTP/AVP;unicast;client_port=${42000 + 2 * i}-${42001 + 2 * i}` }));
      statuses.push(s.status);
      if (s.status === 200) expect((await c.raw(req('PLAY', `${base}/`, { CSeq: 2, Session: s.get('session')!.split(';')[0] }))).status).toBe(200);
      c.close();
    }
    expect(statuses).toEqual([...Array(16).fill(200), 503]);
    expect((await viewers('live/many')).filter((v) => v.status === 'active')).toHaveLength(1);
  });

  it('a SETUP refused with 461 (multicast) or 404 (no such track) does not use up the DESCRIBE admission', async () => {
    await publish('live/m');
    const c = await conn();
    const base = `rtsp://127.0.0.1:${h.port}/live/m`;
    expect((await c.raw(req('DESCRIBE', `${base}?tkn=${h.sign('live/m', 'multi')}`, { CSeq: 1 }))).status).toBe(200);
    const m = await c.raw(req('SETUP', `${base}/trackID=0`, { CSeq: 2, Transport: 'RTP/AVP;multicast;destination=232.0.0.1;port=5000-5001' }));
    expect(m.status).toBe(461);
    expect((await c.raw(req('SETUP', `${base}/trackID=7`, { CSeq: 3, Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' }))).status).toBe(404);
    const t = await c.raw(req('SETUP', `${base}/trackID=0`, { CSeq: 4, Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' }));
    expect(t.status).toBe(200);
    expect((await c.raw(req('PLAY', `${base}/`, { CSeq: 5, Session: t.get('session')!.split(';')[0] }))).status).toBe(200);
    const v = await viewers('live/m');
    expect(v).toHaveLength(1);
    expect(v[0].status).toBe('active');
  });

  it('the credential stays on its connection and its stream: another connection, or another stream, is asked for one', async () => {
    await publish('live/own');
    await publish('live/other');
    const c = await conn();
    const base = `rtsp://127.0.0.1:${h.port}/live/own`;
    expect((await c.raw(req('DESCRIBE', `${base}?tkn=${h.sign('live/own', 'o')}`, { CSeq: 1 }))).status).toBe(200);
    const other = await c.raw(req('SETUP', `rtsp://127.0.0.1:${h.port}/live/other/trackID=0`, { CSeq: 2, Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' }));
    expect(other.status).toBe(401);
    const c2 = await conn();
    expect((await c2.raw(req('SETUP', `${base}/trackID=0`, { CSeq: 1, Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' }))).status).toBe(401);
  });

  it('Require: onvif-replay → 551 Option not supported with Unsupported, for OPTIONS, DESCRIBE and SETUP alike', async () => {
    await publish('live/onvif');
    const c = await conn();
    const url = `rtsp://127.0.0.1:${h.port}/live/onvif?tkn=${h.sign('live/onvif', 'cam')}`;
    const answers = [
      await c.raw(req('OPTIONS', url, { CSeq: 1, Require: 'onvif-replay' })),
      await c.raw(req('DESCRIBE', url, { CSeq: 2, Require: 'onvif-replay' })),
      await c.raw(req('SETUP', `${url}/trackID=0`, { CSeq: 3, Require: 'onvif-replay', Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' })),
    ];
    for (const [i, a] of answers.entries()) {
      expect(a.status).toBe(551);
      expect(a.get('unsupported')).toBe('onvif-replay');
      expect(a.get('cseq')).toBe(String(i + 1));
    }
    // nothing was admitted for them
    expect(await viewers('live/onvif')).toHaveLength(0);
    expect((await c.raw(req('OPTIONS', url, { CSeq: 4 }))).status).toBe(200);
  });

  it('a kicked UDP viewer gets RTCP BYE (after an empty RR) for each of its tracks, with the publisher\'s SSRC; TEARDOWN gets none', async () => {
    const pub = await publish('live/bye');
    pub.sendFrame(0, rtp(1, 1000, 100, 96, 0x0a0b0c0d));
    pub.sendFrame(2, rtp(1, 1000, 20, 97, 0x01020304));
    await waitFor(() => h.server.catalogue.lookup('live/bye')!.tracks.every((t) => t.ssrc !== undefined));

    const udp = await Promise.all([0, 1, 2, 3].map(() => bindUdp()));
    try {
      const rtcp = [udp[1], udp[3]];
      const got: Buffer[][] = [[], []];
      rtcp.forEach((sock, i) => sock.on('message', (m) => got[i].push(m)));
      const ports = udp.map((sock) => sock.address().port);
      const playUdp = async (account: string): Promise<RawRtsp> => {
        const c = await conn();
        const base = `rtsp://127.0.0.1:${h.port}/live/bye`;
        expect((await c.raw(req('DESCRIBE', `${base}?tkn=${h.sign('live/bye', account)}`, { CSeq: 1 }))).status).toBe(200);
        const s0 = await c.raw(req('SETUP', `${base}/trackID=0`, { CSeq: 2, Transport: `RTP/AVP;unicast;client_port=${ports[0]}-${ports[1]}` }));
        const sid = s0.get('session')!.split(';')[0];
        expect((await c.raw(req('SETUP', `${base}/trackID=1`, { CSeq: 3, Session: sid, Transport: `RTP/AVP;unicast;client_port=${ports[2]}-${ports[3]}` }))).status).toBe(200);
        expect((await c.raw(req('PLAY', `${base}/`, { CSeq: 4, Session: sid }))).status).toBe(200);
        return c;
      };

      // TEARDOWN: the client is leaving on its own; nothing is said to it
      const t = await playUdp('leaver');
      expect((await t.raw(req('TEARDOWN', `rtsp://127.0.0.1:${h.port}/live/bye/`, { CSeq: 5, Session: t.session! }))).status).toBe(200);

      const c = await playUdp('kicked');
      const rec = (await h.sessions('live/bye')).find((s) => s.account === 'kicked' && s.status === 'active')!;
      expect(await h.registry.kill(rec.id, 'test')).toBe('killed');
      await waitFor(() => got[0].length >= 1 && got[1].length >= 1);
      await c.closed;
      expect(got[0].map((b) => b.toString('hex'))).toEqual([rtcpBye(0x0a0b0c0d).toString('hex')]);
      expect(got[1].map((b) => b.toString('hex'))).toEqual([rtcpBye(0x01020304).toString('hex')]);
    } finally {
      for (const sock of udp) sock.close();
    }
  });

  it('issue 7 §2: an input whose connection went silent is replaced at once by itself coming back (same key); another key is refused', async () => {
    const token = `tkn=${h.sign('live/stale', 'studio', 'publish')}`;
    const a = await publishTcp(h.port, 'live/stale', token);
    open.push(a);
    const first = h.server.catalogue.lookup('live/stale')!;
    const viewer = await conn();
    const vurl = `rtsp://127.0.0.1:${h.port}/live/stale?tkn=${h.sign('live/stale', 'v')}`;
    expect((await viewer.raw(req('DESCRIBE', vurl, { CSeq: 1 }))).status).toBe(200);
    // A stops sending without closing (its network dropped); B is the same publisher, same token, same address
    const b = await publishTcp(h.port, 'live/stale', token);
    open.push(b);
    await a.closed;
    const second = h.server.catalogue.lookup('live/stale')!;
    expect(second).not.toBe(first);
    b.sendFrame(0, rtp(42));
    await waitFor(() => second.tracks[0].lastSeq === 42);
    // one Usher session throughout, still active, now held by B's connection
    const inputs = (await h.sessions('live/stale')).filter((x) => x.kind === 'input');
    expect(inputs).toHaveLength(1);
    expect(inputs[0].status).toBe('active');
    expect(h.registry.byConn('builtin', `rtsp-${b.session}`)?.id).toBe(inputs[0].id);

    // a different key (another account's token) is still refused under onBusyPath: refuse, and B goes on
    await expect(publishTcp(h.port, 'live/stale', `tkn=${h.sign('live/stale', 'intruder', 'publish')}`)).rejects.toMatchObject({ status: 403 });
    expect(b.isClosed).toBe(false);
    expect(h.server.catalogue.lookup('live/stale')).toBe(second);
  });

  it('OPTIONS naming a session that does not exist → 454; naming a live one → 200 with it', async () => {
    const pub = await publish('live/opt');
    const c = await conn();
    const url = `rtsp://127.0.0.1:${h.port}/live/opt`;
    const r = await c.raw(req('OPTIONS', url, { CSeq: 1, Session: 'deadbeefdeadbeef' }));
    expect(r.status).toBe(454);
    const ok = await pub.raw(req('OPTIONS', url, { CSeq: 99, Session: pub.session! }));
    expect(ok.status).toBe(200);
    expect(ok.get('session')).toMatch(new RegExp(`^${pub.session!};timeout=`));
  });
});

describe('RTSP challenges with rtsp.authMethods [digest] only', () => {
  let h: RtspHarness;
  const open: RawRtsp[] = [];
  beforeAll(async () => {
    h = await startRtspHarness({ rtsp: { udpPorts: '41600-41649', authMethods: ['digest'] }, auth: { streamKeys: { 'live/keyed': 'k3y' } } });
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await h.stop();
  });

  it('offers Digest for a stream with a static key, and answers 403 where no offered method could succeed', async () => {
    const c = await RawRtsp.connect(h.port);
    open.push(c);
    const keyed = await c.raw(req('DESCRIBE', `rtsp://127.0.0.1:${h.port}/live/keyed`, { CSeq: 1 }));
    expect(keyed.status).toBe(401);
    expect(keyed.headers.get('www-authenticate')).toHaveLength(1);
    expect(keyed.get('www-authenticate')).toMatch(/^Digest realm="Usher", nonce="[0-9a-f]{32}"$/);
    const plain = await c.raw(req('DESCRIBE', `rtsp://127.0.0.1:${h.port}/live/plain`, { CSeq: 2 }));
    expect(plain.status).toBe(403);
    expect(plain.get('www-authenticate')).toBeUndefined();
  });
});

describe('RTSP busy path for inputs the pipeline does not track (inputMode 0)', () => {
  for (const onBusyPath of ['refuse', 'replace'] as const) {
    it(`onBusyPath ${onBusyPath}: applied by the RTSP server, since admission sees no session to weigh`, async () => {
      const h = await startRtspHarness({ rtsp: { udpPorts: '41700-41749', onBusyPath }, sessions: { inputMode: 0 } });
      const open: RawRtsp[] = [];
      try {
        const a = await publishTcp(h.port, 'live/u', `tkn=${h.sign('live/u', 'a', 'publish')}`);
        open.push(a);
        expect(await h.sessions('live/u')).toHaveLength(0); // not tracked
        const second = publishTcp(h.port, 'live/u', `tkn=${h.sign('live/u', 'b', 'publish')}`);
        if (onBusyPath === 'refuse') {
          await expect(second).rejects.toMatchObject({ status: 403 });
          expect(a.isClosed).toBe(false);
        } else {
          open.push(await second);
          await a.closed;
        }
      } finally {
        for (const c of open) c.close();
        await h.stop();
      }
    });
  }
});
