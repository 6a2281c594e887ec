DROP FUNCTION hookrelay_claim(bigint, uuid[], uuid[], bigint, uuid, double precision);
ALTER FUNCTION hookrelay_claim_full(bigint, uuid[], uuid[], bigint, uuid, double precision) RENAME TO hookrelay_claim;
