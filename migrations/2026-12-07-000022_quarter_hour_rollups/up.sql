-- Quarter-hour stats rollups (span 15), written by the recorder beside the minute and hour
-- rows from now on, for series of 15-minute buckets over long windows. The history there
-- is gets its quarter-hours from the minute rows (a service of the previous version still
-- recording during this migration adds minute rows that its quarter-hours miss; stop the
-- dispatchers for it, or accept that 15-minute series of those minutes count a little low).
CREATE AGGREGATE hookrelay_sum_counts(integer[]) (
    SFUNC = hookrelay_add_counts, STYPE = integer[], INITCOND = '{}'
);

INSERT INTO stats_rollups (tenant_id, webhook_id, span, start, attempts, attempt_successes, retries,
                           answered, latency_sum_ms, latency_hist, errors, deliveries_started,
                           deliveries_succeeded, deliveries_failed)
SELECT tenant_id, webhook_id, 15, date_bin('15 minutes', start, '2000-01-01 00:00:00+00'),
       sum(attempts)::int4, sum(attempt_successes)::int4, sum(retries)::int4, sum(answered)::int4,
       sum(latency_sum_ms)::int8, hookrelay_sum_counts(latency_hist), hookrelay_sum_counts(errors),
       sum(deliveries_started)::int4, sum(deliveries_succeeded)::int4, sum(deliveries_failed)::int4
FROM stats_rollups WHERE span = 1
GROUP BY tenant_id, webhook_id, date_bin('15 minutes', start, '2000-01-01 00:00:00+00')
ON CONFLICT (tenant_id, webhook_id, span, start) DO NOTHING;

DROP AGGREGATE hookrelay_sum_counts(integer[]);
