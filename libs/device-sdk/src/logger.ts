import { pino, type Logger } from 'pino';

/** Structured (JSON lines) logger on stderr; level from QUASIVM_LOG_LEVEL (default info). */
export function createLogger(name: string): Logger {
  return pino({ name, level: process.env.QUASIVM_LOG_LEVEL ?? 'info' }, pino.destination(2));
}
export type { Logger };
