-- Up Migration

-- Item ids are written by clients, so one id may turn up in several channels (a copy, or a member of one group
-- reusing ids seen elsewhere). Keyed per channel, a copy can no longer claim another channel's item: a lookup
-- only considers channels the caller belongs to, and among those the first registration wins.
ALTER TABLE content_items DROP CONSTRAINT content_items_pkey;
ALTER TABLE content_items ADD PRIMARY KEY (channel_id, item_id);
ALTER TABLE content_items ADD COLUMN registered_at timestamptz NOT NULL DEFAULT now();
DROP INDEX content_items_channel_idx;
CREATE INDEX content_items_item_idx ON content_items (item_id);

-- Down Migration
DROP INDEX content_items_item_idx;
DELETE FROM content_items a USING content_items b
  WHERE a.item_id = b.item_id AND (a.registered_at, a.channel_id) > (b.registered_at, b.channel_id);
ALTER TABLE content_items DROP COLUMN registered_at;
ALTER TABLE content_items DROP CONSTRAINT content_items_pkey;
ALTER TABLE content_items ADD PRIMARY KEY (item_id);
CREATE INDEX content_items_channel_idx ON content_items (channel_id);
