// @generated shape (diesel print-schema); kept in sync with migrations/ by hand and
// checked by the tests that run every query against the migrated database.

diesel::table! {
    tenants (id) {
        id -> Uuid,
        name -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        email -> Text,
        password_hash -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        name -> Text,
        prefix -> Text,
        key_hash -> Bytea,
        created_at -> Timestamptz,
        last_used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        name -> Text,
        url -> Text,
        events -> Array<Text>,
        consumer_id -> Nullable<Text>,
        description -> Nullable<Text>,
        headers -> Jsonb,
        active -> Bool,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamptz>,
        rate_limit_per_minute -> Nullable<Int4>,
        max_concurrency -> Int4,
        retry_schedule -> Nullable<Array<Int4>>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    events (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        event_type -> Text,
        consumer_id -> Nullable<Text>,
        body -> Text,
        idempotency_key -> Nullable<Text>,
        test -> Bool,
        deliveries -> Int4,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    deliveries (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        event_id -> Uuid,
        webhook_id -> Uuid,
        event_type -> Text,
        status -> Text,
        attempt_count -> Int4,
        series_attempts -> Int4,
        next_attempt_at -> Nullable<Timestamptz>,
        last_attempt_at -> Nullable<Timestamptz>,
        test -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    leases (delivery_id) {
        delivery_id -> Uuid,
        webhook_id -> Uuid,
        lease_id -> Uuid,
        locked_until -> Timestamptz,
    }
}

diesel::table! {
    webhook_logs (id) {
        id -> Uuid,
        tenant_id -> Uuid,
        delivery_id -> Uuid,
        event_id -> Uuid,
        webhook_id -> Uuid,
        event_type -> Text,
        attempt -> Int4,
        success -> Bool,
        request_url -> Text,
        response_status -> Nullable<Int4>,
        response_body -> Nullable<Text>,
        duration_ms -> Int4,
        error_kind -> Nullable<Text>,
        error_message -> Nullable<Text>,
        test -> Bool,
        created_at -> Timestamptz,
        seq -> Int8,
        response_headers -> Nullable<Jsonb>,
    }
}

diesel::table! {
    stats_rollups (tenant_id, webhook_id, span, start) {
        tenant_id -> Uuid,
        webhook_id -> Uuid,
        span -> Int2,
        start -> Timestamptz,
        attempts -> Int4,
        attempt_successes -> Int4,
        retries -> Int4,
        answered -> Int4,
        latency_sum_ms -> Int8,
        latency_hist -> Array<Int4>,
        errors -> Array<Int4>,
        deliveries_started -> Int4,
        deliveries_succeeded -> Int4,
        deliveries_failed -> Int4,
    }
}

diesel::joinable!(users -> tenants (tenant_id));
diesel::joinable!(api_keys -> tenants (tenant_id));
diesel::joinable!(webhooks -> tenants (tenant_id));
diesel::joinable!(events -> tenants (tenant_id));
diesel::joinable!(deliveries -> events (event_id));
diesel::joinable!(deliveries -> webhooks (webhook_id));
diesel::joinable!(webhook_logs -> deliveries (delivery_id));

diesel::allow_tables_to_appear_in_same_query!(
    tenants,
    users,
    api_keys,
    webhooks,
    events,
    deliveries,
    leases,
    webhook_logs,
    stats_rollups,
);
