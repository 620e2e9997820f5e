import pg from 'pg';
import type { Logger } from '../logger.ts';

export interface NotificationListener {
  /** One NOTIFY payload. */
  message(payload: string): void;
  /** Listening stopped or (re)started: notifications may have been missed, so anything derived from them is stale. */
  gap(listening: boolean): void;
}

/** Subscribes to a PostgreSQL NOTIFY channel; resolves once listening; the result stops it. */
export type Subscribe = (channel: string, listener: NotificationListener) => Promise<() => Promise<void>>;

/**
 * PGlite runs a single session, shared by the pooled connections: the session LISTENs, and each NOTIFY comes
 * back in the reply to the statement that committed it, on whichever connection sent that statement, before the
 * statement resolves. The data directory is locked to this process, so nothing is ever missed.
 */
export function pgliteSubscribe(pools: pg.Pool[]): Subscribe {
  return async (channel, listener) => {
    const onNotification = (n: pg.Notification) => {
      if (n.channel === channel && n.payload !== undefined) listener.message(n.payload);
    };
    const heard = new WeakSet<pg.PoolClient>();
    const attach = (client: pg.PoolClient) => {
      if (heard.has(client)) return;
      heard.add(client);
      client.on('notification', onNotification);
    };
    for (const pool of pools) pool.on('acquire', attach);
    await pools[0]!.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    listener.gap(true);
    return async () => {
      for (const pool of pools) pool.off('acquire', attach);
    };
  };
}

/**
 * PostgreSQL: a dedicated connection holds the LISTEN (a pooled one could be handed to a query mid-transaction).
 * When that connection drops, listeners hear of the gap at once and the connection is retried every second. A
 * heartbeat catches a connection that died silently (no reset ever arrived), which would otherwise look alive.
 */
export function postgresSubscribe(url: string, log: Logger, heartbeatMs = 15_000): Subscribe {
  return async (channel, listener) => {
    let client: pg.Client | undefined;
    let stopped = false;
    let retry: NodeJS.Timeout | undefined;

    const lose = (c: pg.Client) => {
      if (client !== c) return;
      client = undefined;
      listener.gap(false);
      c.end().catch(() => {});
      if (!stopped) retry = setTimeout(reconnect, 1000);
    };
    const heartbeat = setInterval(() => {
      const c = client;
      if (!c) return;
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 5000).unref());
      Promise.race([c.query('SELECT 1'), timeout]).catch((err) => {
        log.warn({ err, channel }, 'notification connection stopped answering');
        lose(c);
      });
    }, heartbeatMs);
    heartbeat.unref();

    const connect = async (): Promise<void> => {
      const c = new pg.Client({ connectionString: url, keepAlive: true });
      c.on('notification', (n) => {
        if (n.channel === channel && n.payload !== undefined) listener.message(n.payload);
      });
      c.on('error', (err) => log.warn({ err, channel }, 'notification connection failed'));
      c.on('end', () => lose(c));
      await c.connect();
      await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      client = c;
      listener.gap(true);
    };
    const reconnect = () => {
      connect().catch((err) => {
        log.warn({ err, channel }, 'cannot listen for notifications; retrying');
        if (!stopped) retry = setTimeout(reconnect, 1000);
      });
    };

    await connect();
    return async () => {
      stopped = true;
      clearTimeout(retry);
      clearInterval(heartbeat);
      const c = client;
      client = undefined;
      await c?.end();
    };
  };
}
