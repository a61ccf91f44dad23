/**
 * End to end with the real Node-Media-Server from npm (the devDependency, 4.4.3) in its own process and real
 * ffmpeg publishers/players: NMS's notify points at Usher; Usher logs in to NMS's API (one-step login, JWT), kicks
 * through `DELETE /api/v1/sessions/:id` and syncs from `/api/v1/sessions` + `/api/v1/streams`. Every wait is
 * bounded, every child process is killed (afterAll, and on process exit), and nothing binds outside 127.0.0.1.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Item } from '../adapters/kit.js';
import { hook } from '../adapters/kit.js';
import { Children, exited, waitSessionOn } from '../helpers/processes.js';
import { cleanup, freePort, startUsher, tmpDir, waitFor, type TestUsher } from '../helpers/usher.js';

const NMS_ENTRY = createRequire(import.meta.url).resolve('node-media-server');
const haveFfmpeg = spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0;
const NMS_USER = { user: 'admin', password: 'nms-e2e-password' };

const children = new Children();
const killAll = (): void => children.killAll();

describe.skipIf(!haveFfmpeg && !process.env.CI)('Node-Media-Server end to end (real NMS 4.4 from npm + ffmpeg)', () => {
  let u: TestUsher;
  let dir: string;
  let rtmpPort: number;
  let httpPort: number;
  let nms: ChildProcess | undefined;
  let nmsLog = '';

  async function startNms(): Promise<void> {
    const config = {
      bind: '127.0.0.1',
      notify: { url: `${u.url}/hooks/nms?server=nms1` },
      store: { path: join(dir, 'nms-data') },
      // the JWT lives 3 s here (24 h by default), so the test sees Usher renew it
      auth: { play: false, publish: false, secret: '', jwt: { secret: 'nms-e2e-jwt-secret', expiresIn: '3s', algorithm: 'HS256', users: [{ username: NMS_USER.user, password: NMS_USER.password, role: 'admin' }] } },
      rtmp: { port: rtmpPort },
      http: { port: httpPort },
      webadmin: { enable: false },
      record: { auto: false, path: join(dir, 'record') },
    };
    const script = 'const N = require(process.env.NMS_ENTRY); new N(JSON.parse(process.env.NMS_CONFIG)).run();';
    const p = spawn(process.execPath, ['-e', script], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', NMS_ENTRY, NMS_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    nms = p;
    children.track(p);
    p.stdout!.on('data', (c: Buffer) => (nmsLog = (nmsLog + c.toString()).slice(-20_000)));
    p.stderr!.on('data', (c: Buffer) => (nmsLog = (nmsLog + c.toString()).slice(-20_000)));
    await waitFor(async () => {
      if (p.exitCode !== null) throw new Error(`NMS exited ${p.exitCode}: ${nmsLog}`);
      const r = await fetch(`http://127.0.0.1:${httpPort}/api/v1/health`, { signal: AbortSignal.timeout(500) });
      return r.status === 200;
    }, 15_000);
  }

  async function stopNms(): Promise<void> {
    const p = nms;
    if (!p) return;
    p.kill('SIGKILL');
    await exited(p, 5_000);
  }

  const url = (path: string, token?: string) => `rtmp://127.0.0.1:${rtmpPort}/${path}${token ? `?tkn=${token}` : ''}`;
  const ffmpeg = (args: string[]): ChildProcess => children.ffmpeg(args);
  const publish = (path: string, token?: string) => ffmpeg([
    '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-f', 'flv', url(path, token),
  ]);
  const play = (path: string, token?: string) => ffmpeg(['-i', url(path, token), '-f', 'null', '-']);

  async function list(query: string): Promise<Item[]> {
    const r = await u.api('GET', `/v1/sessions?limit=1000&server=nms1&${query}`);
    return r.body.items as Item[];
  }
  const waitSession = (query: string, pred?: (s: Item) => boolean, timeoutMs?: number): Promise<Item> => waitSessionOn(u, 'nms1', query, pred, timeoutMs);
  const status = async (id: string): Promise<string> => (await u.api('GET', `/v1/sessions/${id}`)).body.status as string;
  /** The real NMS's own view, through its API with a login of our own. */
  async function nmsSessions(): Promise<Array<{ id: string; isPublisher: boolean }>> {
    const login = await fetch(`http://127.0.0.1:${httpPort}/api/v1/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: NMS_USER.user, password: NMS_USER.password }),
    });
    const jwt = ((await login.json()) as { data: { token: string } }).data.token;
    const r = await fetch(`http://127.0.0.1:${httpPort}/api/v1/sessions`, { headers: { authorization: `Bearer ${jwt}` } });
    return ((await r.json()) as { data: { sessions: Array<{ id: string; isPublisher: boolean }> } }).data.sessions;
  }

  beforeAll(async () => {
    dir = tmpDir('usher-nms-');
    mkdirSync(join(dir, 'nms-data'));
    rtmpPort = await freePort();
    httpPort = await freePort();
    u = await startUsher({
      sessions: { timeoutSeconds: 1 },
      plans: { default: { maxSessions: 1 } },
      auth: { anonymousPlay: true },
      servers: [{ name: 'nms1', type: 'nms', api: `http://127.0.0.1:${httpPort}`, ...NMS_USER, timeoutMs: 2000 }],
    });
    await startNms();
  });

  afterAll(async () => {
    killAll();
    await u?.stop();
    if (dir) cleanup(dir);
  });

  it('refuses a publisher with a forged token: NMS closes it (ffmpeg exits) and the refusal is counted', async () => {
    const p = publish('live/cam', 'forged.token');
    const code = await exited(p, 20_000);
    expect(code).not.toBe(0);
    // a token nobody signed names nobody: one counter per source and code, no session row (SPEC §3 bounds)
    await waitFor(async () => ((await u.api('GET', '/v1/denials')).body.items as Array<{ source: string; code: string }>)
      .some((d) => d.source.startsWith('nms') && d.code === 'E_TOKEN_INVALID'));
  });

  let publisher: ChildProcess;
  let pubSession: Item;

  it('admits a publisher with a valid token (one session for prePublish + postPublish)', async () => {
    publisher = publish('live/cam', u.sign({ stream: 'live/cam', account: 'studio', action: 'publish' }));
    pubSession = await waitSession('status=active&kind=input&stream=live/cam');
    expect(pubSession).toMatchObject({ account: 'studio', ip: '127.0.0.1', protocol: 'rtmp' });
    await new Promise((r) => setTimeout(r, 500)); // both notifies have arrived by now; still one session
    expect(await list('status=active&kind=input&stream=live/cam')).toHaveLength(1);
    expect(publisher.exitCode).toBeNull();
  });

  let viewer: ChildProcess;
  let viewerSession: Item;

  it('admits a player with a token; a second screen of the same account is refused and dropped by NMS', async () => {
    viewer = play('live/cam', u.sign({ stream: 'live/cam', account: 'alice', device: 'tv' }));
    viewerSession = await waitSession('status=active&kind=viewer', (s) => s.device === 'tv');
    expect(viewerSession.clientId).toBeTruthy();
    const second = play('live/cam', u.sign({ stream: 'live/cam', account: 'alice', device: 'phone' }));
    await exited(second, 20_000);
    expect((await waitSession('status=denied&kind=viewer', (s) => s.device === 'phone')).reason).toBe('E_LIMIT_REACHED');
    expect(viewer.exitCode).toBeNull();
  });

  it('kicks a player through the API (login with user/password, JWT): NMS drops it and its ffmpeg exits', async () => {
    const k = await u.api('DELETE', `/v1/sessions/${viewerSession.id}`, { reason: 'operator kick' });
    expect([k.status, k.body.status]).toEqual([200, 'killed']);
    await exited(viewer, 15_000);
    expect((await nmsSessions()).map((s) => s.id)).not.toContain(viewerSession.clientId);
  });

  it('renews the JWT once it has run out: a kick after its 3 s life still works', async () => {
    const p = play('live/cam', u.sign({ stream: 'live/cam', account: 'bob', device: 'pc' }));
    const s = await waitSession('status=active&kind=viewer', (x) => x.account === 'bob');
    await new Promise((r) => setTimeout(r, 3_500));
    const k = await u.api('DELETE', `/v1/sessions/${s.id}`);
    expect([k.status, k.body.status]).toEqual([200, 'killed']);
    await exited(p, 15_000);
  });

  it('sync ends what NMS no longer has, keeps what it has, and kicks an unknown player (its stream is not listed)', async () => {
    // a connection Usher believes in but NMS never had
    const token = u.sign({ stream: 'live/cam', account: 'carol' });
    const ghost = await hook(u, '/hooks/nms?server=nms1', { body: JSON.stringify({ id: 'ghost0001', ip: '127.0.0.1:1', app: 'live', name: 'cam', query: { tkn: token }, protocol: 'rtmp', action: 'postPlay' }) });
    expect(ghost.status).toBe(200);
    const ghostSession = await waitSession('status=active&kind=viewer', (x) => x.clientId === 'ghost0001');

    // a player NMS has but Usher does not know: it played anonymously while its session was lost
    const anon = play('live/cam');
    const anonSession = await waitSession('status=active&kind=viewer', (x) => x.account === null && x.clientId !== 'ghost0001');
    await u.api('DELETE', `/v1/denied`);
    // forget it on Usher's side only: mark its connection closed as if NMS had said so
    await hook(u, '/hooks/nms?server=nms1', { body: JSON.stringify({ id: anonSession.clientId, action: 'donePlay', inbytes: 0, outbytes: 0 }) });
    await waitFor(async () => (await status(anonSession.id)) === 'ended', 10_000);

    const r = await u.api('POST', '/v1/servers/nms1/sync');
    expect(r.status).toBe(200);
    expect(r.body.ended).toBe(1);
    expect(r.body.kicked).toBe(1);
    expect(r.body.listed).toBeGreaterThanOrEqual(2);
    // detached at once, ended at sessions.timeoutSeconds (1 s here) unless the same key comes back
    await waitFor(async () => (await status(ghostSession.id)) === 'ended', 10_000);
    expect(await status(pubSession.id)).toBe('active');
    await exited(anon, 15_000);
    expect(publisher.exitCode).toBeNull();
  });

  it('admits NMS\'s own relay pull (an /api/v1/relay task) as an output, not a refused publisher', async () => {
    const jwtRes = await fetch(`http://127.0.0.1:${httpPort}/api/v1/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: NMS_USER.user, password: NMS_USER.password }),
    });
    const jwt = ((await jwtRes.json()) as { data: { token: string } }).data.token;
    // the pull plays live/cam from NMS itself (a viewer, with its token in the URL) and publishes live/mirror
    const source = `rtmp://127.0.0.1:${rtmpPort}/live/cam?tkn=${u.sign({ stream: 'live/cam', account: 'relay' })}`;
    const add = await fetch(`http://127.0.0.1:${httpPort}/api/v1/relay`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${jwt}` },
      body: JSON.stringify({ url: source, mode: 'pull', streamPath: '/live/mirror', reconnect: false }),
    });
    expect(add.status).toBeLessThan(300);
    const out = await waitSession('status=active&kind=output&stream=live/mirror');
    expect(out.account).toBeNull();
    expect(await list('status=denied&stream=live/mirror')).toHaveLength(0);
    const r = await u.api('POST', '/v1/servers/nms1/sync');
    expect(r.body.kicked).toBe(0);
    expect(await status(out.id)).toBe('active');
  });

  it('keeps a kick `killing` while the API is down, and finishes it once NMS is back', async () => {
    const s = await waitSession('status=active&kind=input&stream=live/cam');
    await stopNms();
    const k = await u.api('DELETE', `/v1/sessions/${s.id}`);
    expect([k.status, k.body.status]).toEqual([202, 'killing']);
    await startNms();
    await waitFor(async () => (await status(s.id)) === 'killed', 20_000);
  });
});
