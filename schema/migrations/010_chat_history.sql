-- Up Migration

-- Chat history in parts. The Hocuspocus document named by a TEXT or DM channel's id is its live part; it is stored
-- under the storage name of its current generation (generation 0: the channel id itself). A rollover seals the
-- oldest messages into segment documents and starts a new generation of the live part holding the rest.
CREATE TABLE chat_generations (
  channel_id     uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  generation     integer NOT NULL,
  storage_name   text NOT NULL UNIQUE,
  -- The Yjs client id the server built this generation with (none for generation 0): a client whose state
  -- vector lacks it holds an older generation.
  builder_client bigint,
  -- The part number and history position the next rollover starts from: never reused, even after retention has
  -- dropped every segment (a client may still hold an old part under its name).
  next_part      integer NOT NULL DEFAULT 0,
  next_seq       bigint NOT NULL DEFAULT 0,
  -- When its oldest message was first stored (unknown for generation 0: the channel's creation bounds it), so
  -- retention deletes a sealed generation that still holds expired text.
  oldest_received_at timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (channel_id, generation)
);

-- Documents that take no more appends: a live generation that was rolled over, a segment being dropped. Each
-- append locks its document's row (FOR KEY SHARE) in the trigger below, so sealing (FOR UPDATE) waits for the
-- appends in flight, and every later append is refused: what a rollover reads is everything ever stored there.
CREATE TABLE document_fences (
  document_name text PRIMARY KEY,
  sealed        boolean NOT NULL DEFAULT false,
  sealed_at     timestamptz
);

CREATE FUNCTION refuse_sealed_append() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  is_sealed boolean;
BEGIN
  SELECT sealed INTO is_sealed FROM document_fences WHERE document_name = NEW.document_name FOR KEY SHARE;
  IF is_sealed THEN
    RAISE EXCEPTION 'document % is sealed', NEW.document_name USING ERRCODE = 'TS409';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER document_updates_fence BEFORE INSERT ON document_updates
  FOR EACH ROW EXECUTE FUNCTION refuse_sealed_append();
-- A compaction that read a document before it was dropped must not write its snapshot back.
CREATE TRIGGER document_snapshots_fence BEFORE INSERT ON document_snapshots
  FOR EACH ROW EXECUTE FUNCTION refuse_sealed_append();

-- Generation 0 of every chat, and its fence, exist from the channel's creation, so the first rollover finds a row
-- that every append has locked.
CREATE FUNCTION chat_generation_zero() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.type IN ('TEXT', 'DM') THEN
    INSERT INTO chat_generations (channel_id, generation, storage_name) VALUES (NEW.id, 0, NEW.id::text);
    INSERT INTO document_fences (document_name) VALUES (NEW.id::text) ON CONFLICT DO NOTHING;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER channels_chat_generation AFTER INSERT ON channels
  FOR EACH ROW EXECUTE FUNCTION chat_generation_zero();

INSERT INTO chat_generations (channel_id, generation, storage_name)
  SELECT id, 0, id::text FROM channels WHERE type IN ('TEXT', 'DM');
INSERT INTO document_fences (document_name)
  SELECT id::text FROM channels WHERE type IN ('TEXT', 'DM');

-- Sealed segments, in the order of the server's first-stored time: part 0 is the oldest.
CREATE TABLE chat_segments (
  channel_id        uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  part              integer NOT NULL,
  document_name     text NOT NULL UNIQUE,
  message_count     integer NOT NULL,
  first_received_at timestamptz NOT NULL,
  last_received_at  timestamptz NOT NULL,
  sealed_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (channel_id, part)
);

-- Every message in a segment: the server-side index that pages through history, finds threads and reads by id
-- without loading segments. `seq` orders the channel's history (by the server's first-stored time).
CREATE TABLE chat_messages (
  channel_id  uuid NOT NULL,
  message_id  text NOT NULL,
  part        integer NOT NULL,
  seq         bigint NOT NULL,
  parent_id   text,
  received_at timestamptz,
  PRIMARY KEY (channel_id, message_id),
  FOREIGN KEY (channel_id, part) REFERENCES chat_segments (channel_id, part) ON DELETE CASCADE
);
CREATE UNIQUE INDEX chat_messages_order_idx ON chat_messages (channel_id, seq);
CREATE INDEX chat_messages_thread_idx ON chat_messages (channel_id, parent_id, seq) WHERE parent_id IS NOT NULL;
CREATE INDEX chat_messages_part_idx ON chat_messages (channel_id, part);

-- Down Migration
DROP TABLE chat_messages;
DROP TABLE chat_segments;
DROP TRIGGER channels_chat_generation ON channels;
DROP FUNCTION chat_generation_zero();
DROP TRIGGER document_snapshots_fence ON document_snapshots;
DROP TRIGGER document_updates_fence ON document_updates;
DROP FUNCTION refuse_sealed_append();
DROP TABLE document_fences;
DROP TABLE chat_generations;
