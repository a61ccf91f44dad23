/**
 * A small raw RTSP client for tests: sends requests with CSeq, parses responses and interleaved frames from the
 * same TCP stream, and can send interleaved frames (a publisher). Real sockets, nothing mocked.
 */
import { connect, type Socket } from 'node:net';
import { digestResponse } from '../../src/rtsp/protocol/index.js';

export interface RtspResponse {
  status: number;
  headers: Map<string, string[]>;
  body: Buffer;
  get(name: string): string | undefined;
}

export class RawRtsp {
  readonly frames: Array<{ channel: number; payload: Buffer }> = [];
  frameBytes = 0;
  keepFrames = true;
  session: string | undefined;
  private buf = Buffer.alloc(0);
  private cseq = 0;
  private waiters: Array<(r: RtspResponse) => void> = [];
  readonly closed: Promise<void>;
  isClosed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => this.onData(c));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.on('close', () => {
      this.isClosed = true;
      resolve();
    }));
  }

  /** `localAddress`: the address to connect from (any 127.x.y.z on Linux loopback: another client address). */
  static connect(port: number, host = '127.0.0.1', localAddress?: string): Promise<RawRtsp> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host, localAddress }, () => {
        s.off('error', reject);
        resolve(new RawRtsp(s));
      });
      s.once('error', reject);
    });
  }

  private onData(c: Buffer): void {
    this.buf = this.buf.length === 0 ? c : Buffer.concat([this.buf, c]);
    for (;;) {
      if (this.buf.length === 0) return;
      if (this.buf[0] === 0x24) {
        if (this.buf.length < 4) return;
        const n = this.buf.readUInt16BE(2);
        if (this.buf.length < 4 + n) return;
        const payload = this.buf.subarray(4, 4 + n);
        this.frameBytes += n;
        if (this.keepFrames) this.frames.push({ channel: this.buf[1], payload: Buffer.from(payload) });
        this.buf = this.buf.subarray(4 + n);
        continue;
      }
      const end = this.buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = this.buf.subarray(0, end).toString('utf8').split('\r\n');
      const headers = new Map<string, string[]>();
      for (const line of head.slice(1)) {
        const i = line.indexOf(':');
        const k = line.slice(0, i).trim().toLowerCase();
        headers.set(k, [...(headers.get(k) ?? []), line.slice(i + 1).trim()]);
      }
      const len = Number(headers.get('content-length')?.[0] ?? 0);
      if (this.buf.length < end + 4 + len) return;
      const body = Buffer.from(this.buf.subarray(end + 4, end + 4 + len));
      this.buf = this.buf.subarray(end + 4 + len);
      const status = Number(head[0].split(' ')[1]);
      const res: RtspResponse = { status, headers, body, get: (n) => headers.get(n.toLowerCase())?.[0] };
      const sess = res.get('session');
      if (sess) this.session = sess.split(';')[0];
      this.waiters.shift()?.(res);
    }
  }

  request(method: string, url: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<RtspResponse> {
    const h: Record<string, string> = { CSeq: String(++this.cseq), ...headers };
    if (this.session && !('Session' in h) && method !== 'OPTIONS' && method !== 'DESCRIBE' && method !== 'ANNOUNCE') h.Session = this.session;
    const b = body === undefined ? undefined : Buffer.from(body);
    if (b) h['Content-Length'] = String(b.length);
    const text = `${method} ${url} RTSP/1.0\r\n${Object.entries(h).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
    return this.raw(b ? Buffer.concat([Buffer.from(text), b]) : Buffer.from(text));
  }

  /** Writes bytes as they are and waits for one response. */
  raw(bytes: Buffer | string): Promise<RtspResponse> {
    return new Promise((resolve, reject) => {
      if (this.isClosed) return reject(new Error('connection closed'));
      this.waiters.push(resolve);
      void this.closed.then(() => reject(new Error('connection closed')));
      this.socket.write(bytes);
    });
  }

  sendFrame(channel: number, payload: Buffer): boolean {
    const h = Buffer.from([0x24, channel, payload.length >> 8, payload.length & 0xff]);
    return this.socket.write(Buffer.concat([h, payload]));
  }

  close(): void {
    this.socket.destroy();
  }
}

export const SDP_H264_AAC =
  'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=No Name\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\na=tool:libavformat 59.27.100\r\n' +
  'm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n' +
  'a=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z2QAHqzZQKAv+XARAAADAAEAAAMAMg8WLZY=,aOvjyyLA; profile-level-id=64001E\r\n' +
  'a=control:streamid=0\r\n' +
  'm=audio 0 RTP/AVP 97\r\nb=AS:128\r\na=rtpmap:97 MPEG4-GENERIC/44100/2\r\n' +
  'a=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3; config=121056E500\r\n' +
  'a=control:streamid=1\r\n';

/** An RTP packet (version 2) with the given sequence number and timestamp. */
export function rtp(seq: number, ts = 1000, size = 100, pt = 96, ssrc = 0x11223344): Buffer {
  const b = Buffer.alloc(12 + size, seq & 0xff);
  b[0] = 0x80;
  b[1] = pt;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  return b;
}

/** ANNOUNCE + SETUP (TCP, both tracks) + RECORD, as ffmpeg does it. */
export async function publishTcp(port: number, path: string, query = ''): Promise<RawRtsp> {
  const c = await RawRtsp.connect(port);
  const url = `rtsp://127.0.0.1:${port}/${path}${query ? `?${query}` : ''}`;
  const a = await c.request('ANNOUNCE', url, { 'Content-Type': 'application/sdp' }, SDP_H264_AAC);
  if (a.status !== 200) {
    c.close();
    throw Object.assign(new Error(`ANNOUNCE answered ${a.status}`), { status: a.status });
  }
  for (const i of [0, 1]) {
    const r = await c.request('SETUP', `${url}/streamid=${i}`, { Transport: `RTP/AVP/TCP;unicast;interleaved=${2 * i}-${2 * i + 1};mode=record` });
    if (r.status !== 200) throw new Error(`SETUP answered ${r.status}`);
  }
  const r = await c.request('RECORD', url, { Range: 'npt=0.000-' });
  if (r.status !== 200) throw new Error(`RECORD answered ${r.status}`);
  return c;
}

/** DESCRIBE + SETUP both tracks over TCP + PLAY. */
export async function playTcp(port: number, path: string, query = '', channels: Array<[number, number]> = [[0, 1], [2, 3]]): Promise<{ c: RawRtsp; play: RtspResponse }> {
  const c = await RawRtsp.connect(port);
  const url = `rtsp://127.0.0.1:${port}/${path}${query ? `?${query}` : ''}`;
  const d = await c.request('DESCRIBE', url, { Accept: 'application/sdp' });
  if (d.status !== 200) {
    c.close();
    throw Object.assign(new Error(`DESCRIBE answered ${d.status}`), { status: d.status });
  }
  const base = d.get('content-base')!;
  for (const [i, ch] of channels.entries()) {
    const r = await c.request('SETUP', `${base}trackID=${i}`, { Transport: `RTP/AVP/TCP;unicast;interleaved=${ch[0]}-${ch[1]}` });
    if (r.status !== 200) throw new Error(`SETUP answered ${r.status}`);
  }
  const play = await c.request('PLAY', base, { Range: 'npt=0.000-' });
  return { c, play };
}

export function digestHeader(user: string, password: string, realm: string, nonce: string, method: string, uri: string): string {
  const response = digestResponse({ username: user, realm, nonce, uri }, method, password)!;
  return `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}"`;
}
