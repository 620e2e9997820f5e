import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import { WebSocketServer, type WebSocket } from 'ws';
import { ApiError, channelAccess, userFromToken, type AccessCache, type AccessTokens, type Logger } from '../core/index.ts';
import { cleanDisplayName } from './display-name.ts';
import { dtlsCertificate } from './dtls-certificate.ts';
import { hangUp } from './hang-up.ts';
import type { Worker } from './mediasoup.ts';
import { registerSfuMetrics } from './metrics.ts';
import { listenIps } from './network.ts';
import { CloseCodes, MAX_MESSAGE_BYTES, type PeerInfo } from './protocol.ts';
import { Quotas, type UserLimits } from './quotas.ts';
import { peerInfo, Room } from './room.ts';
import { revoked, Session, type Ending, type RoomDirectory, type SessionLimits } from './session.ts';
import { findWorkerBinary } from './worker-binary.ts';
import { startWorkerPool, type WorkerPool } from './worker-pool.ts';

export interface RtcSettings {
  listenIp: string;
  announcedIp?: string;
  minPort: number;
  maxPort: number;
  enableTcp: boolean;
}

export interface CallsOptions {
  pool: pg.Pool;
  access: AccessCache;
  tokens: AccessTokens;
  registry: Registry;
  log: Logger;
  /** MEDIASOUP_WORKER_BIN, if set; else the installed worker is looked for. */
  workerBinary?: string;
  /** Workers to run; 0 turns calls off. */
  workers: number;
  /** Where the DTLS certificate is kept. */
  certificateDir: string;
  rtc: RtcSettings;
  limits: CallLimits;
}

export type CallLimits = SessionLimits & UserLimits;

export interface Calls {
  /** False when no worker runs: `/rtc` closes with 4503 and the call API answers 503. */
  readonly available: boolean;
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Who is in a channel's call on this instance. */
  participants(channelId: string): PeerInfo[];
  /** The running workers and the channels whose calls each one holds. */
  workers(): { pid: number; channels: string[] }[];
  /** For bench/sfu only: a channel's open call, so a benchmark can feed its router media without a browser. */
  roomOf(channelId: string): Room | undefined;
  close(): Promise<void>;
}

const HEARTBEAT_MS = 15_000;
/** An archived channel is read-only everywhere: its call ends, and no one joins until it is unarchived. */
const archivedEnding: Ending = { code: CloseCodes.archived, reason: 'channel archived' };
/** The user's sessions were revoked (token epoch bumped): the code a refused token gets, so a client refreshes and rejoins. */
const sessionRevoked: Ending = { code: CloseCodes.unauthorized, reason: 'session_revoked' };
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Refusal {
  code: number;
  reason: string;
  /** Who was refused, once the token has named them. */
  userId?: string;
}

function refusal(code: number, reason: string, userId?: string): { refused: Refusal } {
  return { refused: { code, reason, userId } };
}

/**
 * Group calls in VOICE channels: a pool of mediasoup workers, a room per active call, and the `/rtc` signaling
 * endpoint. Without a worker, calls are off (said once in the log) and everything else runs.
 */
