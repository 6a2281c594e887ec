-- Endpoint health (SPEC "Endpoint health"): the failing streak that auto-disable decides
-- from, kept as outcomes are recorded so that no decision scans logs; whether the webhook
-- is degraded now, so that degraded and recovered each fire once per change; recoveries.

-- failing_since: when the first delivery of the current streak of failed deliveries had
-- its last attempt; failed_streak: deliveries ended failed since, with no attempt of the
-- webhook succeeding. A success sets both back (NULL, 0).
ALTER TABLE webhooks
    ADD COLUMN failing_since timestamptz,
    ADD COLUMN failed_streak integer NOT NULL DEFAULT 0,
    ADD COLUMN degraded boolean NOT NULL DEFAULT false;
-- the auto-disable sweep reads only the webhooks with a streak
CREATE INDEX webhooks_failing_idx ON webhooks (failing_since) WHERE failing_since IS NOT NULL AND active;

-- the health evaluation reads the last 15 minute rows of every webhook
CREATE INDEX stats_rollups_minutes_idx ON stats_rollups (start) WHERE span = 1;

-- a recovery walks one webhook's failed deliveries in id order
CREATE INDEX deliveries_failed_idx ON deliveries (webhook_id, id) WHERE status = 'failed';

-- cursor: the last delivery id re-queued; the walk goes on after it, so a recovery
-- interrupted by a restart neither repeats nor skips a delivery
CREATE TABLE recoveries (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    webhook_id uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    since timestamptz NOT NULL,
    until timestamptz NOT NULL,
    status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done')),
    deliveries integer NOT NULL DEFAULT 0,
    cursor uuid,
    created_at timestamptz NOT NULL,
    completed_at timestamptz
);
CREATE INDEX recoveries_webhook_idx ON recoveries (webhook_id);
CREATE INDEX recoveries_running_idx ON recoveries (created_at) WHERE status = 'running';
