DROP FUNCTION hookrelay_claim(bigint, uuid[], bigint, uuid, double precision);