export async function startCalls(options: CallsOptions): Promise<Calls> {
  const { log } = options;
  const found = findWorkerBinary(options.workerBinary);
  let pool: WorkerPool | undefined;
  let offReason: string | undefined;
  if (options.workers === 0) offReason = 'SFU_WORKERS=0';
  else if (!found.binary) offReason = `no mediasoup worker at ${found.looked.join(' or ')} (run scripts/install-mediasoup-worker.sh)`;
  else {
    try {
      const certificate = await dtlsCertificate(options.certificateDir);
      pool = await startWorkerPool(options.workers, {
        binary: found.binary,
        rtcMinPort: options.rtc.minPort,
        rtcMaxPort: options.rtc.maxPort,
        dtlsCertificateFile: certificate.certificateFile,
        dtlsPrivateKeyFile: certificate.privateKeyFile,
      }, log);
    } catch (err) {
      offReason = `mediasoup workers did not start: ${(err as Error).message}`;
    }
  }
  if (offReason) log.warn({ reason: offReason }, 'calls are off');

  const rooms = new Map<string, Promise<Room>>();
  const opened = new Map<string, Room>();
  const sessions = new Set<Session>();
  const quotas = new Quotas(options.limits, options.rtc.maxPort - options.rtc.minPort + 1);
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  const transports = {
    listenIps: listenIps(options.rtc.listenIp, options.rtc.announcedIp),
    enableTcp: options.rtc.enableTcp,
    initialAvailableOutgoingBitrate: 1_000_000,
  };

  const roomsOn = (worker: Worker) => [...opened.values()].filter((room) => room.worker === worker);
  const directory: RoomDirectory = {
    async attach(channelId, member) {
      for (;;) {
        let pending = rooms.get(channelId);
        if (!pending) {
          if (!pool) throw new ApiError(503, 'unavailable', 'calls are off on this server');
          // While a dead worker is being replaced (and none is left), this waits for the new one.
          pending = pool
            .leastLoaded((w) => roomsOn(w).reduce((load, room) => load + 1 + room.peers.size, 0))
            .then((worker) => Room.open(channelId, worker, log));
          rooms.set(channelId, pending);
          pending.then(
            (room) => opened.set(channelId, room),
            () => rooms.delete(channelId),
          );
        }
        const room = await pending;
        if (room.isClosed) {
          if (rooms.get(channelId) === pending) rooms.delete(channelId);
          continue;
        }
        room.sessions.add(member);
        return room;
      }
    },
    detach(room, member) {
      room.sessions.delete(member);
      if (room.sessions.size) return;
      room.close();
      forget(room);
    },
  };
  function forget(room: Room): void {
    if (opened.get(room.channelId) === room) {
      opened.delete(room.channelId);
      rooms.delete(room.channelId);
    }
  }

  pool?.onDeath((worker) => {
    for (const room of roomsOn(worker)) {
      forget(room);
      room.close('the media server restarted: join the call again');
    }
  });

  /** Checks a session's access again: its role now, or why it ends. */
  function recheck(session: Session): void {
    session.recheck(async () => {
      const user = await options.access.user(session.userId);
      if (!user?.is_active) return revoked;
      if (user.token_epoch > session.tokenEpoch) return sessionRevoked;
      const granted = await channelAccess(options.pool, session.channelId, session.userId);
      if (granted?.channel.archived_at) return archivedEnding;
      if (granted) return granted.role;
      const { rowCount } = await options.pool.query('SELECT 1 FROM channels WHERE id = $1', [session.channelId]);
      return rowCount ? revoked : { code: CloseCodes.accessRevoked, reason: 'channel deleted' };
    });
  }

  // Counts the changes heard, so a connection can tell whether one arrived while it was being admitted.
  let changesHeard = 0;
  const stopListening = options.access.onChange((change) => {
    changesHeard++;
    const [kind, id] = change.split(':', 2);
    const affected = [...sessions].filter((s) => change === '*' || kind === 'group' || s.userId === id || (kind === 'channel' && s.channelId === id));
    for (const session of affected) recheck(session);
  });

  registerSfuMetrics(options.registry, pool, opened);

  /** Who may connect: a valid token and a VOICE channel the user may see. Checked before the upgrade. */
  async function admit(url: URL) {
    if (!pool) return refusal(CloseCodes.unavailable, 'calls are off on this server');
    const heard = changesHeard;
    let user, tokenEpoch;
    try {
      ({ user, epoch: tokenEpoch } = await userFromToken(options.access.user, options.tokens, url.searchParams.get('token') ?? undefined));
    } catch (err) {
      return refusal(CloseCodes.unauthorized, err instanceof ApiError ? err.code : 'unauthorized');
    }
    const channelId = url.searchParams.get('channel_id') ?? '';
    const granted = uuid.test(channelId) ? await channelAccess(options.pool, channelId.toLowerCase(), user.id) : undefined;
    if (!granted || granted.channel.type !== 'VOICE') return refusal(CloseCodes.notFound, 'no such voice channel', user.id);
    if (granted.channel.archived_at) return refusal(archivedEnding.code, archivedEnding.reason, user.id);
    return { user, tokenEpoch, channelId: granted.channel.id, role: granted.role, changesHeard: heard };
  }

  /** Closes a refused connection, logged once (never with the request's URL: it holds the token). */
  function refuse(ws: WebSocket, { code, reason, userId }: Refusal): void {
    log.info({ code, reason, user_id: userId }, 'rtc connection refused');
    hangUp(ws, code, reason);
  }

  function serve(ws: WebSocket, admitted: Exclude<Awaited<ReturnType<typeof admit>>, { refused: unknown }>): void {
    const { user } = admitted;
    // Read only once the session exists (when someone joins).
    const quota = quotas.connect(user.id, { get joinedChannel() { return session.joinedChannel; } });
    if (!quota) {
      const most = options.limits.maxConnectionsPerUser;
      return refuse(ws, { code: CloseCodes.tooManyConnections, reason: `too many call connections (at most ${most} per user)`, userId: user.id });
    }
    const session = new Session(ws, {
      channelId: admitted.channelId,
      user: { id: user.id, username: user.username, displayName: cleanDisplayName(user.display_name) ?? user.username },
      role: admitted.role,
      tokenEpoch: admitted.tokenEpoch,
      rooms: directory,
      limits: options.limits,
      quota,
      transports,
      log,
    });
    sessions.add(session);
    // A change heard between the check at admission and now found no session to recheck: check again.
    if (changesHeard !== admitted.changesHeard) recheck(session);
    let alive = true;
    const heartbeat = setInterval(() => {
      if (!alive) return ws.terminate();
      alive = false;
      ws.ping();
    }, HEARTBEAT_MS);
    ws.on('pong', () => (alive = true));
    ws.on('message', (data, isBinary) => session.receive(data.toString(), isBinary));
    ws.on('close', () => {
      clearInterval(heartbeat);
      sessions.delete(session);
      session.end();
      quota.release();
    });
    // ws's own refusals (an oversize or invalid frame): the reason is enough, the stack says nothing more.
    ws.on('error', (err) => log.info({ user_id: user.id, reason: err.message }, 'rtc socket error'));
  }

  let closing: Promise<void> | undefined;
  return {
    get available() {
      return Boolean(pool);
    },
    handleUpgrade(request, socket, head) {
      const url = new URL(request.url ?? '/', 'http://localhost');
      admit(url).then(
        (admitted) => {
          sockets.handleUpgrade(request, socket, head, (ws) => {
            if ('refused' in admitted) refuse(ws, admitted.refused);
            else serve(ws, admitted);
          });
        },
        (err) => {
          log.error({ err }, 'rtc admission failed');
          socket.destroy();
        },
      );
    },
    participants: (channelId) => [...(opened.get(channelId)?.peers.values() ?? [])].map(peerInfo),
    workers: () =>
      (pool?.workers() ?? []).map((worker) => ({ pid: worker.pid, channels: roomsOn(worker).map((r) => r.channelId) })),
    roomOf: (channelId) => opened.get(channelId),
    close: () =>
      (closing ??= (async () => {
        stopListening();
        for (const ws of sockets.clients) hangUp(ws, CloseCodes.serverClosing, 'server shutting down');
        for (const session of sessions) session.end();
        sessions.clear();
        sockets.close();
        pool?.close();
      })()),
  };
}
