import type { Queryable } from '../db/database.ts';
import { forbidden, notFound } from '../errors.ts';

export type Role = 'owner' | 'admin' | 'member' | 'viewer';

const rank: Record<Role, number> = { viewer: 0, member: 1, admin: 2, owner: 3 };

export function roleAtLeast(role: Role, minimum: Role): boolean {
  return rank[role] >= rank[minimum];
}

export async function groupRole(db: Queryable, groupId: string, userId: string): Promise<Role | undefined> {
  const { rows } = await db.query<{ role: Role }>(
    'SELECT role FROM memberships WHERE group_id = $1 AND user_id = $2',
    [groupId, userId],
  );
  return rows[0]?.role;
}

/**
 * The caller's role in a group, or 404 for a non-member, so a group's existence is never revealed to outsiders;
 * 403 when the caller is a member whose role is below `minimum`.
 */
export async function requireGroupRole(
  db: Queryable,
  groupId: string,
  userId: string,
  minimum: Role = 'viewer',
): Promise<Role> {
  return allow(await groupRole(db, groupId, userId), minimum, 'group');
}

/** 404 when there is no role at all (the thing stays invisible), 403 when the role is below `minimum`. */
function allow(role: Role | undefined, minimum: Role, what: string): Role {
  if (!role) throw notFound(what);
  if (!roleAtLeast(role, minimum)) throw forbidden(`this needs the ${minimum} role or higher; yours is ${role}`);
  return role;
}

export interface ChannelRow {
  id: string;
  group_id: string | null;
  name: string;
  type: 'TEXT' | 'VOICE' | 'TODO' | 'DOC' | 'KANBAN' | 'DM';
  description: string;
  /** When it was archived: then it is read-only for everyone. */
  archived_at: Date | null;
  created_by: string | null;
  created_at: Date;
}

export interface ChannelAccess {
  channel: ChannelRow;
  /** The caller's role: their group role, or `member` for a DM participant. */
  role: Role;
}

/**
 * What a user may do in a channel: members of its group by their role, participants of a DM as members; anyone
 * else gets undefined. Used by REST routes and by the collaboration and call servers.
 */
export async function channelAccess(db: Queryable, channelId: string, userId: string): Promise<ChannelAccess | undefined> {
  const { rows } = await db.query<ChannelRow & { role: Role | null }>(
    `SELECT c.id, c.group_id, c.name, c.type, c.description, c.archived_at, c.created_by, c.created_at,
            COALESCE(m.role, CASE WHEN d.user_id IS NOT NULL THEN 'member' END) AS role
       FROM channels c
       LEFT JOIN memberships m ON m.group_id = c.group_id AND m.user_id = $2
       LEFT JOIN dm_participants d ON d.channel_id = c.id AND d.user_id = $2
      WHERE c.id = $1`,
    [channelId, userId],
  );
  const row = rows[0];
  if (!row?.role) return undefined;
  const { role, ...channel } = row;
  return { channel, role };
}

/** Whether a user with this access reads only: a viewer, or anyone in an archived channel. */
export function readsOnly(access: ChannelAccess): boolean {
  return access.role === 'viewer' || access.channel.archived_at !== null;
}

/** Like channelAccess, but a 404 for a channel the caller cannot see, and 403 below `minimum`. */
export async function requireChannelRole(
  db: Queryable,
  channelId: string,
  userId: string,
  minimum: Role = 'viewer',
): Promise<ChannelAccess> {
  const access = await channelAccess(db, channelId, userId);
  allow(access?.role, minimum, 'channel');
  return access!;
}
