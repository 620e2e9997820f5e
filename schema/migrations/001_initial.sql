-- Up Migration

-- Identity. Usernames and emails are unique case-insensitively; the original spelling is kept for display.
CREATE TABLE users (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  username      text NOT NULL,
  email         text NOT NULL,
  password_hash text NOT NULL,
  display_name  text,
  is_active     boolean NOT NULL DEFAULT true,
  is_bot        boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

-- Refresh tokens are stored only as SHA-256 hashes. Each login starts a family; every refresh spends one token
-- and issues its successor in the same family, so reuse of a spent token can revoke the whole family.
CREATE TABLE refresh_tokens (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  family_id   uuid NOT NULL,
  token_hash  bytea NOT NULL UNIQUE,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  revoked_at  timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

CREATE TABLE groups (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL,
  description text NOT NULL DEFAULT '',
  created_by  uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE memberships (
  group_id   uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role       text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);

-- A channel belongs to a group, except a DM, which belongs to its two participants. dm_key ("<low uuid>:<high
-- uuid>") makes the DM between two users unique even under concurrent requests.
CREATE TABLE channels (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  group_id   uuid REFERENCES groups (id) ON DELETE CASCADE,
  name       text NOT NULL,
  type       text NOT NULL CHECK (type IN ('TEXT', 'VOICE', 'TODO', 'DOC', 'KANBAN', 'DM')),
  dm_key     text UNIQUE,
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((type = 'DM') = (group_id IS NULL)),
  CHECK ((type = 'DM') = (dm_key IS NOT NULL))
);
CREATE INDEX channels_group_idx ON channels (group_id);
CREATE UNIQUE INDEX channels_group_name_key ON channels (group_id, lower(name)) WHERE group_id IS NOT NULL;

CREATE TABLE dm_participants (
  channel_id uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX dm_participants_user_idx ON dm_participants (user_id);

CREATE TABLE audit_log (
  id             bigserial PRIMARY KEY,
  actor_id       uuid REFERENCES users (id) ON DELETE SET NULL,
  group_id       uuid REFERENCES groups (id) ON DELETE CASCADE,
  action         text NOT NULL,
  target_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
  details        jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_group_idx ON audit_log (group_id, id);

-- Yjs document storage: an append-only log of encrypted updates plus one compacted, encrypted snapshot per
-- document. key_id names the encryption key so older keys stay readable after a rotation.
CREATE TABLE document_updates (
  id            bigserial PRIMARY KEY,
  document_name text NOT NULL,
  key_id        text NOT NULL,
  payload       bytea NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX document_updates_document_idx ON document_updates (document_name, id);

CREATE TABLE document_snapshots (
  document_name   text PRIMARY KEY,
  key_id          text NOT NULL,
  payload         bytea NOT NULL,
  last_update_id  bigint NOT NULL DEFAULT 0,
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE files (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  channel_id   uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  uploader_id  uuid REFERENCES users (id) ON DELETE SET NULL,
  filename     text NOT NULL,
  content_type text NOT NULL,
  size_bytes   bigint NOT NULL,
  sha256       bytea NOT NULL,
  key_id       text NOT NULL,
  payload      bytea NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX files_channel_idx ON files (channel_id, created_at);

-- Background jobs, claimed with SELECT ... FOR UPDATE SKIP LOCKED so several workers can share the queue.
CREATE TABLE jobs (
  id          bigserial PRIMARY KEY,
  kind        text NOT NULL,
  dedupe_key  text,
  payload     jsonb NOT NULL DEFAULT '{}'::jsonb,
  status      text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
  attempts    integer NOT NULL DEFAULT 0,
  run_at      timestamptz NOT NULL DEFAULT now(),
  locked_at   timestamptz,
  locked_by   text,
  last_error  text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_ready_idx ON jobs (run_at) WHERE status = 'queued';
CREATE UNIQUE INDEX jobs_pending_dedupe_key ON jobs (kind, dedupe_key) WHERE status = 'queued' AND dedupe_key IS NOT NULL;

-- Down Migration
DROP TABLE jobs;
DROP TABLE files;
DROP TABLE document_snapshots;
DROP TABLE document_updates;
DROP TABLE audit_log;
DROP TABLE dm_participants;
DROP TABLE channels;
DROP TABLE memberships;
DROP TABLE groups;
DROP TABLE refresh_tokens;
DROP TABLE users;
