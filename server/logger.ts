import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stdout; one line per event, with the service name for log shippers. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'teamspace' }, timestamp: pino.stdTimeFunctions.isoTime });
}
