-- Autovacuum by work done, not by the clock. Every VACUUM or ANALYZE of a table
-- invalidates the cached plans that read it, and the next run of each remakes its plan
-- (the claim's takes 2.5-3.9 ms). With the small thresholds before, a run of 200 events/s
-- for 60 s had about 80 VACUUMs and ANALYZEs of the hot tables (`leases` every 1,000
-- inserts, i.e. every 5 s), and each put a replan on some event's path. With these, the
-- same run has none, and its end-to-end p99 fell from 4.6-5.3 ms to 3.2-3.6 ms
-- (README "Performance").
-- A quiet system stays quiet: a VACUUM of `leases` per 20,000 attempts, of `deliveries`
-- per 20,000 outcomes, an ANALYZE per 100,000 rows written. A busy one is still visited
-- at every autovacuum round (the scale factors are unchanged), and the backlog drain did
-- not slow down. The queue's statements do not need fresh statistics: their plans are
-- pinned (migration 7, `db::publisher`).
ALTER TABLE leases SET (autovacuum_vacuum_threshold = 20000, autovacuum_vacuum_insert_threshold = 20000);
ALTER TABLE deliveries SET (autovacuum_vacuum_threshold = 20000, autovacuum_vacuum_insert_threshold = 100000,
                            autovacuum_analyze_threshold = 100000);
ALTER TABLE events SET (autovacuum_vacuum_insert_threshold = 100000, autovacuum_analyze_threshold = 100000);
ALTER TABLE webhook_logs SET (autovacuum_vacuum_insert_threshold = 100000, autovacuum_analyze_threshold = 100000);
ALTER TABLE stats_rollups SET (autovacuum_analyze_threshold = 100000);
