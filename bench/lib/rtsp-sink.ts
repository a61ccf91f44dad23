/**
 * A light RTP-over-TCP sink for the RTSP benchmark, run as a child process (so its CPU is not the server's):
 * N raw RTSP readers (DESCRIBE, SETUP every track interleaved, PLAY), then every byte read is only counted.
 * Driven over IPC: {cmd:'open', urls} → {ok, opened, failed, firstError}; {cmd:'count'} → {bytes, open, receiving}
 * (bytes: total read by all readers since they opened; open: readers whose socket is open; receiving: open readers
 * that read something since the previous count); {cmd:'close'}.
 */
import { connect, type Socket } from 'node:net';

interface Reader {
  socket: Socket;
  bytes: number;
  /** `bytes` at the previous count. */
  counted: number;
  open: boolean;
}

const readers: Reader[] = [];

function head(buf: Buffer): { end: number; status: number; headers: Map<string, string>; length: number } | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const headers = new Map<string, string>();
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
  }
  return { end: end + 4, status: Number(lines[0].split(' ')[1]), headers, length: Number(headers.get('content-length') ?? 0) };
}

/** Opens one reader; resolves once PLAY is answered 200; rejects on an error answer or after 10 s without PLAY. */
function openReader(url: string): Promise<Reader> {
  return new Promise((resolveOpen, rejectOpen) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to ${step.toUpperCase()} within 10 s`));
    }, 10_000);
    const resolve = (r: Reader): void => {
      clearTimeout(timer);
      resolveOpen(r);
    };
    const reject = (e: Error): void => {
      clearTimeout(timer);
      rejectOpen(e);
    };
    const u = new URL(url);
    const socket = connect(Number(u.port || 554), u.hostname);
    socket.setNoDelay(true);
    const r: Reader = { socket, bytes: 0, counted: 0, open: true };
    let buf: Buffer = Buffer.alloc(0);
    let cseq = 0;
    let session = '';
    let step: 'describe' | 'setup' | 'play' | 'streaming' = 'describe';
    let controls: string[] = [];
    let base = url;
    let setupIndex = 0;
    const send = (method: string, target: string, extra = ''): void => {
      socket.write(`${method} ${target} RTSP/1.0\r\nCSeq: ${++cseq}\r\nUser-Agent: usher-bench-sink\r\n${session ? `Session: ${session}\r\n` : ''}${extra}\r\n`);
    };
    const setupNext = (): void => {
      const c = controls[setupIndex];
      const target = /^rtsp:\/\//i.test(c) ? c : `${base}${base.endsWith('/') ? '' : '/'}${c}`;
      send('SETUP', target, `Transport: RTP/AVP/TCP;unicast;interleaved=${2 * setupIndex}-${2 * setupIndex + 1}\r\n`);
    };
    socket.on('error', (e) => {
      r.open = false;
      if (step !== 'streaming') reject(e);
    });
    socket.on('close', () => {
      r.open = false;
      if (step !== 'streaming') reject(new Error('closed before PLAY'));
    });
    socket.on('data', (c: Buffer) => {
      if (step === 'streaming') {
        r.bytes += c.length;
        return;
      }
      buf = buf.length ? Buffer.concat([buf, c]) : c;
      // A server may send interleaved RTP/RTCP ($, channel, 16-bit length; RFC 2326 §10.12) before its PLAY answer:
      // live555 sends an RTCP sender report as it starts the stream, ahead of the answer (liveMedia/
      // OnDemandServerMediaSubsession.cpp, StreamState::startPlaying: "Send an initial RTCP SR packet").
      while (buf.length >= 4 && buf[0] === 0x24) {
        const frame = 4 + buf.readUInt16BE(2);
        if (buf.length < frame) return;
        r.bytes += frame;
        buf = buf.subarray(frame);
      }
      const h = head(buf);
      if (!h || buf.length < h.end + h.length) return;
      const body = buf.subarray(h.end, h.end + h.length).toString('latin1');
      const rest = buf.subarray(h.end + h.length);
      const first = JSON.stringify(buf.subarray(0, 40).toString('latin1'));
      buf = Buffer.alloc(0);
      if (h.status !== 200) {
        socket.destroy();
        reject(new Error(Number.isNaN(h.status) ? `${step}: not an RTSP answer: ${first}` : `${step} answered ${h.status}`));
        return;
      }
      const s = h.headers.get('session');
      if (s) session = s.split(';')[0];
      if (step === 'describe') {
        base = h.headers.get('content-base') ?? url;
        // media-level controls, in order
        const media = body.split(/\r?\nm=/).slice(1);
        controls = media.map((m, i) => /a=control:(\S+)/.exec(m)?.[1] ?? `trackID=${i}`);
        step = 'setup';
        setupNext();
      } else if (step === 'setup') {
        setupIndex++;
        if (setupIndex < controls.length) setupNext();
        else {
          step = 'play';
          send('PLAY', base, 'Range: npt=0.000-\r\n');
        }
      } else if (step === 'play') {
        step = 'streaming';
        r.bytes += rest.length;
        resolve(r);
      }
    });
    socket.once('connect', () => send('DESCRIBE', url, 'Accept: application/sdp\r\n'));
  });
}

// keep-alive every 20 s (servers reap sessions silent for 60 s)
const keepAlive = setInterval(() => {
  for (const r of readers) if (r.open) r.socket.write(`OPTIONS * RTSP/1.0\r\nCSeq: 999\r\n\r\n`);
}, 20_000);
keepAlive.unref();

process.on('message', async (m: { cmd: string; urls?: string[] }) => {
  if (m.cmd === 'open') {
    let opened = 0;
    let failed = 0;
    let firstError = '';
    // 20 at a time
    const urls = m.urls ?? [];
    for (let i = 0; i < urls.length; i += 20) {
      const batch = await Promise.allSettled(urls.slice(i, i + 20).map(openReader));
      for (const b of batch) {
        if (b.status === 'fulfilled') {
          readers.push(b.value);
          opened++;
        } else {
          failed++;
          firstError ||= String(b.reason);
        }
      }
    }
    process.send!({ ok: true, opened, failed, firstError });
  } else if (m.cmd === 'count') {
    let bytes = 0;
    let open = 0;
    let receiving = 0;
    for (const r of readers) {
      bytes += r.bytes;
      if (r.open) open++;
      if (r.open && r.bytes > r.counted) receiving++;
      r.counted = r.bytes;
    }
    process.send!({ bytes, open, receiving });
  } else if (m.cmd === 'close') {
    for (const r of readers) r.socket.destroy();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
