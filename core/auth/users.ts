import type { Queryable } from '../db/database.ts';

export interface AuthUser {
  id: string;
  username: string;
  email: string;
  display_name: string | null;
  is_active: boolean;
  created_at: Date;
}

/** A user with the epoch their access tokens must carry (`tokens.ts`); the epoch is never shown to clients. */
export interface SessionUser extends AuthUser {
  token_epoch: number;
}

interface UserRow extends SessionUser {
  password_hash: string;
}

const columns = 'id, username, email, display_name, is_active, created_at';

export async function findSessionUser(db: Queryable, id: string): Promise<SessionUser | undefined> {
  const { rows } = await db.query<SessionUser>(`SELECT ${columns}, token_epoch FROM users WHERE id = $1`, [id]);
  return rows[0];
}

export async function findUserById(db: Queryable, id: string): Promise<AuthUser | undefined> {
  const { rows } = await db.query<AuthUser>(`SELECT ${columns} FROM users WHERE id = $1`, [id]);
  return rows[0];
}

/** Looks a user up by username or email, both case-insensitively, with the password hash for a login. */
export async function findUserForLogin(db: Queryable, login: string): Promise<UserRow | undefined> {
  const { rows } = await db.query<UserRow>(
    `SELECT ${columns}, token_epoch, password_hash FROM users WHERE lower(username) = lower($1) OR lower(email) = lower($1)
     ORDER BY lower(username) = lower($1) DESC LIMIT 1`,
    [login],
  );
  return rows[0];
}

export async function findUserByUsername(db: Queryable, username: string): Promise<AuthUser | undefined> {
  const { rows } = await db.query<AuthUser>(`SELECT ${columns} FROM users WHERE lower(username) = lower($1)`, [
    username,
  ]);
  return rows[0];
}

export interface NewUser {
  username: string;
  email: string;
  password_hash: string;
  display_name?: string;
}

/** Inserts a user; returns undefined when the username or email is already taken. */
export async function insertUser(db: Queryable, user: NewUser): Promise<AuthUser | undefined> {
  const { rows } = await db.query<AuthUser>(
    `INSERT INTO users (username, email, password_hash, display_name) VALUES ($1, $2, $3, $4)
     ON CONFLICT DO NOTHING RETURNING ${columns}`,
    [user.username, user.email, user.password_hash, user.display_name ?? null],
  );
  return rows[0];
}
