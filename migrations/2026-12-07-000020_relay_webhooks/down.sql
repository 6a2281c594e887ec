-- Back to migration 18's claim functions, and webhooks that all have a url.
DROP TABLE relay_listeners;
DELETE FROM webhooks WHERE kind = 'relay';
ALTER TABLE webhooks DROP CONSTRAINT webhooks_url_of_kind;
ALTER TABLE webhooks ALTER COLUMN url SET NOT NULL;

CREATE OR REPLACE FUNCTION hookrelay_claim_full(p_lock bigint, p_finished uuid[], p_skip_webhooks uuid[], p_max bigint, p_lease uuid, p_lease_secs double precision)
RETURNS TABLE (held_back boolean, next_due timestamptz, delivery_id uuid, tenant_id uuid, event_id uuid, webhook_id uuid,
               event_type text, attempt_count integer, series_attempts integer, test boolean,
               lease_id uuid, url text, headers jsonb, secret text, previous_secret text,
               retry_schedule integer[], body text, delivery_created_at timestamptz, throttled boolean,
               source_id uuid, source_headers jsonb)
LANGUAGE plpgsql VOLATILE
SET enable_sort = off SET enable_seqscan = off SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    v_held boolean;
    v_next_due timestamptz;
    v_leased uuid[];
BEGIN
    -- A lost lease only means the delivery is claimed again (at-least-once allows it), so
    -- the claim does not wait for its WAL flush.
    PERFORM pg_advisory_xact_lock(p_lock), set_config('synchronous_commit', 'off', true);
    WITH ended AS MATERIALIZED (
        -- leases of attempts that ended (this dispatcher's), counted per webhook
        SELECT l.webhook_id, count(*) FILTER (WHERE l.locked_until > now()) AS live, count(*) AS n
        FROM unnest(p_finished) AS f(id) JOIN leases l ON l.delivery_id = f.id
        GROUP BY l.webhook_id),
    leased_now AS MATERIALIZED (
        -- the live leases, read once for both of their uses below
        SELECT l.delivery_id, l.webhook_id FROM leases l WHERE l.locked_until > now()),
    live AS MATERIALIZED (
        SELECT l.webhook_id, count(*) AS n FROM leased_now l GROUP BY l.webhook_id),
    saturated AS (
        -- left out of the scan, so that one saturated webhook's backlog cannot starve others
        SELECT live.webhook_id FROM live JOIN webhooks w ON w.id = live.webhook_id
        LEFT JOIN ended ON ended.webhook_id = live.webhook_id
        WHERE live.n - coalesce(ended.live, 0) >= least(w.max_concurrency, w.adaptive_concurrency)),
    c AS (
        -- Leased deliveries are still pending and the scan passes each of them: NOT IN
        -- checks them against one hashed set of the live leases.
        SELECT d.id, d.webhook_id, d.next_attempt_at FROM deliveries d
        JOIN webhooks w ON w.id = d.webhook_id
        WHERE d.status = 'pending' AND NOT d.parked AND d.next_attempt_at <= now()
        AND d.id NOT IN (SELECT l.delivery_id FROM leased_now l)
        AND (w.active OR d.test) AND w.deleted_at IS NULL AND d.webhook_id NOT IN (SELECT s.webhook_id FROM saturated s)
        AND (w.paused_until IS NULL OR w.paused_until <= now())
        AND d.webhook_id <> ALL (p_skip_webhooks)
        ORDER BY d.next_attempt_at LIMIT p_max
        FOR UPDATE OF d SKIP LOCKED),
    loads AS MATERIALIZED (
        -- counted once per webhook (inlined, they would be counted per delivery)
        SELECT r.*, greatest(0, least(r.conc_room, coalesce(r.rate_room, r.conc_room), r.due)) AS taken
        FROM (
            SELECT w.id AS webhook_id, cw.due,
                least(w.max_concurrency, w.adaptive_concurrency)
                  - (coalesce(live.n, 0) - coalesce(ended.live, 0)) AS conc_room,
                CASE WHEN w.rate_limit_per_minute IS NULL THEN NULL ELSE w.rate_limit_per_minute
                  - (SELECT count(*) FROM webhook_logs l
                     WHERE l.webhook_id = w.id AND l.created_at > now() - interval '60 seconds')
                  - coalesce(ended.n, 0) - (coalesce(live.n, 0) - coalesce(ended.live, 0)) END AS rate_room,
                CASE WHEN w.rate_limit_per_minute IS NULL THEN NULL ELSE
                  (SELECT min(l.created_at) FROM webhook_logs l
                   WHERE l.webhook_id = w.id AND l.created_at > now() - interval '60 seconds') END AS oldest
            FROM (SELECT c.webhook_id, count(*) AS due FROM c GROUP BY c.webhook_id) AS cw
            JOIN webhooks w ON w.id = cw.webhook_id
            LEFT JOIN live ON live.webhook_id = w.id LEFT JOIN ended ON ended.webhook_id = w.id) AS r),
    decided AS (
        SELECT c.id, c.webhook_id,
            row_number() OVER (PARTITION BY c.webhook_id ORDER BY c.next_attempt_at, c.id) <= ld.taken AS take,
            ld.rate_room <= ld.taken AND ld.rate_room <= ld.conc_room AS over_rate,
            CASE WHEN ld.oldest + interval '60 seconds' > now() THEN ld.oldest + interval '60 seconds'
                 ELSE now() + interval '1 second' END AS frees_at
        FROM c JOIN loads ld ON ld.webhook_id = c.webhook_id),
    deferred AS (
        UPDATE deliveries d SET next_attempt_at = x.frees_at FROM decided x
        WHERE d.id = x.id AND NOT x.take AND x.over_rate),
    leased AS (
        -- an expired lease (its dispatcher died) is taken over
        INSERT INTO leases AS l (delivery_id, webhook_id, lease_id, locked_until)
        SELECT x.id, x.webhook_id, p_lease, now() + make_interval(secs => p_lease_secs)
        FROM decided x WHERE x.take
        ON CONFLICT (delivery_id) DO UPDATE SET lease_id = EXCLUDED.lease_id, locked_until = EXCLUDED.locked_until
        RETURNING l.delivery_id),
    summary AS (
        SELECT EXISTS (SELECT 1 FROM saturated) OR EXISTS (SELECT 1 FROM decided WHERE NOT take) AS held,
            least((SELECT d.next_attempt_at FROM deliveries d
                   WHERE d.status = 'pending' AND NOT d.parked AND d.next_attempt_at > now() ORDER BY d.next_attempt_at LIMIT 1),
                  (SELECT min(x.frees_at) FROM decided x WHERE NOT x.take AND x.over_rate),
                  (SELECT min(w.paused_until) FROM webhooks w WHERE w.paused_until > now())) AS next_due)
    SELECT s.held, s.next_due, (SELECT array_agg(l.delivery_id) FROM leased l)
    INTO v_held, v_next_due, v_leased FROM summary s;

    RETURN QUERY
    SELECT v_held, v_next_due, x.* FROM (SELECT) AS one LEFT JOIN (
        SELECT d.id, d.tenant_id, d.event_id, d.webhook_id, d.event_type, d.attempt_count, d.series_attempts,
            d.test, p_lease, w.url, w.headers, w.secret,
            CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret END,
            w.retry_schedule, e.body, d.created_at, w.adaptive_concurrency IS NOT NULL,
            e.source_id, e.source_headers
        FROM unnest(v_leased) AS u(id) JOIN deliveries d ON d.id = u.id
        JOIN webhooks w ON w.id = d.webhook_id JOIN events e ON e.id = d.event_id) AS x ON true;
END
$$;

CREATE OR REPLACE FUNCTION hookrelay_claim(p_lock bigint, p_finished uuid[], p_skip_webhooks uuid[], p_max bigint, p_lease uuid, p_lease_secs double precision)
RETURNS TABLE (held_back boolean, next_due timestamptz, delivery_id uuid, tenant_id uuid, event_id uuid, webhook_id uuid,
               event_type text, attempt_count integer, series_attempts integer, test boolean,
               lease_id uuid, url text, headers jsonb, secret text, previous_secret text,
               retry_schedule integer[], body text, delivery_created_at timestamptz, throttled boolean,
               source_id uuid, source_headers jsonb)
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
            w.retry_schedule, e.body, d.created_at, w.adaptive_concurrency IS NOT NULL,
            e.source_id, e.source_headers
        FROM unnest(v_ids) AS u(id) JOIN deliveries d ON d.id = u.id
        JOIN webhooks w ON w.id = d.webhook_id JOIN events e ON e.id = d.event_id) AS x ON true;
END
$$;

ALTER TABLE webhooks DROP COLUMN kind;
