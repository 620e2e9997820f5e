import type { Response } from 'express';
import type pg from 'pg';
import { ApiError } from '../../core/errors.ts';

export interface CreationQuota {
  /** Whose creations are counted: a user's (`created_by`) or a group's (`group_id`). */
  scope: 'user' | 'group';
  id: string;
  /** Most creations in any hour. */
  perHour: number;
}

/**
 * Refuses (429 `rate_limited`, with `Retry-After`) a new channel or DM past an hourly quota. Counted from the
 * channels themselves and those deleted within the hour (`deleted_channel_creations`, kept by a trigger: deleting
 * frees no place), so a restart or another instance forgets nothing; each counted user or group is locked for the
 * rest of the transaction, so concurrent requests cannot both take the last place.
 */
export async function requireCreationQuota(
  tx: pg.PoolClient,
  res: Response,
  kind: 'channels' | 'direct messages',
  quotas: CreationQuota[],
): Promise<void> {
  for (const quota of quotas) {
    await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`${kind} by ${quota.scope} ${quota.id}`]);
    // The creations of the past hour, oldest first, with the seconds until each leaves the window.
    const by = quota.scope === 'user' ? 'created_by' : 'group_id';
    const { rows } = await tx.query<{ frees_in: number }>(
      `SELECT ceil(extract(epoch FROM created_at + interval '1 hour' - now()))::int AS frees_in FROM (
         SELECT created_at FROM channels WHERE ${by} = $1 AND (type = 'DM') = $2 AND created_at > now() - interval '1 hour'
         UNION ALL
         SELECT created_at FROM deleted_channel_creations WHERE ${by} = $1 AND is_dm = $2 AND created_at > now() - interval '1 hour'
       ) recent ORDER BY created_at`,
      [quota.id, kind === 'direct messages'],
    );
    if (rows.length < quota.perHour) continue;
    // Room comes back when enough of them have left the window to go below the quota.
    const retry = Math.max(1, rows[rows.length - quota.perHour]!.frees_in);
    res.set('Retry-After', String(retry));
    const who = quota.scope === 'user' ? 'one user' : 'one group';
    const message = `at most ${quota.perHour} ${kind} per hour for ${who}: retry in ${retry} s`;
    throw new ApiError(429, 'rate_limited', message, {
      scope: quota.scope, limit: quota.perHour, window_seconds: 3600, retry_after_seconds: retry,
    });
  }
}
