-- A fast path for the claim (issue 12, CPU per delivery). At moderate rates almost every
-- claim finds no attempt in flight but this dispatcher's own ended ones, a few due
-- deliveries, and room for all of them. The full statement (migration 10's, now
-- `hookrelay_claim_full`) still pays the executor start-up of its ~40 plan nodes for
-- that. The fast path leases the same rows with a few small statements, and hands every
-- other case to the full statement:
--   * every live lease is one of p_finished (so no webhook is saturated, and each has its
--     whole concurrency as room), and p_finished is short (each lease is compared with
--     each of its ids);
--   * every webhook among the first p_max due deliveries has no rate limit and room for
--     all of its candidates.
-- Then the full statement would take the same first p_max due rows, all of them, defer
-- none and hold none back. (tests/api/claim.rs runs both paths on the same queue.)
ALTER FUNCTION hookrelay_claim(bigint, uuid[], uuid[], bigint, uuid, double precision) RENAME TO hookrelay_claim_full;

CREATE FUNCTION hookrelay_claim(p_lock bigint, p_finished uuid[], p_skip_webhooks uuid[], p_max bigint, p_lease uuid, p_lease_secs double precision)
RETURNS TABLE (held_back boolean, next_due timestamptz, delivery_id uuid, tenant_id uuid, event_id uuid, webhook_id uuid,
               event_type text, attempt_count integer, series_attempts integer, test boolean,
               lease_id uuid, url text, headers jsonb, secret text, previous_secret text,
               retry_schedule integer[], body text, delivery_created_at timestamptz, throttled boolean)
LANGUAGE plpgsql VOLATILE
SET enable_sort = off SET enable_seqscan = off SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    v_fast boolean;
    v_ids uuid[];
    v_webhooks uuid[];
    v_fits boolean := true;
    v_next_due timestamptz;
BEGIN
    PERFORM pg_advisory_xact_lock(p_lock), set_config('synchronous_commit', 'off', true);
    -- at saturation an attempt is in flight at nearly every claim: the first one found ends the check
    v_fast := cardinality(p_finished) <= 64
        AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.locked_until > now() AND l.delivery_id <> ALL (p_finished));
    IF v_fast THEN
        SELECT array_agg(c.id), array_agg(c.webhook_id) INTO v_ids, v_webhooks FROM (
            SELECT d.id, d.webhook_id FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id
            WHERE d.status = 'pending' AND NOT d.parked AND d.next_attempt_at <= now()
            AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.delivery_id = d.id AND l.locked_until > now())
            AND (w.active OR d.test) AND w.deleted_at IS NULL
            AND (w.paused_until IS NULL OR w.paused_until <= now())
            AND d.webhook_id <> ALL (p_skip_webhooks)
            ORDER BY d.next_attempt_at LIMIT p_max
            FOR UPDATE OF d SKIP LOCKED) AS c;
        IF v_ids IS NOT NULL THEN
            SELECT bool_and(w.rate_limit_per_minute IS NULL AND g.n <= least(w.max_concurrency, w.adaptive_concurrency))
            INTO v_fits
            FROM (SELECT u.id, count(*) AS n FROM unnest(v_webhooks) AS u(id) GROUP BY u.id) AS g
            JOIN webhooks w ON w.id = g.id;
        END IF;
    END IF;
    IF NOT coalesce(v_fast AND v_fits, false) THEN
        -- the rows locked above stay this transaction's; the full statement takes them again
        RETURN QUERY SELECT * FROM hookrelay_claim_full(p_lock, p_finished, p_skip_webhooks, p_max, p_lease, p_lease_secs);
        RETURN;
    END IF;
    IF v_ids IS NOT NULL THEN
        -- an expired lease (its dispatcher died) is taken over
        INSERT INTO leases AS l (delivery_id, webhook_id, lease_id, locked_until)
        SELECT u.id, u.webhook_id, p_lease, now() + make_interval(secs => p_lease_secs)
        FROM unnest(v_ids, v_webhooks) AS u(id, webhook_id)
        ON CONFLICT (delivery_id) DO UPDATE SET lease_id = EXCLUDED.lease_id, locked_until = EXCLUDED.locked_until;
    END IF;
    v_next_due := least((SELECT d.next_attempt_at FROM deliveries d
                         WHERE d.status = 'pending' AND NOT d.parked AND d.next_attempt_at > now() ORDER BY d.next_attempt_at LIMIT 1),
                        (SELECT min(w.paused_until) FROM webhooks w WHERE w.paused_until > now()));

    RETURN QUERY
    SELECT false, v_next_due, x.* FROM (SELECT) AS one LEFT JOIN (
        SELECT d.id, d.tenant_id, d.event_id, d.webhook_id, d.event_type, d.attempt_count, d.series_attempts,
            d.test, p_lease, w.url, w.headers, w.secret,
            CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret END,
            w.retry_schedule, e.body, d.created_at, w.adaptive_concurrency IS NOT NULL
        FROM unnest(v_ids) AS u(id) JOIN deliveries d ON d.id = u.id
        JOIN webhooks w ON w.id = d.webhook_id JOIN events e ON e.id = d.event_id) AS x ON true;
END
$$;
