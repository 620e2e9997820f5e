-- Up Migration

-- Groups had a description; channels get one. An archived channel is read-only for everyone until unarchived.
ALTER TABLE channels ADD COLUMN description text NOT NULL DEFAULT '';
ALTER TABLE channels ADD COLUMN archived_at timestamptz;

-- A deleted account: anonymised (no login, username and email tombstoned), its row kept so what it wrote still
-- names an author, shown as a deleted user.
ALTER TABLE users ADD COLUMN deleted_at timestamptz;

-- Open connections follow a channel's archiving and deletion at once, on every instance: `channel:<id>` on the
-- access channel (migration 002), sent at commit.
CREATE TRIGGER channels_access_changed AFTER UPDATE OF archived_at OR DELETE ON channels
  FOR EACH ROW EXECUTE FUNCTION notify_access_change('channel', 'id');

-- Every channel document has a fence from the channel's creation, as chats' live parts have had (migration 010):
-- each append locks it, so deleting a channel seals its documents after the appends in flight and refuses every
-- later one (a client still connected, a store at unload), and nothing of it comes back once its rows are gone.
CREATE FUNCTION channel_document_fence() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.type <> 'VOICE' THEN
    INSERT INTO document_fences (document_name) VALUES (NEW.id::text) ON CONFLICT DO NOTHING;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER channels_document_fence AFTER INSERT ON channels
  FOR EACH ROW EXECUTE FUNCTION channel_document_fence();
INSERT INTO document_fences (document_name)
  SELECT id::text FROM channels WHERE type <> 'VOICE' ON CONFLICT DO NOTHING;

-- Down Migration
DROP TRIGGER channels_document_fence ON channels;
DROP FUNCTION channel_document_fence();
DROP TRIGGER channels_access_changed ON channels;
ALTER TABLE users DROP COLUMN deleted_at;
ALTER TABLE channels DROP COLUMN archived_at;
ALTER TABLE channels DROP COLUMN description;
