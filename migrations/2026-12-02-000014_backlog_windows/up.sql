-- Windows of slow backlogs (issue 16, item 5's last part).
--
-- A webhook that cannot keep up with a deep due backlog (its receiver hangs or is slow, or
-- a rate limit holds it back) is *backlogged*: the dispatcher's upkeep keeps only a window
-- of its earliest due deliveries in the due queue and parks the rest, so that a claim
-- walks at most that window of it instead of the whole backlog. The recorder brings one
-- parked delivery back for each delivery of the webhook that ends, in the transaction
-- that records the end, so the window never drains while the backlog lasts
-- (src/db/parking.rs, src/queue/pg.rs).
--
-- webhooks.backlogged: its parked deliveries come back through the window, not all at
--   once when it can run (the unpark of webhooks.parked skips it).
-- deliveries_parked_idx: now in due order per webhook, so that the window takes the
--   earliest parked deliveries first.
ALTER TABLE webhooks ADD COLUMN backlogged boolean NOT NULL DEFAULT false;
CREATE INDEX webhooks_backlogged_idx ON webhooks (id) WHERE backlogged;
DROP INDEX deliveries_parked_idx;
CREATE INDEX deliveries_parked_idx ON deliveries (webhook_id, next_attempt_at) WHERE parked;
