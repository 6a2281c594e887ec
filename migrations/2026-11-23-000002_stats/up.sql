-- Stream order: a sequence number per attempt log, assigned in commit order (the recorder
-- takes an advisory lock before inserting), so that `seq > last seen` never skips a row.
ALTER TABLE webhook_logs ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
CREATE UNIQUE INDEX webhook_logs_seq_idx ON webhook_logs (seq);
CREATE INDEX webhook_logs_tenant_seq_idx ON webhook_logs (tenant_id, seq);
-- the response headers of the attempt (SPEC keeps status, headers and 4 KiB of body)
ALTER TABLE webhook_logs ADD COLUMN response_headers jsonb;
-- retention deletes by age
CREATE INDEX webhook_logs_created_idx ON webhook_logs (created_at);
CREATE INDEX deliveries_finished_idx ON deliveries (updated_at) WHERE status <> 'pending';
CREATE INDEX events_created_idx ON events (created_at);

-- Stats rollups, written by the dispatcher in the transaction that records the attempts.
-- One row per (tenant, webhook, span, start), for spans of one minute and of one hour: a
-- 24 h window reads about 24 hourly rows plus the minutes at its edges. The nil webhook
-- id holds the tenant-wide aggregate, so that tenant stats never scan per-webhook rows.
-- Attempt counters are keyed by the time the attempt started; delivery counters by the
-- time the delivery was created (SPEC: "deliveries are those created in the window").
CREATE TABLE stats_rollups (
    tenant_id             uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    webhook_id            uuid NOT NULL,
    -- minutes covered by the row: 1 or 60
    span                  smallint NOT NULL,
    start                 timestamptz NOT NULL,
    attempts              integer NOT NULL DEFAULT 0,
    attempt_successes     integer NOT NULL DEFAULT 0,
    retries               integer NOT NULL DEFAULT 0,
    -- attempts that got an HTTP answer: the samples of the latency figures
    answered              integer NOT NULL DEFAULT 0,
    latency_sum_ms        bigint NOT NULL DEFAULT 0,
    -- counts per latency bucket (bounds in src/domain/latency.rs)
    latency_hist          integer[] NOT NULL DEFAULT '{}',
    -- counts per error kind, in the order of src/domain/latency.rs ERROR_KINDS
    errors                integer[] NOT NULL DEFAULT '{}',
    deliveries_started    integer NOT NULL DEFAULT 0,
    deliveries_succeeded  integer NOT NULL DEFAULT 0,
    deliveries_failed     integer NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, webhook_id, span, start)
);

-- element-wise sum of two counter arrays of possibly different lengths
CREATE FUNCTION hookrelay_add_counts(a integer[], b integer[]) RETURNS integer[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(coalesce(x, 0) + coalesce(y, 0) ORDER BY i), '{}')
    FROM unnest(a, b) WITH ORDINALITY AS t(x, y, i)
$$;

-- deliveries never attempted yet count as pending in stats
CREATE INDEX deliveries_unattempted_webhook_idx ON deliveries (webhook_id, created_at)
    WHERE status = 'pending' AND attempt_count = 0;
CREATE INDEX deliveries_unattempted_tenant_idx ON deliveries (tenant_id, created_at)
    WHERE status = 'pending' AND attempt_count = 0;
