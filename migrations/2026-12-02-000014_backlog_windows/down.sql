DROP INDEX deliveries_parked_idx;
CREATE INDEX deliveries_parked_idx ON deliveries (webhook_id) WHERE parked;
DROP INDEX webhooks_backlogged_idx;
-- a backlogged webhook's parked deliveries come back through the plain unpark
ALTER TABLE webhooks DROP COLUMN backlogged;
