-- Up Migration

-- Superusers may open the admin console at /admin. Nothing else about them differs: in groups they have the roles
-- they were given, like anyone.
ALTER TABLE users ADD COLUMN is_superuser boolean NOT NULL DEFAULT false;
CREATE INDEX users_superuser_idx ON users (id) WHERE is_superuser AND is_active;

-- The console's own sessions: a cookie holds an opaque random id, stored here only as its SHA-256. A session
-- ends when idle too long (last_seen_at), at its absolute end (expires_at), at logout, or when its user stops
-- being an active superuser (the trigger below, whoever makes that change). Each has its CSRF token.
CREATE TABLE admin_sessions (
  id_hash      bytea PRIMARY KEY,
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  csrf_token   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL
);
CREATE INDEX admin_sessions_user_idx ON admin_sessions (user_id);

CREATE FUNCTION end_admin_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT NEW.is_active OR NOT NEW.is_superuser THEN
    DELETE FROM admin_sessions WHERE user_id = NEW.id;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER users_end_admin_sessions AFTER UPDATE OF is_active, is_superuser ON users
  FOR EACH ROW EXECUTE FUNCTION end_admin_sessions();

-- What superusers did in the console: who, what, to what, with what details, when.
CREATE TABLE admin_audit (
  id          bigserial PRIMARY KEY,
  actor_id    uuid REFERENCES users (id) ON DELETE SET NULL,
  action      text NOT NULL,
  target_type text NOT NULL,
  target_id   text,
  details     jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX admin_audit_created_idx ON admin_audit (created_at, id);
CREATE INDEX audit_log_created_idx ON audit_log (created_at, id);

-- Down Migration
DROP INDEX audit_log_created_idx;
DROP TABLE admin_audit;
DROP TRIGGER users_end_admin_sessions ON users;
DROP FUNCTION end_admin_sessions();
DROP TABLE admin_sessions;
DROP INDEX users_superuser_idx;
ALTER TABLE users DROP COLUMN is_superuser;
