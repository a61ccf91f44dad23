/**
 * Structured JSON logs (pino). Secrets never reach a log line: known secret fields are redacted wherever they appear.
 */
import { pino, type Logger } from 'pino';
import { SECRET_KEYS } from './config/secrets.js';

export type { Logger };

/** pino redact paths: every config secret (src/config/secrets.ts) at the top and one level down, plus credentials in requests. */
export const REDACT_PATHS = [
  ...SECRET_KEYS.flatMap((k) => [k, `*.${k}`]),
  'authorization', '*.authorization', 'headers.authorization', 'headers.cookie', 'req.headers.authorization', 'req.headers.cookie',
  'query', '*.query',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, base: { name: 'usher' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, timestamp: pino.stdTimeFunctions.isoTime },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

/** A logger that drops everything (tests, CLI). */
export const silentLogger: Logger = pino({ level: 'silent' });

export interface LogBudget {
  /** Full lines written per interval at most. */
  max: number;
  /** Length of an interval, ms. */
  intervalMs: number;
  /** The clock (ms); passed in so tests can drive it. */
  now: () => number;
}

/**
 * Error lines under a budget, for failures that can repeat per request (a full disk fails every admission):
 * at most `max` full lines per `intervalMs`; past that, lines are counted, not written, and one summary line
 * `{suppressed: N}` follows when the interval is over (at the next call, or from a timer that does not keep the
 * process alive). So a storm costs `max + 1` lines per interval, not one stack trace per request.
 */
export class RateLimitedLog {
  private windowStart = Number.NEGATIVE_INFINITY;
  private written = 0;
  private suppressed = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly log: Logger, private readonly budget: LogBudget) {}

  error(obj: object, msg: string): void {
    const now = this.budget.now();
    if (now - this.windowStart >= this.budget.intervalMs) {
      this.flush();
      this.windowStart = now;
      this.written = 0;
    }
    if (this.written < this.budget.max) {
      this.written++;
      this.log.error(obj, msg);
      return;
    }
    this.suppressed++;
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), Math.max(0, this.windowStart + this.budget.intervalMs - now));
      this.timer.unref();
    }
  }

  /** Write the summary of what was suppressed, if anything was. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.suppressed === 0) return;
    const n = this.suppressed;
    this.suppressed = 0;
    this.log.error({ suppressed: n, intervalMs: this.budget.intervalMs }, `${n} more error line(s) like the above suppressed`);
  }
}
