ALTER TABLE leases SET (autovacuum_vacuum_threshold = 1000);
ALTER TABLE leases RESET (autovacuum_vacuum_insert_threshold);
ALTER TABLE deliveries RESET (autovacuum_vacuum_threshold, autovacuum_vacuum_insert_threshold, autovacuum_analyze_threshold);
ALTER TABLE events RESET (autovacuum_vacuum_insert_threshold, autovacuum_analyze_threshold);
ALTER TABLE webhook_logs RESET (autovacuum_vacuum_insert_threshold, autovacuum_analyze_threshold);
ALTER TABLE stats_rollups RESET (autovacuum_analyze_threshold);
