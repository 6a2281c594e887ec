-- Per-tenant API rate limits (SPEC "Multi-tenancy and auth"): one token bucket per
-- (tenant, class) shared by every API process. Processes take tokens in blocks
-- (src/api/tenant_limits.rs), so the database sees a few statements per second per busy
-- tenant, not one per request.
CREATE TABLE tenant_rate_buckets (
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    class      text NOT NULL CHECK (class IN ('publish', 'api')),
    tokens     double precision NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, class)
);

-- Refills the bucket for the time since it was last touched (at most to p_burst), takes
-- up to p_want whole tokens, and returns how many it took and what is left. A bucket
-- starts full. A lost commit only loses a few tokens' bookkeeping, so it does not wait for
-- its WAL flush.
CREATE FUNCTION hookrelay_take_tokens(p_tenant uuid, p_class text, p_rate double precision,
                                      p_burst double precision, p_want integer)
RETURNS TABLE (granted integer, remaining double precision)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_tokens double precision;
    v_at timestamptz;
    v_avail double precision;
    v_granted integer;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    INSERT INTO tenant_rate_buckets VALUES (p_tenant, p_class, p_burst, clock_timestamp())
    ON CONFLICT (tenant_id, class) DO NOTHING;
    SELECT b.tokens, b.updated_at INTO v_tokens, v_at FROM tenant_rate_buckets b
    WHERE b.tenant_id = p_tenant AND b.class = p_class FOR UPDATE;
    v_avail := least(p_burst, v_tokens + p_rate * greatest(0, extract(epoch FROM clock_timestamp() - v_at)));
    v_granted := greatest(0, least(p_want, floor(v_avail)::integer));
    UPDATE tenant_rate_buckets b SET tokens = v_avail - v_granted, updated_at = clock_timestamp()
    WHERE b.tenant_id = p_tenant AND b.class = p_class;
    RETURN QUERY SELECT v_granted, v_avail - v_granted;
END
$$;
