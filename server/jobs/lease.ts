import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../core/db/database.ts';

const holder = randomUUID();

/**
 * Runs `work` only if this instance can take the named lease (free, expired, or already its own); returns
 * undefined when another instance holds it. The lease lapses after `seconds` should this process die.
 */
export async function withLease<T>(db: Queryable, name: string, seconds: number, work: () => Promise<T>) {
  const { rows } = await db.query(
    `INSERT INTO job_leases (name, holder, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3))
     ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
       WHERE job_leases.expires_at < now() OR job_leases.holder = EXCLUDED.holder
     RETURNING holder`,
    [name, holder, seconds],
  );
  if (!rows.length) return undefined;
  try {
    return await work();
  } finally {
    await db.query('DELETE FROM job_leases WHERE name = $1 AND holder = $2', [name, holder]);
  }
}
