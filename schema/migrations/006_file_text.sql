-- Up Migration

-- The text extracted from a PDF at upload, for the indexer: a JSON array of the pages' text, sealed like the
-- payload (key id beside it). Text files leave these null: their payload is their text.
ALTER TABLE files ADD COLUMN text_key_id text;
ALTER TABLE files ADD COLUMN text_payload bytea;
ALTER TABLE files ADD COLUMN page_count integer;
ALTER TABLE files ADD CONSTRAINT files_text_sealed CHECK ((text_key_id IS NULL) = (text_payload IS NULL));

-- Down Migration
ALTER TABLE files DROP CONSTRAINT files_text_sealed;
ALTER TABLE files DROP COLUMN page_count;
ALTER TABLE files DROP COLUMN text_payload;
ALTER TABLE files DROP COLUMN text_key_id;
