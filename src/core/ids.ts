/**
 * Session ids: UUIDv7 (RFC 9562) — 48 bits of milliseconds, then random bits. Time-ordered ids keep the
 * database's id index appending at its end instead of dirtying a random page per insert.
 */
import { randomUUID } from 'node:crypto';

export function uuidv7(now = Date.now()): string {
  const r = randomUUID(); // xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx: keep its random bits and its variant nibble
  const h = now.toString(16).padStart(12, '0');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-7${r.slice(15, 18)}-${r.slice(19)}`;
}
