// A real logger (pino, JSON lines) whose output a test reads back.
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../core/index.ts';

export interface CapturedLogs {
  log: Logger;
  /** Every line written so far, as written. */
  text(): string;
  /** Every line written so far, parsed. */
  lines(): Record<string, any>[];
}

export function captureLogs(level = 'debug'): CapturedLogs {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const text = () => chunks.join('');
  return {
    log: createLogger(level, sink),
    text,
    lines: () => text().split('\n').filter(Boolean).map((line) => JSON.parse(line)),
  };
}
