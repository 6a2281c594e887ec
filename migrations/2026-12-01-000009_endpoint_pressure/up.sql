-- Receiver back-pressure and fair sharing (SPEC "Delivery rules": "One endpoint's trouble
-- is its own", "Back-pressure from receivers").
--
-- paused_until: a 429/503 with Retry-After pauses the whole endpoint until then; the claim
--   takes none of its deliveries before it. Left in place once past (the API shows null),
--   so that a pause costs one write and its end none.
-- adaptive_concurrency: attempts the endpoint may have in flight now, below
--   max_concurrency after timeouts and connection failures (one less for each, at least
--   1), one more for each success; NULL once back at max_concurrency, so a healthy
--   endpoint's row is never written by the recorder.
-- disabled_reason, disabled_at: why and since when a webhook is inactive (SPEC "Endpoint
--   health"): 'manual' when its owner made it so; auto-disable will write 'failing'.
ALTER TABLE webhooks ADD COLUMN paused_until timestamptz, ADD COLUMN adaptive_concurrency integer,
    ADD COLUMN disabled_reason text CHECK (disabled_reason IN ('failing', 'manual')),
    ADD COLUMN disabled_at timestamptz;
UPDATE webhooks SET disabled_reason = 'manual', disabled_at = updated_at WHERE NOT active;
-- the claim's next-due time looks for the earliest pause still running
CREATE INDEX webhooks_paused_idx ON webhooks (paused_until) WHERE paused_until IS NOT NULL;

DROP FUNCTION hookrelay_claim(bigint, uuid[], bigint, uuid, double precision);

-- As migration 7's version, plus:
-- * a webhook's concurrency limit is least(max_concurrency, adaptive_concurrency);
-- * paused webhooks' deliveries are not taken, and the end of the earliest pause counts as
--   a next due time;
-- * p_skip_webhooks names webhooks whose work the calling dispatcher will not take now
--   (its slow lane is full of their attempts: see src/dispatch/lanes.rs), left for later
--   claims;
-- * what the attempts need is read by a second statement, with a snapshot of its own taken
--   after the claim's: a late outcome that committed while the claim ran (after a lease
--   expired: the claim locks the row version it wrote) is seen, so the attempt is numbered
--   and scheduled from the latest state, not from the claim's snapshot. No later outcome
--   can change the rows meanwhile: they stay locked until the claim commits. (Carrying
--   the locked rows' counters through the claim's CTEs instead cost a sixth of the drain
--   rate: ~11,000 -> ~9,300 deliveries/s.)
-- * `throttled` says whether the webhook's adaptive concurrency is below its maximum (the
--   recorder then grows it back on success).
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
        WHERE d.status = 'pending' AND d.next_attempt_at <= now()
        AND d.id NOT IN (SELECT l.delivery_id FROM leased_now l)
        AND (w.active OR d.test) AND d.webhook_id NOT IN (SELECT s.webhook_id FROM saturated s)
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
                   WHERE d.status = 'pending' AND d.next_attempt_at > now() ORDER BY d.next_attempt_at LIMIT 1),
                  (SELECT min(x.frees_at) FROM decided x WHERE NOT x.take AND x.over_rate),
                  (SELECT min(w.paused_until) FROM webhooks w WHERE w.paused_until > now())) AS next_due)
    SELECT s.held, s.next_due, (SELECT array_agg(l.delivery_id) FROM leased l)
    INTO v_held, v_next_due, v_leased FROM summary s;

    RETURN QUERY
    SELECT v_held, v_next_due, x.* FROM (SELECT) AS one LEFT JOIN (
        SELECT d.id, d.tenant_id, d.event_id, d.webhook_id, d.event_type, d.attempt_count, d.series_attempts,
            d.test, p_lease, w.url, w.headers, w.secret,
            CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret END,
            w.retry_schedule, e.body, d.created_at, w.adaptive_concurrency IS NOT NULL
        FROM unnest(v_leased) AS u(id) JOIN deliveries d ON d.id = u.id
        JOIN webhooks w ON w.id = d.webhook_id JOIN events e ON e.id = d.event_id) AS x ON true;
END
$$;
