/**
 * Session ids: UUIDv7 (RFC 9562) — 48 bits of milliseconds, then random bits. Time-ordered ids keep the
 * database's id index appending at its end instead of dirtying a random page per insert.
 */
import { randomFillSync } from 'node:crypto';

const HEX = '0123456789abcdef';
const rnd = Buffer.alloc(4096);
let rndPos = rnd.length;
const out = Buffer.alloc(36);

/** Written byte by byte into one buffer: the result is one flat string (concatenating slices would keep the parts alive). */
export function uuidv7(now = Date.now()): string {
  if (rndPos + 10 > rnd.length) {
    randomFillSync(rnd);
    rndPos = 0;
  }
  let o = 0;
  const hexByte = (b: number): void => {
    out[o++] = HEX.charCodeAt(b >> 4);
    out[o++] = HEX.charCodeAt(b & 15);
  };
  const dash = (): void => void (out[o++] = 45);
  // 48-bit big-endian milliseconds
  const hi = Math.floor(now / 2 ** 32);
  const lo = now >>> 0;
  hexByte((hi >> 8) & 255); hexByte(hi & 255); hexByte(lo >>> 24); hexByte((lo >>> 16) & 255); dash();
  hexByte((lo >>> 8) & 255); hexByte(lo & 255); dash();
  hexByte(0x70 | (rnd[rndPos++] & 0x0f)); hexByte(rnd[rndPos++]); dash(); // version 7
  hexByte(0x80 | (rnd[rndPos++] & 0x3f)); hexByte(rnd[rndPos++]); dash(); // variant 10
  for (let i = 0; i < 6; i++) hexByte(rnd[rndPos++]);
  return out.toString('latin1');
}
