import type { Connection, Extension } from '@hocuspocus/server';
import type pg from 'pg';
import { ApiError, channelAccess, readsOnly, userFromToken, type AccessCache, type Role } from '../../core/index.ts';
import type { AccessTokens, AuthUser, ChannelAccess, TokenSession } from '../../core/index.ts';
import type { Logger } from '../../core/index.ts';
import { askForMissing } from './sync-messages.ts';
import { isChannelId, parseSegmentName } from '../history/names.ts';

export interface CollabContext {
  userId: string;
  /** The account's display name, or its username: what presence states are stamped with. */
  displayName: string;
  role: Role;
  channelType: string;
  groupId: string | null;
  /** The channel whose content the document holds (a history segment's name is not the channel id). */
  channelId: string;
  /** The history segment the document is, if it is one (see collab/history). */
  segment: number | null;
  /** The token epoch of the access token the connection opened with: a later one (sessions revoked) closes it. */
  tokenEpoch: number;
  /** How many access changes this instance had heard of when the connection's access was checked. */
  changesHeard: number;
}


/**
 * What a connection is told (a stateless message) when it becomes read-only or writable while open: a demotion or
 * promotion, or its channel archived or unarchived. Its client cannot tell otherwise (Hocuspocus says so only when
 * a connection authenticates).
 */
export interface AccessNotice {
  type: 'access';
  document: string;
  read_only: boolean;
  archived: boolean;
}

/** A refusal the provider shows as `reason` (its onAuthenticationFailed event). */
function refusal(reason: string): { reason: string } {
  return { reason };
}

const displayName = (user: AuthUser) => user.display_name || user.username;

async function segmentExists(pool: pg.Pool, channelId: string, part: number): Promise<boolean> {
  const { rowCount } = await pool.query('SELECT 1 FROM chat_segments WHERE channel_id = $1 AND part = $2', [channelId, part]);
  return rowCount === 1;
}

/**
 * Who may open which document: a valid access token, and membership of the channel's group (or of the DM).
 * Viewers get read-only connections, and everyone in an archived channel. A change of membership or role, a
 * deactivation, the user's sessions revoked (token epoch bumped), or a channel archived, unarchived or deleted
 * applies to open connections at once: they are closed, or switched to or from read-only (and told: `AccessNotice`).
 */
export function accessControl(pool: pg.Pool, access: AccessCache, tokens: AccessTokens, log: Logger) {
  const byUser = new Map<string, Set<Connection<CollabContext>>>();
  // Counts the changes heard, so a connection can tell whether one arrived while it was being admitted.
  let changesHeard = 0;

  async function recheck(connection: Connection<CollabContext>): Promise<void> {
    const { userId } = connection.context;
    const user = await access.user(userId);
    // As for a token: a deactivated (or deleted) account is told so first.
    if (user?.is_active && user.token_epoch > connection.context.tokenEpoch) {
      log.info({ user_id: userId, document: connection.document.name }, 'session revoked: closing connection');
      // The reason is the code a refused token gets: a client refreshes its token (or signs in again) and reconnects.
      connection.close({ code: 4401, reason: 'session_revoked' });
      return;
    }
    const now = user?.is_active ? await channelAccess(pool, connection.context.channelId, userId) : undefined;
    if (!user || !now) {
      log.info({ user_id: userId, document: connection.document.name }, 'access revoked: closing connection');
      connection.close({ code: 4403, reason: 'access revoked' });
      return;
    }
    const wasReadOnly = connection.readOnly;
    connection.context.displayName = displayName(user);
    connection.context.role = now.role;
    connection.readOnly = readsOnly(now);
    if (wasReadOnly !== connection.readOnly) {
      const notice: AccessNotice = {
        type: 'access', document: connection.document.name, read_only: connection.readOnly, archived: now.channel.archived_at !== null,
      };
      connection.sendStateless(JSON.stringify(notice));
    }
    if (wasReadOnly && !connection.readOnly) {
      // Updates refused while read-only never reached the document, and later ones from the same client build on
      // them: ask the client for everything the server lacks, as at connection time.
      askForMissing(connection);
    }
  }

  const closeOnFailure = (connection: Connection<CollabContext>) => (err: unknown) => {
    log.error({ err }, 'access recheck failed: closing connection');
    connection.close({ code: 4500, reason: 'access check failed' });
  };

  const stopListening = access.onChange((change) => {
    changesHeard++;
    const [kind, id] = change.split(':', 2);
    const all = () => [...byUser.values()].flatMap((set) => [...set]);
    const affected =
      kind === 'user' || kind === 'member'
        ? [...(byUser.get(id!) ?? [])]
        : kind === 'channel'
          ? all().filter((connection) => connection.context.channelId === id)
          : change === '*' || kind === 'group'
            ? all()
            : [];
    for (const connection of affected) recheck(connection).catch(closeOnFailure(connection));
  });

  const extension: Extension<CollabContext> = {
    extensionName: 'access-control',
    async onAuthenticate({ token, documentName, connectionConfig }) {
      const segment = parseSegmentName(documentName);
      const channelId = segment?.channelId ?? documentName;
      // Lower case only: one channel is one document name.
      if (!isChannelId(channelId)) throw refusal('not-found');
      // A database that cannot answer (pool timeout, lost connection) says nothing about the user: the client is
      // told `unavailable` and may retry, never that it was denied.
      const heard = changesHeard;
      let session: TokenSession;
      let granted: ChannelAccess | undefined;
      let segmentFound: boolean;
      try {
        // Looked up together, one round trip instead of up to three in a row: the user, and for the user the
        // token names (which counts only once that user checks out) the channel and the segment.
        const claimed = token ? tokens.verify(token) : undefined;
        [session, granted, segmentFound] = await Promise.all([
          userFromToken(access.user, tokens, token),
          claimed?.ok ? channelAccess(pool, channelId, claimed.userId) : undefined,
          segment && claimed?.ok ? segmentExists(pool, channelId, segment.part) : true,
        ]);
      } catch (err) {
        if (err instanceof ApiError) throw refusal(err.code);
        log.warn({ err, document: documentName }, 'collab authentication: database unavailable');
        throw refusal('unavailable');
      }
      if (!granted || !segmentFound) throw refusal('not-found');
      if (granted.channel.type === 'VOICE') throw refusal('voice channels have no document');
      connectionConfig.readOnly = readsOnly(granted);
      const { user, epoch } = session;
      return {
        userId: user.id, displayName: displayName(user), role: granted.role, channelType: granted.channel.type,
        groupId: granted.channel.group_id, channelId, segment: segment?.part ?? null, tokenEpoch: epoch,
        changesHeard: heard,
      } satisfies CollabContext;
    },
    async connected({ connection, context }) {
      let set = byUser.get(context.userId);
      if (!set) byUser.set(context.userId, (set = new Set()));
      set.add(connection);
      connection.onClose(() => {
        set.delete(connection);
        if (!set.size) byUser.delete(context.userId);
      });
      // A change heard between the check at authentication and now found no connection to recheck: check again.
      if (changesHeard !== context.changesHeard) recheck(connection).catch(closeOnFailure(connection));
    },
    async onDestroy() {
      stopListening();
    },
  };
  return extension;
}
