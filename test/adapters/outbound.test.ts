/** Every outbound call to a media server is bounded in time and in size. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callServer, ServerUnreachable } from '../../src/adapters/outbound.js';
import type { ServerConfig } from '../../src/config/schema.js';

const cfg = (api: string, timeoutMs = 300): ServerConfig => ({
  name: 's1', type: 'nginx-rtmp', api, user: '', password: '', token: '', secret: '', controlPath: '/control', statPath: '/stat', timeoutMs,
});

describe('callServer', () => {
  let server: Server;
  let base = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/hang') return; // never answers
      if (req.url === '/slow-body') {
        res.writeHead(200);
        res.write('partial');
        return; // body never ends
      }
      if (req.url === '/big') {
        res.writeHead(200, { 'content-length': String(2 * 1024 * 1024) });
        res.end(Buffer.alloc(2 * 1024 * 1024, 120));
        return;
      }
      if (req.url === '/big-chunked') {
        res.writeHead(200);
        for (let i = 0; i < 64; i++) res.write(Buffer.alloc(32 * 1024, 121));
        res.end();
        return;
      }
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('answers normally', async () => {
    expect(await callServer(cfg(base), { path: '/x' })).toEqual({ status: 200, text: 'ok' });
  });

  it('gives up on a server that does not answer, or does not finish its body', async () => {
    await expect(callServer(cfg(base), { path: '/hang' })).rejects.toThrow(/timed out/);
    await expect(callServer(cfg(base), { path: '/slow-body' })).rejects.toBeInstanceOf(ServerUnreachable);
  });

  it('refuses a body over the limit, announced or not', async () => {
    await expect(callServer(cfg(base), { path: '/big', maxBytes: 1024 * 1024 })).rejects.toThrow(/over 1048576 bytes/);
    await expect(callServer(cfg(base), { path: '/big-chunked', maxBytes: 1024 * 1024 })).rejects.toThrow(/over 1048576 bytes/);
  });

  it('reports a refused connection and a missing api address as unreachable', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(callServer(cfg(`http://127.0.0.1:${port}`), { path: '/' })).rejects.toBeInstanceOf(ServerUnreachable);
    await expect(callServer(cfg(''), { path: '/' })).rejects.toThrow(/no api address/);
    // a stable code from src/errors.ts, as every adapter error now carries
    await expect(callServer(cfg(`http://127.0.0.1:${port}`), { path: '/' })).rejects.toMatchObject({ code: 'E_SERVER_UNREACHABLE', status: 502 });
  });
});
