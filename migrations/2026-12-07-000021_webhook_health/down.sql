ALTER TABLE webhooks
    DROP COLUMN last_attempt_at,
    DROP COLUMN last_success_at,
    DROP COLUMN health_failing_since;
