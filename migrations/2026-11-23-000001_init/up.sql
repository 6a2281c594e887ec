-- Every tenant-owned row carries tenant_id so that each query can be scoped by it.

CREATE TABLE tenants (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id             uuid PRIMARY KEY,
    tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- stored lower-cased so that the unique index is case-insensitive
    email          text NOT NULL UNIQUE,
    password_hash  text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX users_tenant_idx ON users (tenant_id);

CREATE TABLE api_keys (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name          text NOT NULL,
    prefix        text NOT NULL,
    -- SHA-256 of the whole key: keys carry 256 random bits, so a slow hash adds nothing
    key_hash      bytea NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id, id DESC);

CREATE TABLE webhooks (
    id                          uuid PRIMARY KEY,
    tenant_id                   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name                        text NOT NULL,
    url                         text NOT NULL,
    events                      text[] NOT NULL,
    consumer_id                 text,
    description                 text,
    headers                     jsonb NOT NULL DEFAULT '{}',
    active                      boolean NOT NULL DEFAULT true,
    secret                      text NOT NULL,
    previous_secret             text,
    previous_secret_expires_at  timestamptz,
    rate_limit_per_minute       integer,
    max_concurrency             integer NOT NULL DEFAULT 10,
    retry_schedule              integer[],
    created_at                  timestamptz NOT NULL,
    updated_at                  timestamptz NOT NULL
);
CREATE INDEX webhooks_tenant_idx ON webhooks (tenant_id, id DESC);
CREATE INDEX webhooks_tenant_consumer_idx ON webhooks (tenant_id, consumer_id, id DESC);
-- fan-out: `events && <filters matching the event type>` uses this index
CREATE INDEX webhooks_events_idx ON webhooks USING gin (events);

CREATE TABLE events (
    id               uuid PRIMARY KEY,
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    event_type       text NOT NULL,
    consumer_id      text,
    -- the exact bytes sent to subscribers: identical on every attempt
    body             text NOT NULL,
    idempotency_key  text,
    test             boolean NOT NULL DEFAULT false,
    deliveries       integer NOT NULL,
    created_at       timestamptz NOT NULL
);
CREATE UNIQUE INDEX events_idempotency_idx ON events (tenant_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX events_tenant_idx ON events (tenant_id, id DESC);

CREATE TABLE deliveries (
    id               uuid PRIMARY KEY,
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    event_id         uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    webhook_id       uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_type       text NOT NULL,
    status           text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempt_count    integer NOT NULL DEFAULT 0,
    -- attempts in the current series: a manual retry starts a new series at 0
    series_attempts  integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    last_attempt_at  timestamptz,
    test             boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);
-- the dispatcher's claim scans due pending work in time order
CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_tenant_idx ON deliveries (tenant_id, id DESC);
CREATE INDEX deliveries_webhook_idx ON deliveries (webhook_id, id DESC);
CREATE INDEX deliveries_event_idx ON deliveries (event_id);
-- a queue table: vacuum it often, so that claims do not wade through dead index entries
ALTER TABLE deliveries SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02,
                            autovacuum_vacuum_cost_delay = 0);

-- Leases of claimed deliveries: a row from claim until the outcome is recorded. Kept
-- apart from `deliveries` so that a claim inserts a small row instead of rewriting the
-- delivery and all its index entries; it also counts attempts in flight per webhook.
-- A lease whose `locked_until` passed (its dispatcher died) is taken over by the next claim.
CREATE TABLE leases (
    delivery_id   uuid PRIMARY KEY REFERENCES deliveries (id) ON DELETE CASCADE,
    webhook_id    uuid NOT NULL,
    lease_id      uuid NOT NULL,
    locked_until  timestamptz NOT NULL
);
CREATE INDEX leases_webhook_idx ON leases (webhook_id);
ALTER TABLE leases SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000,
                        autovacuum_vacuum_cost_delay = 0);

-- append-only, read by time: can become a table partitioned by day in a later migration
CREATE TABLE webhook_logs (
    id               uuid PRIMARY KEY,
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    delivery_id      uuid NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    event_id         uuid NOT NULL,
    webhook_id       uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_type       text NOT NULL,
    attempt          integer NOT NULL,
    success          boolean NOT NULL,
    request_url      text NOT NULL,
    response_status  integer,
    response_body    text,
    duration_ms      integer NOT NULL,
    error_kind       text,
    error_message    text,
    test             boolean NOT NULL DEFAULT false,
    -- when the attempt started: also what the per-minute rate limit counts
    created_at       timestamptz NOT NULL
);
CREATE INDEX webhook_logs_webhook_idx ON webhook_logs (webhook_id, created_at DESC, id DESC);
CREATE INDEX webhook_logs_delivery_idx ON webhook_logs (delivery_id, attempt);
CREATE INDEX webhook_logs_tenant_idx ON webhook_logs (tenant_id, id);
