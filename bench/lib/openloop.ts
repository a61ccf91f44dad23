/**
 * An open-loop HTTP load generator for fixed offered rates (run as its own process). Requests are due at fixed
 * times (rate × elapsed); each one's latency counts from when it was due, not from when a connection was free, so a
 * slow server cannot hide its queueing (no coordinated omission). Bodies come from a file, one per line, so every
 * admission is a new session. Prints one JSON line: {sent, done, errors, non2xx, p50, p90, p99, max} (ms).
 *
 * usage: node openloop.js URL PATH BODIES_FILE RATE SECONDS CONNECTIONS
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';

const [urlArg, path, bodiesFile, rateArg, secondsArg, connsArg] = process.argv.slice(2);
const url = new URL(urlArg);
const RATE = Number(rateArg);
const SECONDS = Number(secondsArg);
const CONNS = Number(connsArg);

const requests = readFileSync(bodiesFile, 'utf8').trimEnd().split('\n').map((b) =>
  Buffer.from(`POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}`));

const total = Math.floor(RATE * SECONDS);
const lat = new Float64Array(total);
let sent = 0;
let done = 0;
let errors = 0;
let non2xx = 0;
let lost = 0;

interface Conn { sock: Socket; busy: boolean; due: number; buf: Buffer }
const idle: Conn[] = [];
const backlog: number[] = []; // due times of requests waiting for a free connection

function openConn(): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const sock = connect(Number(url.port), url.hostname, () => resolve(c));
    const c: Conn = { sock, busy: false, due: 0, buf: Buffer.alloc(0) };
    sock.setNoDelay(true);
    sock.on('error', reject);
    // a connection the server closed can answer nothing more: its request in flight is an error, not a wait
    sock.on('close', () => {
      if (c.busy) lost++;
      c.busy = true;
    });
    sock.on('data', (chunk: Buffer) => {
      c.buf = c.buf.length ? Buffer.concat([c.buf, chunk]) : chunk;
      const end = c.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = c.buf.subarray(0, end).toString('latin1');
      const m = /content-length:\s*(\d+)/i.exec(head);
      const need = end + 4 + (m ? Number(m[1]) : 0);
      if (c.buf.length < need) return;
      c.buf = c.buf.subarray(need);
      const status = Number(head.slice(9, 12));
      if (status < 200 || status > 299) non2xx++;
      lat[done++] = performance.now() - c.due;
      c.busy = false;
      next(c);
    });
  });
}

function send(c: Conn, due: number): void {
  c.busy = true;
  c.due = due;
  c.sock.write(requests[sent++ % requests.length]);
}

function next(c: Conn): void {
  const due = backlog.shift();
  if (due !== undefined) send(c, due);
  else idle.push(c);
}

async function main(): Promise<void> {
  const conns = await Promise.all(Array.from({ length: CONNS }, () => openConn()));
  idle.push(...conns);
  const start = performance.now();
  let scheduled = 0;
  let sendSeconds = SECONDS;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      const dueCount = Math.min(total, Math.floor(((now - start) / 1000) * RATE));
      for (; scheduled < dueCount; scheduled++) {
        const due = start + (scheduled / RATE) * 1000;
        const c = idle.pop();
        if (c) send(c, due);
        else backlog.push(due);
      }
      if (scheduled >= total) {
        sendSeconds = (performance.now() - start) / 1000;
        return resolve();
      }
      setTimeout(tick, 1); // ~1 ms granularity: requests due within a tick leave together, measured from when each was due
    };
    tick();
  });
  const deadline = performance.now() + 10_000;
  while (done + lost < sent + backlog.length && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  errors = total - done;
  for (const c of conns) c.sock.destroy();
  const l = Array.from(lat.subarray(0, done)).sort((a, b) => a - b);
  const q = (p: number): number => l[Math.min(l.length - 1, Math.floor(p * l.length))] ?? NaN;
  console.log(JSON.stringify({ sent: total, done, errors, non2xx, seconds: sendSeconds, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: l[l.length - 1] }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
