CREATE INDEX webhooks_events_idx ON webhooks USING gin (events);
DROP INDEX webhooks_match_idx;
ALTER TABLE webhooks DROP COLUMN match_keys;
DROP FUNCTION hookrelay_match_keys(uuid, text[]);
