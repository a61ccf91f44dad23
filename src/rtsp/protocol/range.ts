/**
 * The Range header, npt form only (RFC 2326 §3.6, §12.29): `npt=0.000-`, `npt=now-`, `npt=10-20.5`,
 * `npt=1:02:03.5-`. A live relay cannot seek, so the server mostly answers PLAY with `Range: npt=0.000-`
 * (or echoes `now-`); parsing exists to tell "play from the live point" apart from a seek it must refuse (457).
 */

/** Seconds, or 'now' for the live point. */
export type NptTime = number | 'now';

export interface NptRange {
  start: NptTime;
  /** Seconds; absent for an open range (`npt=0-`). */
  end?: number;
}

/** Parses a Range header value. Undefined for other units (smpte, clock), a missing start, or garbage. */
export function parseRange(value: string): NptRange | undefined {
  // Parameters such as ";time=..." (a PLAY scheduled at a wall-clock time) are ignored.
  const spec = value.split(';')[0].trim();
  const m = /^npt\s*=\s*([^-\s]*)\s*-\s*([^-\s]*)$/i.exec(spec);
  if (!m) return undefined;
  const start = m[1].toLowerCase() === 'now' ? 'now' : parseNptTime(m[1]);
  if (start === undefined) return undefined;
  if (m[2] === '') return { start };
  const end = parseNptTime(m[2]);
  if (end === undefined) return undefined;
  if (start !== 'now' && end < start) return undefined;
  return { start, end };
}

/** `123.45` or `h:mm:ss[.fff]`; undefined otherwise. */
function parseNptTime(t: string): number | undefined {
  let m = /^(\d{1,12})(\.\d{0,9})?$/.exec(t);
  if (m) return Number(m[1] + (m[2] && m[2] !== '.' ? m[2] : ''));
  m = /^(\d{1,9}):([0-5]?\d):([0-5]?\d)(\.\d{0,9})?$/.exec(t);
  if (m) {
    const frac = m[4] && m[4] !== '.' ? Number(`0${m[4]}`) : 0;
    return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) + frac;
  }
  return undefined;
}

/** `npt=<start>-[<end>]` with three decimals, the form live555 and gortsplib send. */
export function formatRange(r: NptRange): string {
  const start = r.start === 'now' ? 'now' : fmt(r.start);
  return `npt=${start}-${r.end === undefined ? '' : fmt(r.end)}`;
}

function fmt(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError(`invalid npt time ${seconds}`);
  return seconds.toFixed(3);
}
