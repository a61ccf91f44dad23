/**
 * The longest time or duration Usher accepts anywhere (token lifetimes, `--ttl`, `maxDurationSeconds`, config
 * durations): 400 days. Longer is refused where it is given (400 / exit 2 naming the field), so that no expiry can
 * overflow a date later and break an answer or a listing.
 */
export const MAX_DURATION_SECONDS = 400 * 86_400;

/** `400d`, for messages. */
export const MAX_DURATION_TEXT = '400d';

/** Durations as operators write them: 90, "90", "90s", "5m", "1h", "1d", "1h30m". Returns seconds, or undefined. */
export function parseDuration(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : undefined;
  const s = v.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(s)) return undefined;
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) {
    const n = Number(m[1]);
    total += m[2] === 'ms' ? n / 1000 : m[2] === 's' ? n : m[2] === 'm' ? n * 60 : m[2] === 'h' ? n * 3600 : n * 86400;
  }
  return total;
}

export function formatDuration(seconds: number): string {
  if (seconds % 86400 === 0 && seconds > 0) return `${seconds / 86400}d`;
  if (seconds % 3600 === 0 && seconds > 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0 && seconds > 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}
