import type pg from 'pg';
import { z } from 'zod';
import { hashPassword } from '../auth/passwords.ts';
import { findUserByUsername, insertUser } from '../../core/auth/users.ts';
import type { Config } from '../../core/config.ts';
import { inTransaction } from '../../core/db/database.ts';
import type { Logger } from '../../core/logger.ts';

/** The same rules as registration (schema/api/auth.ts): a superuser is an ordinary account with one more flag. */
export const SuperuserSpec = z.object({
  username: z.string().regex(/^[A-Za-z0-9_.-]{3,32}$/, '3-32 letters, digits, _ . -'),
  email: z.email(),
  password: z.string().min(10).max(256),
});
export type SuperuserSpec = z.infer<typeof SuperuserSpec>;

/**
 * Makes `username` an active superuser: promotes the account when it exists (its password and email stay as they
 * are), else creates it. Recorded in the console's audit with no actor (the command line or the environment did it).
 */
export async function createOrPromoteSuperuser(pool: pg.Pool, spec: SuperuserSpec): Promise<'created' | 'promoted'> {
  const passwordHash = await hashPassword(spec.password);
  return inTransaction(pool, async (tx) => {
    const existing = await findUserByUsername(tx, spec.username);
    const user = existing ?? (await insertUser(tx, { username: spec.username, email: spec.email, password_hash: passwordHash }));
    if (!user) throw new Error(`the email ${spec.email} belongs to another account`);
    await tx.query('UPDATE users SET is_superuser = true, is_active = true WHERE id = $1', [user.id]);
    const outcome = existing ? 'promoted' : 'created';
    await tx.query(
      `INSERT INTO admin_audit (actor_id, action, target_type, target_id, details) VALUES (NULL, $1, 'user', $2, $3)`,
      [`user.superuser_${outcome}`, user.id, JSON.stringify({ by: 'setup' })],
    );
    return outcome;
  });
}

/** At start: with ADMIN_USERNAME, ADMIN_EMAIL and ADMIN_PASSWORD set and no active superuser yet, makes one. */
export async function ensureFirstSuperuser(pool: pg.Pool, config: Config, log: Logger): Promise<void> {
  const { ADMIN_USERNAME: username, ADMIN_EMAIL: email, ADMIN_PASSWORD: password } = config;
  if (!username || !email || !password) return;
  const { rows: [any] } = await pool.query('SELECT 1 FROM users WHERE is_superuser AND is_active LIMIT 1');
  if (any) return;
  const outcome = await createOrPromoteSuperuser(pool, { username, email, password });
  log.info({ username, outcome }, 'first superuser set up from ADMIN_USERNAME');
}
