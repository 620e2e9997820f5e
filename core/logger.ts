import { format } from 'node:util';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs on stdout (or `destination`, e.g. to read them in a test); one line per event, with the service
 * name for log shippers.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, base: { service: 'teamspace' }, timestamp: pino.stdTimeFunctions.isoTime };
  return destination ? pino(options, destination) : pino(options);
}

/** Query parameters that carry credentials (`/rtc?token=…`, OAuth-style `access_token=…`). */
const secretParams = new Set(['token', 'access_token', 'refresh_token']);

function paramName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' ')).toLowerCase();
  } catch {
    return raw.toLowerCase();
  }
}

/** The URL with the values of credential-carrying query parameters replaced, for logging. */
export function redactUrl(url: string): string {
  const start = url.indexOf('?');
  if (start < 0) return url;
  const query = url
    .slice(start + 1)
    .split('&')
    .map((pair) => {
      const name = pair.split('=', 1)[0]!;
      // Names are compared decoded, as the query parser reads them (`acc%65ss_token` is `access_token`).
      return secretParams.has(paramName(name)) ? `${name}=[redacted]` : pair;
    });
  return `${url.slice(0, start + 1)}${query.join('&')}`;
}

type ConsoleMethod = 'error' | 'warn' | 'info' | 'log' | 'debug';

// Libraries print clients' faults with console.error as well as their own: our code logs real failures itself.
const consoleLevels = { error: 'warn', warn: 'warn', info: 'info', log: 'info', debug: 'debug' } as const;

interface ConsoleRoute {
  log: Logger;
  /** A path fragment, e.g. `/@hocuspocus/`, that the printing code's file contains. */
  from: string;
  source: string;
}

const routes: ConsoleRoute[] = [];
let originals: Record<ConsoleMethod, (...args: unknown[]) => void> | undefined;

/** The file of the code that called the console method, read from the stack without the wrapper's own frames. */
function callerFile(wrapper: (...args: unknown[]) => void): string {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 1;
  Error.captureStackTrace(holder, wrapper);
  Error.stackTraceLimit = limit;
  return holder.stack ?? '';
}

function install(): void {
  originals = {} as NonNullable<typeof originals>;
  for (const method of Object.keys(consoleLevels) as ConsoleMethod[]) {
    const original = (originals[method] = console[method]);
    const wrapper = (...args: unknown[]) => {
      const file = callerFile(wrapper);
      const route = routes.findLast((r) => file.includes(r.from));
      if (!route) return original.apply(console, args);
      const err = args.find((arg) => arg instanceof Error);
      const message = format(...args.filter((arg) => arg !== err)) || (err as Error | undefined)?.message;
      route.log[consoleLevels[method]]({ source: route.source, ...(err ? { err } : {}) }, message);
    };
    console[method] = wrapper;
  }
}

/**
 * Console output printed by code whose file path contains `from` (a library that only logs with console, such as
 * Hocuspocus) becomes JSON lines of `log` tagged with `source`; all other console output is untouched. Several
 * routes may be active (e.g. several servers in one test process); the latest matching one wins. Returns the undo.
 */
export function routeConsole(log: Logger, from: string, source: string): () => void {
  if (!originals) install();
  const route = { log, from, source };
  routes.push(route);
  return () => {
    const at = routes.indexOf(route);
    if (at >= 0) routes.splice(at, 1);
    if (routes.length || !originals) return;
    Object.assign(console, originals);
    originals = undefined;
  };
}
