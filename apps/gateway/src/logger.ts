import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stderr; stdout is kept for the lines a person reads (address, token). */
export function createLogger(level = process.env.QUASIVM_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: 'gateway', level }, pino.destination(2));
}
