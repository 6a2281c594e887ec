-- Inbound sources (SPEC "Inbound sources"): a tenant's URLs that take webhooks from
-- providers, verify them and publish them as events.
CREATE TABLE sources (
    id                          uuid PRIMARY KEY,
    tenant_id                   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name                        text NOT NULL,
    provider                    text NOT NULL,
    -- the provider's settings in clear: every field of `config` but the secret ones
    config                      jsonb NOT NULL,
    -- the secret fields of `config`, as one JSON object sealed like webhook secrets
    -- (src/secrets.rs, the source id as associated data)
    secrets                     text NOT NULL,
    -- the values that PATCHes replaced, sealed, verifying until the expiry
    previous_secrets            text,
    previous_secrets_expire_at  timestamptz,
    event_type                  text,
    consumer_id                 text,
    active                      boolean NOT NULL DEFAULT true,
    -- the ingest URL's token: looked up by its SHA-256, shown from its sealed value
    token_hash                  bytea NOT NULL UNIQUE,
    token                       text NOT NULL,
    previous_token_hash         bytea UNIQUE,
    previous_token_expires_at   timestamptz,
    created_at                  timestamptz NOT NULL,
    updated_at                  timestamptz NOT NULL
);
CREATE INDEX sources_tenant ON sources (tenant_id, id);

-- Every request that reached a source's URL, rejected ones included (capped per minute).
-- No foreign key to sources: a deleted source's requests stay until retention.
CREATE TABLE inbound_requests (
    id              uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL,
    source_id       uuid NOT NULL,
    received_at     timestamptz NOT NULL,
    method          text NOT NULL,
    query           text NOT NULL,
    headers         jsonb NOT NULL,
    body            text NOT NULL,
    body_truncated  boolean NOT NULL,
    status          text NOT NULL,
    failed_check    text,
    matched         text,
    dedupe_key      text,
    event_id        uuid
);
CREATE INDEX inbound_requests_source ON inbound_requests (source_id, id);
CREATE INDEX inbound_requests_received ON inbound_requests (received_at);

-- Exactly once: the first accepted request of each dedupe key. The primary key decides
-- between two copies that arrive at the same instant (INSERT … ON CONFLICT, no
-- check-then-insert); a row older than the dedupe window is taken over by the next copy.
CREATE TABLE inbound_dedupe (
    source_id   uuid NOT NULL,
    dedupe_key  text NOT NULL,
    request_id  uuid NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (source_id, dedupe_key)
);
CREATE INDEX inbound_dedupe_created ON inbound_dedupe (created_at);

-- An event published by a source: which source and request, and the provider's headers
-- that its deliveries carry (the body column holds the request's exact bytes).
ALTER TABLE events
    ADD COLUMN source_id uuid,
    ADD COLUMN inbound_request_id uuid,
    ADD COLUMN source_headers jsonb;
