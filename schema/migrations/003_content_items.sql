-- Up Migration

-- Where a task, kanban column or card lives, so /api/tasks/:id and /api/kanban/.../:id find its document.
-- Items created over REST are added at once; items clients create in the document are added when the document
-- is stored. item_id is text: ids written by clients are not guaranteed to be UUIDs.
CREATE TABLE content_items (
  item_id    text PRIMARY KEY,
  channel_id uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  kind       text NOT NULL CHECK (kind IN ('task', 'column', 'card'))
);
CREATE INDEX content_items_channel_idx ON content_items (channel_id);

-- Down Migration
DROP TABLE content_items;
