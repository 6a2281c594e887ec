-- The request log is read by source and id (newest first), and its `since`/`until` bound
-- the id as well (a request's UUIDv7 id is made as it is received): the index on
-- `received_at` was one more index written by every request and read by no plan.
DROP INDEX IF EXISTS inbound_requests_received;
