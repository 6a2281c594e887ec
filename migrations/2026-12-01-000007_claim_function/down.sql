DROP FUNCTION hookrelay_claim(bigint, uuid[], bigint, uuid, double precision);
ALTER TABLE leases RESET (autovacuum_analyze_threshold);
