-- Up Migration

-- Who wrote each document, recorded by the server from the connection that sent the update (never from a field a
-- client wrote). One row per accepted update, kept when the update log is compacted: `inserted` lists the Yjs
-- item ids it created as [client, first clock, end clock] and `deleted` the ones it deleted as [client, clock,
-- length], so "who changed this item, and when" is a lookup.
CREATE TABLE document_writes (
  id            bigserial PRIMARY KEY,
  document_name text NOT NULL,
  user_id       uuid REFERENCES users (id) ON DELETE SET NULL,
  written_at    timestamptz NOT NULL DEFAULT now(),
  bytes         integer NOT NULL,
  inserted      jsonb NOT NULL DEFAULT '[]'::jsonb,
  deleted       jsonb NOT NULL DEFAULT '[]'::jsonb
);
CREATE INDEX document_writes_document_idx ON document_writes (document_name, id);

-- The user each Yjs client id of a document belongs to: the first user to write with it. Nobody else may write
-- with it afterwards (two writers on one client id make Yjs drop one's edits as duplicates).
CREATE TABLE document_clients (
  document_name text NOT NULL,
  client_id     bigint NOT NULL,
  user_id       uuid REFERENCES users (id) ON DELETE SET NULL,
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (document_name, client_id)
);

-- Down Migration
DROP TABLE document_clients;
DROP TABLE document_writes;
