import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createCollab, keyringFromBase64, type Collab } from '../collab/index.ts';
import { startCalls, type Calls } from '../sfu/index.ts';
import { startBot, type Ai } from '../ai/index.ts';
import { startAiFromConfig } from './ai/start.ts';
import { hashPassword } from './auth/passwords.ts';
import { createApp } from './app.ts';
import { ensureFirstSuperuser } from './admin/superusers.ts';
import { accessTokens } from '../core/auth/tokens.ts';
import type { Config } from '../core/config.ts';
import { openDatabase, type Database } from '../core/db/database.ts';
import { trackInFlight } from './http/in-flight.ts';
import { createRegistry } from './http/metrics.ts';
import { startRetention } from './jobs/retention.ts';
import type { Logger } from '../core/logger.ts';
import { createAccessCache, type AccessCache } from '../core/access/access-cache.ts';
import { startLicensing, type Licensing } from './license/licensing.ts';

export interface RunningServer {
  url: string;
  port: number;
  database: Database;
  access: AccessCache;
  collab: Collab;
  calls: Calls;
  ai: Ai;
  licensing: Licensing;
  close(): Promise<void>;
}

/**
 * Opens the database (migrating it), then serves everything on one port: REST, the collaboration WebSocket at
 * `/collab`, call signaling at `/rtc`. Parts started so far are stopped again, in reverse, when a later one fails.
 */
export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop();
  };
  try {
    const database = await openDatabase(
      { url: config.DATABASE_URL, dataDir: config.DATA_DIR, poolSize: config.DATABASE_POOL_SIZE },
      log,
    );
    stops.push(() => database.close());
    const access = await createAccessCache(database, log);
    stops.push(() => access.stop());
    await ensureFirstSuperuser(database.pool, config, log);
    const licensing = startLicensing({
      key: config.LICENSE_KEY, publicKey: config.LICENSE_PUBLIC_KEY, graceDays: config.LICENSE_GRACE_DAYS,
      pool: database.pool, log,
    });
    stops.push(async () => licensing.stop());
    const tokens = accessTokens(config.JWT_SECRET, config.ACCESS_TOKEN_TTL_SECONDS);
    const registry = createRegistry();
    const keyring = keyringFromBase64(config.ENCRYPTION_KEY, config.ENCRYPTION_OLD_KEYS);
    const ai = await startAiFromConfig(config, database, keyring, log, { registry });
    stops.push(() => ai.close());
    const collab = createCollab({
      registry,
      pool: database.pool,
      storage: database.storage,
      access,
      tokens,
      keyring,
      onStored: (name, document) => {
        // The last stores at shutdown need no indexing or answers now: the sweep and the next start catch up.
        if (stopping) return;
        ai.documentStored(name);
        bot?.check(name, document).catch((err) => log.warn({ err, document: name }, '@AI bot check failed'));
      },
      onRolledOver: (names) => {
        for (const name of names) ai.documentStored(name);
      },
      log,
      redisUrl: config.REDIS_URL,
      history: {
        liveMessages: config.COLLAB_CHAT_LIVE_MESSAGES, liveCharacters: config.COLLAB_CHAT_LIVE_CHARACTERS,
        segmentMessages: config.COLLAB_CHAT_SEGMENT_MESSAGES, keepGenerationsDays: config.COLLAB_CHAT_GENERATION_KEEP_DAYS,
      },
      subscribe: database.subscribe,
      compactAfter: { updates: config.COLLAB_COMPACT_AFTER, bytes: config.COLLAB_COMPACT_AFTER_BYTES },
      limits: {
        maxUpdateBytes: config.COLLAB_MAX_UPDATE_BYTES,
        maxDocumentBytes: config.COLLAB_MAX_DOCUMENT_BYTES,
        messagesPerSecond: config.COLLAB_MESSAGES_PER_SECOND,
        userBytesPerMinute: config.COLLAB_USER_BYTES_PER_MINUTE,
        groupBytesPerMinute: config.COLLAB_GROUP_BYTES_PER_MINUTE,
      },
      presence: { maxBytes: config.COLLAB_PRESENCE_MAX_BYTES, perSecond: config.COLLAB_PRESENCE_PER_SECOND },
    });
    stops.push(() => collab.close());
    let stopping = false;
    stops.push(async () => {
      stopping = true;
    });
    const bot = ai.assistant
      ? await startBot({ pool: database.pool, collab, assistant: ai.assistant, llm: ai.llm, log, hashPassword, flushMs: 150 })
      : undefined;
    const calls = await startCalls({
      pool: database.pool,
      access,
      tokens,
      registry,
      log,
      workerBinary: config.MEDIASOUP_WORKER_BIN,
      workers: config.SFU_WORKERS,
      certificateDir: path.join(config.DATA_DIR, 'sfu'),
      rtc: {
        listenIp: config.RTC_LISTEN_IP,
        announcedIp: config.RTC_ANNOUNCED_IP,
        minPort: config.RTC_MIN_PORT,
        maxPort: config.RTC_MAX_PORT,
        enableTcp: config.RTC_ENABLE_TCP,
      },
      limits: {
        maxPeersPerRoom: config.SFU_MAX_PEERS_PER_ROOM,
        maxProducersPerPeer: config.SFU_MAX_PRODUCERS_PER_PEER,
        requestsPerSecond: config.SFU_REQUESTS_PER_SECOND,
        userRequestsPerSecond: config.SFU_USER_REQUESTS_PER_SECOND,
        maxConnectionsPerUser: config.SFU_MAX_CONNECTIONS_PER_USER,
        maxPeersPerUserPerRoom: config.SFU_MAX_PEERS_PER_USER_PER_ROOM,
        maxRoomsPerUser: config.SFU_MAX_ROOMS_PER_USER,
        maxTransportsPerUser: config.SFU_MAX_TRANSPORTS_PER_USER,
      },
    });
    stops.push(() => calls.close());
    const inFlight = trackInFlight();
    stops.push(() => inFlight.drained(5000));

    const app = createApp({ config, database, access, tokens, collab, calls, ai, keyring, licensing, inFlight, registry, log });
    const http = app.listen(config.PORT, config.HOST);
    http.on('upgrade', (request, socket, head) => {
      const { pathname } = new URL(request.url ?? '/', 'http://localhost');
      if (pathname === '/collab') return collab.handleUpgrade(request, socket, head);
      if (pathname === '/rtc') return calls.handleUpgrade(request, socket, head);
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
    });
    await once(http, 'listening');
    stops.push(async () => {
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeIdleConnections();
      // Open WebSockets would hold the HTTP server open: end them before waiting for it.
      await collab.close();
      await calls.close();
      await closed;
    });
    // Background jobs start last, so they stop first.
    if (config.DATA_RETENTION_DAYS) {
      const retention = startRetention(database.pool, collab, {
        days: config.DATA_RETENTION_DAYS, intervalSeconds: config.RETENTION_INTERVAL_SECONDS,
        batch: config.RETENTION_BATCH, forget: (name) => ai.forgetDocument(name),
      }, registry, log);
      stops.push(() => retention.stop());
    }
    // Slow clients must not hold sockets forever.
    http.headersTimeout = 15_000;
    http.requestTimeout = 30_000;
    const { port } = http.address() as AddressInfo;
    const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
    const url = `http://${host}:${port}`;
    log.info({ url, database: database.kind, redis: Boolean(config.REDIS_URL) }, 'server listening');

    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= stopAll().then(() => {
        log.info('server stopped');
      }));
    return { url, port, database, access, collab, calls, ai, licensing, close };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
