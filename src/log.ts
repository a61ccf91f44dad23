/**
 * Structured JSON logs (pino). Secrets never reach a log line: known secret fields are redacted wherever they appear.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'token', '*.token', 'password', '*.password', 'secret', '*.secret', 'adminToken', '*.adminToken',
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
