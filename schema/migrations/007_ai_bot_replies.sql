-- Up Migration

-- Questions to the @AI bot that an instance took on, so each is answered once even with several instances.
CREATE TABLE ai_bot_replies (
  message_id text PRIMARY KEY,
  channel_id uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE ai_bot_replies;
