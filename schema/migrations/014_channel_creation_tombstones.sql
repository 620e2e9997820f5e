-- Up Migration

-- The hourly creation quotas count a user's and a group's channels of the past hour (migration 009). A channel
-- deleted within its first hour is remembered here until that hour is over, so deleting gives no place back
-- (create, delete, create would go past the quota). Only such young deletions are kept, and each deletion drops the
-- expired ones, so the table holds a handful of rows. By whatever path a channel goes (its own deletion, its
-- group's, an operator's SQL), the trigger sees it.
CREATE TABLE deleted_channel_creations (
  created_by uuid,
  group_id   uuid,
  is_dm      boolean NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX deleted_channel_creations_created_by_idx ON deleted_channel_creations (created_by, created_at);
CREATE INDEX deleted_channel_creations_group_idx ON deleted_channel_creations (group_id, created_at);

CREATE FUNCTION remember_channel_creations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM deleted_channel_creations WHERE created_at <= now() - interval '1 hour';
  INSERT INTO deleted_channel_creations (created_by, group_id, is_dm, created_at)
    SELECT created_by, group_id, type = 'DM', created_at FROM gone WHERE created_at > now() - interval '1 hour';
  RETURN NULL;
END
$$;
CREATE TRIGGER channels_remember_creations AFTER DELETE ON channels
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION remember_channel_creations();

-- A deleted group leaves no trace here (its own quota ends with it); its members' creations still count for them.
CREATE FUNCTION forget_group_creations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE deleted_channel_creations SET group_id = NULL WHERE group_id IN (SELECT id FROM gone);
  RETURN NULL;
END
$$;
CREATE TRIGGER groups_forget_creations AFTER DELETE ON groups
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION forget_group_creations();

-- Down Migration
DROP TRIGGER groups_forget_creations ON groups;
DROP FUNCTION forget_group_creations();
DROP TRIGGER channels_remember_creations ON channels;
DROP FUNCTION remember_channel_creations();
DROP TABLE deleted_channel_creations;
