-- Up Migration

-- The hourly creation quotas count a user's (and a group's) recent channels on every create: by time, not by a
-- scan of everything they ever made.
CREATE INDEX channels_created_by_idx ON channels (created_by, created_at);
CREATE INDEX channels_group_created_idx ON channels (group_id, created_at);

-- Down Migration
DROP INDEX channels_group_created_idx;
DROP INDEX channels_created_by_idx;
