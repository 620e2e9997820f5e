-- Up Migration

-- Refresh tokens carry the token epoch of their login (013): one issued under an epoch that has since ended is
-- refused, so a login that checked the password just before a revocation committed gets no session that outlives
-- it. Tokens already issued take their user's current epoch: none of them is ended by this migration.
ALTER TABLE refresh_tokens ADD COLUMN IF NOT EXISTS token_epoch integer NOT NULL DEFAULT 0;
UPDATE refresh_tokens t SET token_epoch = u.token_epoch FROM users u WHERE u.id = t.user_id AND t.token_epoch <> u.token_epoch;

-- Down Migration
ALTER TABLE refresh_tokens DROP COLUMN token_epoch;
