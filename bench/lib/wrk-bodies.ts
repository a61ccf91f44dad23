/** Writes N distinct admission bodies, one per line, for wrk's Lua script (bench/lib/admission.lua). */
import { writeFileSync } from 'node:fs';
import { signToken } from '../../src/auth/signed-url.js';

export function writeBodies(path: string, n: number, secret: string, offset = 0): void {
  const lines: string[] = new Array(n);
  for (let j = 0; j < n; j++) {
    const i = j + offset;
    const stream = `bench/${i % 100}`;
    const token = signToken(secret, { stream, account: `acct${i >> 1}`, plan: 'std', device: `d${i}`, ttlSeconds: 3600 });
    lines[j] = JSON.stringify({ action: 'play', stream, token, protocol: 'hls' });
  }
  writeFileSync(path, lines.join('\n') + '\n');
}

if (process.argv[2]) writeBodies(process.argv[2], Number(process.argv[3] ?? 100000), process.argv[4] ?? 'bench-secret', Number(process.argv[5] ?? 0));
