-- Up Migration

-- A periodic job that must run on one instance at a time holds a lease: a row naming the holder until it expires
-- (so a crashed holder's lease lapses on its own). Works the same on PostgreSQL and embedded PGlite.
CREATE TABLE job_leases (
  name       text PRIMARY KEY,
  holder     text NOT NULL,
  expires_at timestamptz NOT NULL
);

-- Down Migration
DROP TABLE job_leases;
