DROP FUNCTION hookrelay_take_tokens(uuid, text, double precision, double precision, integer);
DROP TABLE tenant_rate_buckets;
