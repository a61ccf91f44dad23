/**
 * End to end with a real nginx + libnginx-mod-rtmp and real ffmpeg publishers/players: nginx's on_* hooks point
 * at Usher, Usher kicks through nginx's rtmp_control and syncs from rtmp_stat. Every wait is bounded, every child
 * process is killed (afterAll, and on process exit), and nothing binds outside 127.0.0.1.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Item } from '../adapters/kit.js';
import { Children, exited, waitSessionOn } from '../helpers/processes.js';
import { cleanup, freePort, startUsher, tmpDir, waitFor, type TestUsher } from '../helpers/usher.js';

const NGINX = '/usr/sbin/nginx';
const RTMP_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';
const haveTools = existsSync(NGINX) && existsSync(RTMP_MODULE) && spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0;


const children = new Children();
let nginx: ChildProcess | undefined;

function killAll(): void {
  children.killAll();
  stopNginxSync();
}
process.on('exit', killAll);

/** nginx runs with a master and a worker: it is started in its own process group and the group is killed. */
function stopNginxSync(): void {
  if (nginx?.pid && nginx.exitCode === null && nginx.signalCode === null) {
    try {
      process.kill(-nginx.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

describe.skipIf(!haveTools && !process.env.CI)('nginx-rtmp end to end (real nginx + ffmpeg)', () => {
  let u: TestUsher;
  let dir: string;
  let rtmpPort: number;
  let httpPort: number;

  const confPath = () => join(dir, 'nginx.conf');

  async function startNginx(): Promise<void> {
    nginx = spawn(NGINX, ['-p', `${dir}/`, '-c', confPath(), '-e', join(dir, 'logs', 'error.log')], { detached: true, stdio: 'ignore' });
    const proc = nginx;
    await waitFor(async () => {
      if (proc.exitCode !== null) throw new Error(`nginx exited ${proc.exitCode}: ${readFileSync(join(dir, 'logs', 'error.log'), 'utf8').slice(-2000)}`);
      const r = await fetch(`http://127.0.0.1:${httpPort}/stat`, { signal: AbortSignal.timeout(500) });
      return r.status === 200;
    }, 10_000);
  }

  async function killNginx(): Promise<void> {
    const proc = nginx;
    stopNginxSync();
    if (proc) await exited(proc, 5_000);
    // the worker is gone too once its port refuses connections
    await waitFor(async () => {
      try {
        await fetch(`http://127.0.0.1:${httpPort}/stat`, { signal: AbortSignal.timeout(300) });
        return false;
      } catch {
        return true;
      }
    }, 5_000);
  }

  const url = (token: string) => `rtmp://127.0.0.1:${rtmpPort}/live/demo?tkn=${token}`;

  const ffmpeg = (args: string[]): ChildProcess => children.ffmpeg(args);
  const publish = (token: string) => ffmpeg([
    '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-c:a', 'aac', '-f', 'flv', url(token),
  ]);
  const play = (token: string) => ffmpeg(['-i', url(token), '-f', 'null', '-']);

  async function list(query: string): Promise<Item[]> {
    const r = await u.api('GET', `/v1/sessions?limit=1000&server=edge1&${query}`);
    return r.body.items as Item[];
  }
  const waitSession = (query: string, pred?: (s: Item) => boolean, timeoutMs?: number): Promise<Item> => waitSessionOn(u, 'edge1', query, pred, timeoutMs);

  beforeAll(async () => {
    dir = tmpDir('usher-nginx-');
    mkdirSync(join(dir, 'logs'));
    mkdirSync(join(dir, 'tmp'));
    rtmpPort = await freePort();
    httpPort = await freePort();
    u = await startUsher({
      sessions: { timeoutSeconds: 1 },
      plans: { default: { maxSessions: 1 } },
      servers: [{ name: 'edge1', type: 'nginx-rtmp', api: `http://127.0.0.1:${httpPort}`, timeoutMs: 2000 }],
    });
    const hook = `${u.url}/hooks/nginx-rtmp?server=edge1`;
    // the relay's remote leg is an ordinary publisher at application `relay`: its credential rides in the push
    // URL's application (connect-level args), which nginx passes on only in tcurl (docs/servers.md)
    const relayToken = u.sign({ stream: 'relay/*', account: 'studio', action: 'publish', ttlSeconds: 3600 });
    writeFileSync(confPath(), `
load_module ${RTMP_MODULE};
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log info;
events { worker_connections 256; }
rtmp {
  access_log ${dir}/logs/rtmp_access.log;
  server {
    listen 127.0.0.1:${rtmpPort};
    chunk_size 4096;
    notify_method post;
    application live {
      live on;
      record off;
      on_publish ${hook};
      on_play ${hook};
      on_publish_done ${hook};
      on_play_done ${hook};
      on_done ${hook};
      on_update ${hook};
      notify_update_timeout 2s;
    }
    application src {
      live on;
      push rtmp://127.0.0.1:${rtmpPort}/relay?tkn=${relayToken};
      on_publish ${hook};
      on_play ${hook};
      on_done ${hook};
      on_update ${hook};
      notify_update_timeout 2s;
    }
    application relay {
      live on;
      on_publish ${hook};
      on_play ${hook};
      on_done ${hook};
    }
  }
}
http {
  access_log ${dir}/logs/http_access.log;
  client_body_temp_path ${dir}/tmp;
  proxy_temp_path ${dir}/tmp;
  fastcgi_temp_path ${dir}/tmp;
  uwsgi_temp_path ${dir}/tmp;
  scgi_temp_path ${dir}/tmp;
  server {
    listen 127.0.0.1:${httpPort};
    location /control { rtmp_control all; }
    location /stat { rtmp_stat all; }
  }
}
`);
    await startNginx();
  });

  afterAll(async () => {
    killAll();
    await u?.stop();
    if (dir) cleanup(dir);
  });

  it('refuses a publisher with a bad token: ffmpeg fails and the refusal is counted (a forged token names nobody)', async () => {
    const p = publish('forged.token');
    const code = await exited(p, 15_000);
    expect(code).not.toBe(0);
    await waitFor(async () => ((await u.api('GET', '/v1/denials')).body.items as Array<{ source: string; code: string }>)
      .some((d) => d.source.endsWith('/127.0.0.1') && d.code === 'E_TOKEN_INVALID'));
    expect((await u.api('GET', '/v1/sessions?status=denied&kind=input')).body.total).toBe(0);
  });

  let publisher: ChildProcess;
  let pubSession: Item;

  it('admits a publisher with a valid token', async () => {
    publisher = publish(u.sign({ stream: 'live/demo', account: 'studio', action: 'publish' }));
    pubSession = await waitSession('status=active&kind=input');
    expect(pubSession).toMatchObject({ stream: 'live/demo', server: 'edge1', account: 'studio' });
    expect(pubSession.clientId).toMatch(/^\d+$/);
    expect(publisher.exitCode).toBeNull();
  });

  let viewer: ChildProcess;
  let viewerSession: Item;

  it('admits one screen of an account on a plan limited to 1 and refuses its second screen', async () => {
    viewer = play(u.sign({ stream: 'live/demo', account: 'alice', device: 'tv' }));
    viewerSession = await waitSession('status=active&kind=viewer', (s) => s.device === 'tv');
    expect(viewerSession.account).toBe('alice');

    const second = play(u.sign({ stream: 'live/demo', account: 'alice', device: 'phone' }));
    const code = await exited(second, 15_000);
    expect(code).not.toBe(0);
    const refused = await waitSession('status=denied&kind=viewer', (s) => s.device === 'phone');
    expect(refused.reason).toBe('E_LIMIT_REACHED');
    expect(viewer.exitCode).toBeNull();
    expect((await u.api('GET', `/v1/sessions/${viewerSession.id}`)).body.status).toBe('active');
  });

  it('kicks a player through the admin API: nginx drops it (rtmp_control) and its ffmpeg exits', async () => {
    const k = await u.api('DELETE', `/v1/sessions/${viewerSession.id}`, { reason: 'operator kick' });
    expect(k.status).toBe(200);
    expect(k.body.status).toBe('killed');
    await exited(viewer, 10_000);
    const stat = await (await fetch(`http://127.0.0.1:${httpPort}/stat`)).text();
    expect(stat).not.toContain(`<id>${viewerSession.clientId}</id>`);
  });

  it('ends the session of a publisher that stops', async () => {
    publisher.kill('SIGTERM');
    await exited(publisher, 10_000);
    const ended = await waitFor(async () => {
      const r = await u.api('GET', `/v1/sessions/${pubSession.id}`);
      return r.body.status === 'ended' ? r.body : undefined;
    }, 10_000);
    expect(ended.endedAt).not.toBeNull();
  });

  it('admits an OBS-style publisher whose token is on the application (rtmp://host/live?tkn=T + key)', async () => {
    const token = u.sign({ stream: 'live/obs', account: 'studio', action: 'publish' });
    const p = ffmpeg([
      '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-f', 'flv',
      '-rtmp_app', `live?tkn=${token}`, '-rtmp_playpath', 'obs', `rtmp://127.0.0.1:${rtmpPort}/`,
    ]);
    const s = await waitSession('status=active&kind=input&stream=live/obs');
    expect(s.account).toBe('studio');
    expect(p.exitCode).toBeNull();
    p.kill('SIGTERM');
    await exited(p, 10_000);
    await waitFor(async () => (await u.api('GET', `/v1/sessions/${s.id}`)).body.status === 'ended', 10_000);
  });

  it('records an nginx push relay as an output of the source stream (not a viewer), kept by sync', async () => {
    const token = u.sign({ stream: 'src/cam', account: 'studio', action: 'publish' });
    const p = ffmpeg([
      '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-f', 'flv',
      `rtmp://127.0.0.1:${rtmpPort}/src/cam?tkn=${token}`,
    ]);
    const input = await waitSession('status=active&kind=input&stream=src/cam');
    const output = await waitSession('status=active&kind=output&stream=src/cam');
    expect(output).toMatchObject({ account: null, userAgent: 'ngx-local-relay', ip: '127.0.0.1' });
    expect(output.clientId).not.toBe(input.clientId);
    const remote = await waitSession('status=active&kind=input&stream=relay/cam');
    expect(remote.account).toBe('studio');
    expect(await list('kind=viewer&status=active&stream=src/cam')).toHaveLength(0);
    expect(await list('status=denied&stream=src/cam')).toHaveLength(0);

    // nginx keeps relaying (updates every 2 s are answered 200) and a sync keeps all three
    const stat = await (await fetch(`http://127.0.0.1:${httpPort}/stat`)).text();
    expect(stat).toContain('<flashver>ngx-local-relay</flashver>');
    const r = await u.api('POST', '/v1/servers/edge1/sync');
    expect(r.status).toBe(200);
    expect(r.body.kicked).toBe(0);
    for (const id of [input.id, output.id, remote.id]) expect((await u.api('GET', `/v1/sessions/${id}`)).body.status).toBe('active');

    p.kill('SIGTERM');
    await exited(p, 10_000);
    for (const id of [input.id, output.id, remote.id]) {
      await waitFor(async () => (await u.api('GET', `/v1/sessions/${id}`)).body.status === 'ended', 15_000);
    }
  });

  it('after nginx restarts, a sync ends the sessions it no longer has', async () => {
    const pub = publish(u.sign({ stream: 'live/demo', account: 'studio', action: 'publish' }));
    const input = await waitSession('status=active&kind=input');
    play(u.sign({ stream: 'live/demo', account: 'bob', device: 'pc' }));
    const watching = await waitSession('status=active&kind=viewer', (s) => s.account === 'bob');
    expect(pub.exitCode).toBeNull();

    // nginx dies without a word (no done hooks), then comes back empty
    await killNginx();
    expect((await u.api('GET', `/v1/sessions/${input.id}`)).body.status).toBe('active');
    await startNginx();

    const r = await u.api('POST', '/v1/servers/edge1/sync');
    expect(r.status).toBe(200);
    expect(r.body.listed).toBe(0);
    expect(r.body.ended).toBeGreaterThanOrEqual(2);
    for (const id of [input.id, watching.id]) {
      await waitFor(async () => (await u.api('GET', `/v1/sessions/${id}`)).body.status === 'ended', 10_000);
    }
  });
});
