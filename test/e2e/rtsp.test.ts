/**
 * End to end with real ffmpeg: publish over TCP and UDP into Usher's RTSP server, play with two readers at once
 * (TCP and UDP) that decode frames and show up as sessions, refuse a bad token (recorded denied), Basic credentials,
 * kick a reader through the admin API (its ffmpeg exits), a stalled publisher coming back replaces itself, and a
 * publisher that dies or is kicked ends its readers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RtspServer } from '../../src/rtsp/server.js';
import { startUsher, waitFor, type TestUsher } from '../helpers/usher.js';
import { exitWithin, killAll, publish, read } from '../rtsp/ffmpeg.js';

describe('RTSP end to end with ffmpeg', () => {
  let u: TestUsher;
  let port: number;
  let srv: RtspServer;
  const url = (path: string, token?: string): string => `rtsp://127.0.0.1:${port}/${path}${token ? `?tkn=${token}` : ''}`;
  const pubToken = (stream: string): string => u.sign({ stream, account: 'studio', action: 'publish' });
  const playToken = (stream: string, account: string): string => u.sign({ stream, account, action: 'play' });
  /** Until the publisher's packets flow (both tracks). */
  const flowing = (stream: string): Promise<unknown> =>
    waitFor(() => {
      const st = srv.catalogue.lookup(stream);
      return st !== undefined && st.tracks.every((t) => t.packets > 0);
    }, 15_000);
  const sessions = async (q: string): Promise<Array<Record<string, any>>> => (await u.api('GET', `/v1/sessions?server=builtin${q}`)).body.items;

  beforeAll(async () => {
    u = await startUsher({ rtsp: { enabled: true, listen: '127.0.0.1:0', udpPorts: '41200-41299' }, sessions: { timeoutSeconds: 2 } });
    port = Number(u.app.rtsp!.address().split(':').pop());
    srv = (u.app.rtsp as unknown as { server: RtspServer }).server;
  });
  afterAll(async () => {
    killAll();
    await u.stop();
  });

  it('a TCP publisher, two readers at once (TCP and UDP) decoding frames, both listed as active builtin sessions', async () => {
    const pub = publish(url('live/demo', pubToken('live/demo')), 'tcp');
    await flowing('live/demo');
    const r1 = read(url('live/demo', playToken('live/demo', 'alice')), 'tcp', 3);
    const r2 = read(url('live/demo', playToken('live/demo', 'bob')), 'udp', 3);
    await waitFor(async () => (await sessions('&status=active&stream=live/demo&kind=viewer')).length === 2, 15_000);
    const active = await sessions('&status=active&stream=live/demo');
    expect(active.map((s) => `${s.kind}:${s.account ?? ''}`).sort()).toEqual(['input:studio', 'viewer:alice', 'viewer:bob']);
    expect(active.every((s) => s.protocol === 'rtsp' && /^rtsp-[0-9a-f]{16}$/.test(s.clientId))).toBe(true);
    const [e1, e2] = await Promise.all([r1.exited, r2.exited]);
    expect(e1.code, r1.stderr()).toBe(0);
    expect(e2.code, r2.stderr()).toBe(0);
    expect(r1.frames()).toBeGreaterThan(0);
    expect(r2.frames()).toBeGreaterThan(0);
    expect(pub.proc.exitCode).toBeNull();
  });

  it('a UDP publisher is played by a TCP reader', async () => {
    const pub = publish(url('live/udp', pubToken('live/udp')), 'udp');
    await flowing('live/udp');
    const r = read(url('live/udp', playToken('live/udp', 'carol')), 'tcp', 2);
    const e = await r.exited;
    expect(e.code, r.stderr()).toBe(0);
    expect(r.frames()).toBeGreaterThan(0);
    pub.kill();
  });

  it('refuses a bad token (ffmpeg fails with 403; the refusal is counted) and takes Basic credentials', async () => {
    await flowing('live/demo');
    const bad = read(url('live/demo', 'forged.token'), 'tcp', 2);
    const e = await bad.exited;
    expect(e.code).not.toBe(0);
    expect(bad.stderr()).toMatch(/403 Forbidden/);
    await waitFor(async () => ((await u.api('GET', '/v1/denials')).body.items as Array<{ source: string; code: string }>)
      .some((d) => d.source === 'builtin/127.0.0.1' && d.code === 'E_TOKEN_INVALID'));

    const token = playToken('live/demo', 'dave');
    const basic = read(`rtsp://dave:${token}@127.0.0.1:${port}/live/demo`, 'tcp', 2);
    const b = await basic.exited;
    expect(b.code, basic.stderr()).toBe(0);
    expect(basic.frames()).toBeGreaterThan(0);
    const rec = (await sessions('&stream=live/demo')).find((s) => s.account === 'dave');
    expect(rec?.userAgent).toMatch(/^Lav/);
  });

  it('kicking a reader through the admin API makes its ffmpeg exit at once', async () => {
    await flowing('live/demo');
    const r = read(url('live/demo', playToken('live/demo', 'erin')), 'tcp');
    await waitFor(() => r.frames() > 0, 15_000);
    const s = (await sessions('&status=active&stream=live/demo')).find((x) => x.account === 'erin')!;
    const t0 = performance.now();
    const del = await u.api('DELETE', `/v1/sessions/${s.id}`, { reason: 'e2e kick' });
    expect(del.status).toBe(200);
    const e = await exitWithin(r, 5_000);
    const ms = Math.round(performance.now() - t0);
    expect(e, 'ffmpeg reader still running 5 s after the kick').toBeDefined();
    console.log(`[rtsp e2e] kicked TCP reader: ffmpeg exited ${ms} ms after DELETE /v1/sessions/{id}`);
    expect((await u.api('GET', `/v1/sessions/${s.id}`)).body.status).toBe('killed');

    // a UDP reader too: its control connection is closed and it stops receiving
    const ru = read(url('live/demo', playToken('live/demo', 'frank')), 'udp');
    await waitFor(() => ru.frames() > 0, 15_000);
    const su = (await sessions('&status=active&stream=live/demo')).find((x) => x.account === 'frank')!;
    const t1 = performance.now();
    expect((await u.api('DELETE', `/v1/sessions/${su.id}`)).status).toBe(200);
    const eu = await exitWithin(ru, 5_000);
    expect(eu, 'UDP ffmpeg reader still running 5 s after the kick').toBeDefined();
    console.log(`[rtsp e2e] kicked UDP reader: ffmpeg exited ${Math.round(performance.now() - t1)} ms after the kick`);
  });

  it('a publisher whose network dropped (SIGSTOP) is replaced at once when it comes back (same token, same IP)', async () => {
    const token = pubToken('live/stale');
    const a = publish(url('live/stale', token), 'tcp');
    await flowing('live/stale');
    const first = srv.catalogue.lookup('live/stale');
    a.kill('SIGSTOP'); // stops sending, keeps its connection open: what a dropped network looks like to the server
    const b = publish(url('live/stale', token), 'tcp');
    await waitFor(() => {
      const st = srv.catalogue.lookup('live/stale');
      return st !== undefined && st !== first && st.tracks.every((t) => t.packets > 0);
    }, 15_000);
    const r = read(url('live/stale', playToken('live/stale', 'stale-viewer')), 'tcp', 2);
    const e = await r.exited;
    expect(e.code, r.stderr()).toBe(0);
    expect(r.frames()).toBeGreaterThan(0);
    const inputs = await sessions('&stream=live/stale&kind=input');
    expect(inputs.map((x) => x.status)).toEqual(['active']); // one Usher session: B is A coming back
    expect(b.proc.exitCode).toBeNull();
    a.kill('SIGKILL');
    b.kill();
  });

  it('a publisher that dies (SIGKILL) ends its readers', async () => {
    const pub = publish(url('live/die', pubToken('live/die')), 'tcp');
    await flowing('live/die');
    const r1 = read(url('live/die', playToken('live/die', 'g1')), 'tcp');
    const r2 = read(url('live/die', playToken('live/die', 'g2')), 'udp');
    await waitFor(() => r1.frames() > 0 && r2.frames() > 0, 15_000);
    pub.kill('SIGKILL');
    const [e1, e2] = await Promise.all([exitWithin(r1, 10_000), exitWithin(r2, 10_000)]);
    expect(e1, 'TCP reader still running after its publisher died').toBeDefined();
    expect(e2, 'UDP reader still running after its publisher died').toBeDefined();
    expect(srv.catalogue.lookup('live/die')).toBeUndefined();
  });

  it('kicking the publisher through the admin API ends the stream for its readers', async () => {
    const pub = publish(url('live/kp', pubToken('live/kp')), 'tcp');
    await flowing('live/kp');
    const r = read(url('live/kp', playToken('live/kp', 'h1')), 'tcp');
    await waitFor(() => r.frames() > 0, 15_000);
    const input = (await sessions('&status=active&stream=live/kp&kind=input'))[0];
    expect((await u.api('DELETE', `/v1/sessions/${input.id}`, { reason: 'stream over' })).status).toBe(200);
    const [ep, er] = await Promise.all([exitWithin(pub, 10_000), exitWithin(r, 10_000)]);
    expect(ep, 'publisher still running after its kick').toBeDefined();
    expect(er, 'reader still running after its publisher was kicked').toBeDefined();
    // with no connection left, the readers' sessions end after sessions.timeoutSeconds (2 s here)
    await waitFor(async () => (await sessions('&status=active&stream=live/kp')).length === 0, 15_000);
  });
});
