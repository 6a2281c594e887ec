-- Every publish writes an event and its deliveries, and every attempt a log row and a
-- delivery update: what each of those rows costs bounds throughput. This removes what
-- the hot tables paid for without needing it.
--
-- Foreign keys: each is a lookup and a row lock on the parent for every row inserted,
-- and concurrent locks on one tenant's or webhook's row become multixacts.
--  * tenant_id: tenants are never deleted through the API; every tenant_id written here
--    comes from the caller's authenticated tenant or from a webhook row of that tenant.
--  * webhook_logs -> deliveries, webhooks: deleting a webhook deletes its logs
--    explicitly (db::webhooks::delete), and retention purges logs by their own age
--    (a finished delivery is purged only after all its attempts are).
-- deliveries -> events and deliveries -> webhooks stay: they cascade deletes.
ALTER TABLE events DROP CONSTRAINT events_tenant_id_fkey;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_tenant_id_fkey;
ALTER TABLE webhook_logs DROP CONSTRAINT webhook_logs_tenant_id_fkey;
ALTER TABLE webhook_logs DROP CONSTRAINT webhook_logs_delivery_id_fkey;
ALTER TABLE webhook_logs DROP CONSTRAINT webhook_logs_webhook_id_fkey;

-- Indexes nothing reads: retention now finds old logs and events by their UUID v7 ids
-- (time-ordered, from the row's own timestamp), the stream reads (tenant_id, seq), and
-- log ids are unique by the primary key.
DROP INDEX webhook_logs_tenant_idx;
DROP INDEX webhook_logs_seq_idx;
DROP INDEX webhook_logs_created_idx;
DROP INDEX events_created_idx;
-- the claim counts live leases per webhook from one read of the (small) leases table
DROP INDEX leases_webhook_idx;
