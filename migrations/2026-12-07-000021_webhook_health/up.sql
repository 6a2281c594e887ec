-- Health at a glance (SPEC "Endpoint health"): what the webhook answer's `health` reads
-- besides the rollups. The recorder keeps these as it records outcomes:
--   last_attempt_at / last_success_at: the start of the latest (successful) attempt, written
--     at most about once a second per webhook so that a healthy endpoint's row is not
--     rewritten by every batch;
--   health_failing_since: when the first delivery ended failed after the last successful
--     attempt. Unlike failing_since (auto-disable's streak), re-enabling a webhook and
--     auto-disable leave it alone: only a successful attempt clears it.
ALTER TABLE webhooks
    ADD COLUMN last_attempt_at timestamptz,
    ADD COLUMN last_success_at timestamptz,
    ADD COLUMN health_failing_since timestamptz;

-- Existing webhooks start from the rollups (to the minute) and the auto-disable streak.
UPDATE webhooks w SET
    last_attempt_at = r.last_attempt,
    last_success_at = r.last_success
FROM (SELECT webhook_id,
             max(start) FILTER (WHERE attempts > 0) AS last_attempt,
             max(start) FILTER (WHERE attempt_successes > 0) AS last_success
        FROM stats_rollups WHERE span = 1 GROUP BY webhook_id) r
WHERE r.webhook_id = w.id;
UPDATE webhooks SET health_failing_since = failing_since WHERE failing_since IS NOT NULL;
