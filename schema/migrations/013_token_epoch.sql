-- Up Migration

-- Ending every session of an account (an admin's "revoke all sessions" or password reset, the user's own password
-- change, a deactivation, a deletion) bumps its epoch in the same transaction. Access tokens carry the epoch they
-- were signed under and are refused once it is behind; the users trigger of migration 002 announces the bump
-- (`user:<id>`) at commit, so every instance refuses them at once and closes the /collab and /rtc connections they
-- opened.
ALTER TABLE users ADD COLUMN token_epoch integer NOT NULL DEFAULT 0;

-- Down Migration
ALTER TABLE users DROP COLUMN token_epoch;
