DROP TABLE recoveries;
DROP INDEX deliveries_failed_idx;
DROP INDEX stats_rollups_minutes_idx;
DROP INDEX webhooks_failing_idx;
ALTER TABLE webhooks DROP COLUMN failing_since, DROP COLUMN failed_streak, DROP COLUMN degraded;
