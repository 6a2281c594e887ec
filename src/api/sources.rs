//! The sources API (SPEC "Inbound sources"): create, list, read, update, delete and
//! rotate-url. The ingest route itself is `api::ingest`; a source's request log and its
//! dry run are `api::inbound_requests`.

use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::api::body::{present, Errors, JsonBody};
use crate::api::caller::Caller;
use crate::api::page::Page;
use crate::api::params::{path_id, Params};
use crate::api::route::resource;
use crate::api::state::AppState;
use crate::db::new_id;
use crate::db::sources::{self, Source};
use crate::domain::consumer::validate_consumer_id;
use crate::domain::event::EventType;
use crate::domain::{ts, ts_opt};
use crate::error::{ApiError, ApiResult};
use crate::inbound::{self, Provider};
use crate::secrets::Sealer;

/// How long a rotated ingest URL keeps working (SPEC: 48 h).
const URL_OVERLAP_HOURS: i64 = 48;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/api/v1/sources").route(web::post().to(create)).route(web::get().to(list)))
        .service(
            resource("/api/v1/sources/{id}")
                .route(web::get().to(get))
                .route(web::patch().to(update))
                .route(web::delete().to(delete)),
        )
        .service(resource("/api/v1/sources/{id}/rotate-url").route(web::post().to(rotate_url)));
}

/// A source as every answer shows it: secrets masked.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceView {
    id: Uuid,
    name: String,
    provider: String,
    config: Map<String, Value>,
    event_type: Option<String>,
    consumer_id: Option<String>,
    active: bool,
    ingest_url: String,
    previous_ingest_url_expires_at: Option<String>,
    created_at: String,
    updated_at: String,
}

/// A source's secrets and token, opened.
pub struct Opened {
    /// The secret fields alone.
    pub secrets: Map<String, Value>,
    /// The whole config with its secrets: what a request is checked against.
    pub current: Map<String, Value>,
    /// The whole config with the values a PATCH replaced, while they still verify.
    pub previous: Option<Map<String, Value>>,
}

/// Opens what is sealed of `source`. A value that does not open is an internal error:
/// start-up checks that every key id is known, so only an altered row gets here.
pub fn open(sealer: &Sealer, source: &Source) -> Result<Opened, ApiError> {
    let open_map = |sealed: &str| -> Result<Map<String, Value>, ApiError> {
        let text = sealer
            .open(source.id, sealed)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("opening the secrets of source {}: {e}", source.id)))?;
        serde_json::from_str(&text).map_err(|e| ApiError::Internal(e.into()))
    };
    let with = |secrets: Map<String, Value>| {
        let mut config = source.config.as_object().cloned().unwrap_or_default();
        config.extend(secrets);
        config
    };
    let previous = match (&source.previous_secrets, source.previous_secrets_expire_at) {
        (Some(sealed), Some(until)) if until > Utc::now() => Some(with(open_map(sealed)?)),
        _ => None,
    };
    let secrets = open_map(&source.secrets)?;
    Ok(Opened { current: with(secrets.clone()), secrets, previous })
}

/// The source's ingest URL, its token opened. (Ingest has the token from the path: only
/// answers that show the URL open it.)
pub fn ingest_url_of(state: &AppState, source: &Source) -> Result<String, ApiError> {
    let token = state
        .config
        .sealer
        .open(source.id, &source.token)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("opening the token of source {}: {e}", source.id)))?;
    Ok(ingest_url(state, &token))
}

/// `****` and the last four characters.
fn masked(secret: &Value) -> Value {
    let s = secret.as_str().unwrap_or_default();
    let tail: String = s.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    Value::String(format!("****{tail}"))
}

impl SourceView {
    /// `shown_whole`: secret fields shown in clear (a generated `headerValue`, in the
    /// create answer alone).
    pub fn new(state: &AppState, source: Source, shown_whole: &[&str]) -> Result<SourceView, ApiError> {
        let opened = open(&state.config.sealer, &source)?;
        let ingest_url = ingest_url_of(state, &source)?;
        let mut config = source.config.as_object().cloned().unwrap_or_default();
        for (name, value) in &opened.secrets {
            let shown = if shown_whole.contains(&name.as_str()) { value.clone() } else { masked(value) };
            config.insert(name.clone(), shown);
        }
        Ok(SourceView {
            id: source.id,
            name: source.name,
            provider: source.provider,
            config,
            event_type: source.event_type,
            consumer_id: source.consumer_id,
            active: source.active,
            ingest_url,
            previous_ingest_url_expires_at: ts_opt(source.previous_token_expires_at.filter(|t| *t > Utc::now())),
            created_at: ts(source.created_at),
            updated_at: ts(source.updated_at),
        })
    }
}

/// `<public URL>/in/<token>`.
pub fn ingest_url(state: &AppState, token: &str) -> String {
    format!("{}/in/{token}", state.public_url.trim_end_matches('/'))
}

/// 128 random bits, base64url.
fn new_token() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The config fields that some provider reads. Others are ignored, as unknown fields are
/// everywhere, and never stored.
#[derive(Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigInput {
    #[serde(skip_serializing_if = "Option::is_none")]
    app_secret: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verify_token: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_token: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    header_name: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    header_value: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signing_secret: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    header: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    algorithm: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    encoding: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prefix: Option<Value>,
}

impl ConfigInput {
    /// The fields sent, by their API names.
    fn into_map(self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        }
    }
}

#[derive(Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceInput {
    #[serde(default, deserialize_with = "present")]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    provider: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    config: Option<Option<ConfigInput>>,
    #[serde(default, deserialize_with = "present")]
    event_type: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    consumer_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    active: Option<Option<bool>>,
}

/// The fields of a create or a PATCH, validated; `None`: not sent.
#[derive(Default)]
struct Changes {
    name: Option<String>,
    config: Option<Map<String, Value>>,
    event_type: Option<Option<String>>,
    consumer_id: Option<Option<String>>,
    active: Option<bool>,
}

/// Validates what was sent for a source of `provider`. On create (`existing` None) the
/// required fields must be there; on a PATCH, only what was sent is checked, and the
/// provider cannot change.
fn validate(input: SourceInput, existing: Option<&Source>) -> Result<(Provider, Changes), ApiError> {
    let mut errors = Errors::default();
    let mut changes = Changes::default();
    let creating = existing.is_none();
    let provider = validate_provider(input.provider, existing, &mut errors);
    match input.name {
        // at most 100 characters as sent (the schema's maxLength), not blank; stored trimmed
        Some(Some(n)) if !n.trim().is_empty() && n.chars().count() <= 100 => changes.name = Some(n.trim().to_owned()),
        Some(Some(_)) => errors.add("name", "must be 1-100 characters"),
        Some(None) => errors.add("name", "must not be null"),
        None if creating => errors.add("name", "is required"),
        None => {}
    }
    match input.event_type {
        Some(Some(t)) if errors.check("eventType", EventType::parse_publishable(&t).map(|_| ())).is_some() => {
            changes.event_type = Some(Some(t));
        }
        Some(Some(_)) => {}
        Some(None) => changes.event_type = Some(None),
        None => {}
    }
    match input.consumer_id {
        Some(Some(id)) if errors.check("consumerId", validate_consumer_id(&id)).is_some() => {
            changes.consumer_id = Some(Some(id));
        }
        Some(Some(_)) => {}
        Some(None) => changes.consumer_id = Some(None),
        None => {}
    }
    match input.active {
        Some(Some(a)) => changes.active = Some(a),
        Some(None) => errors.add("active", "must be true or false"),
        None => {}
    }
    if let Some(p) = provider {
        changes.config = validate_config(p, input.config, creating, &mut errors);
        let event_type = match (&changes.event_type, existing) {
            (Some(t), _) => t.clone(),
            (None, Some(s)) => s.event_type.clone(),
            (None, None) => None,
        };
        if p.needs_event_type() && event_type.is_none() {
            errors.add("eventType", format!("is required for provider {}", p.as_str()));
        }
    } else if matches!(input.config, Some(None)) {
        errors.add("config", "must be an object");
    }
    errors.into_result()?;
    provider.map(|p| (p, changes)).ok_or_else(|| ApiError::field("provider", "is required"))
}

/// The provider sent (required on create, unchangeable on a PATCH), or the source's.
fn validate_provider(sent: Option<Option<String>>, existing: Option<&Source>, errors: &mut Errors) -> Option<Provider> {
    match (sent, existing) {
        (None, Some(s)) => Provider::parse(&s.provider),
        (Some(Some(p)), Some(s)) if p != s.provider => {
            errors.add("provider", "cannot change: create another source for another provider");
            None
        }
        (Some(Some(p)), _) => {
            let parsed = Provider::parse(&p);
            if parsed.is_none() {
                errors.add("provider", format!("unknown provider {p:?}: see SPEC's table of providers"));
            }
            parsed
        }
        (_, None) | (Some(None), _) => {
            errors.add("provider", "is required");
            None
        }
    }
}

/// The provider's config fields sent (another provider's are ignored like unknown ones),
/// checked: on create every required one must be there.
fn validate_config(
    provider: Provider,
    sent: Option<Option<ConfigInput>>,
    creating: bool,
    errors: &mut Errors,
) -> Option<Map<String, Value>> {
    let config = match sent {
        Some(Some(config)) => config.into_map(),
        Some(None) => {
            errors.add("config", "must be an object");
            return None;
        }
        None if creating => Map::new(),
        None => return None,
    };
    let mut config = config;
    config.retain(|name, _| inbound::is_config_field(provider, name));
    for (field, message) in inbound::validate_config(provider, &config, !creating) {
        errors.add(field, message);
    }
    // a source read back and sent again carries its secrets masked: never take that mask
    // for a new secret (verification would break when the old one's overlap ends)
    for name in provider.secret_fields() {
        if config.get(*name).and_then(Value::as_str).is_some_and(|v| v.starts_with("****")) {
            errors.add(
                format!("config.{name}"),
                "is the masked value that answers show: send the secret itself, or leave the field out to keep it",
            );
        }
    }
    Some(config)
}

/// Splits a provider's config into its settings in clear and its secret fields.
fn split(provider: Provider, config: Map<String, Value>) -> (Map<String, Value>, Map<String, Value>) {
    config.into_iter().partition(|(name, _)| !provider.secret_fields().contains(&name.as_str()))
}

fn seal(sealer: &Sealer, id: Uuid, secrets: &Map<String, Value>) -> String {
    sealer.seal(id, &Value::Object(secrets.clone()).to_string())
}

async fn create(state: web::Data<AppState>, caller: Caller, body: JsonBody<SourceInput>) -> ApiResult<HttpResponse> {
    let (provider, changes) = validate(body.0, None)?;
    let mut config = changes.config.unwrap_or_default();
    let generated = inbound::fill_defaults(provider, &mut config);
    let (settings, secrets) = split(provider, config);
    let id = new_id();
    let token = new_token();
    let now = Utc::now();
    let sealer = &state.config.sealer;
    let source = Source {
        id,
        tenant_id: caller.tenant.0,
        name: changes.name.unwrap_or_default(),
        provider: provider.as_str().to_owned(),
        config: Value::Object(settings),
        secrets: seal(sealer, id, &secrets),
        previous_secrets: None,
        previous_secrets_expire_at: None,
        event_type: changes.event_type.flatten(),
        consumer_id: changes.consumer_id.flatten(),
        active: changes.active.unwrap_or(true),
        token_hash: sources::token_hash(&token),
        token: sealer.seal(id, &token),
        previous_token_hash: None,
        previous_token_expires_at: None,
        created_at: now,
        updated_at: now,
    };
    let mut conn = state.pool.get().await?;
    if !sources::insert(&mut conn, &source).await? {
        return Err(ApiError::Conflict(format!("a tenant holds at most {} sources", sources::MAX_PER_TENANT)));
    }
    let shown: &[&str] = if generated { &["headerValue"] } else { &[] };
    Ok(HttpResponse::Created().json(SourceView::new(&state, source, shown)?))
}

async fn list(state: web::Data<AppState>, caller: Caller, req: HttpRequest) -> ApiResult<HttpResponse> {
    let (limit, after) = Params::from_request(&req)?.page()?;
    let mut conn = state.pool.get().await?;
    let rows = sources::list(&mut conn, caller.tenant, after, limit + 1).await?;
    drop(conn);
    let page = Page::from_rows(rows, limit, |s| s.id, |s| SourceView::new(&state, s, &[]));
    let data = page.data.into_iter().collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(Page { data, next_cursor: page.next_cursor }))
}

/// The caller's source `id` (another tenant's is 404).
pub async fn find(state: &AppState, caller: &Caller, id: &str) -> Result<Source, ApiError> {
    let id = path_id(id)?;
    let mut conn = state.pool.get().await?;
    Ok(sources::get(&mut conn, caller.tenant, id).await?)
}

async fn get(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let source = find(&state, &caller, &id).await?;
    Ok(HttpResponse::Ok().json(SourceView::new(&state, source, &[])?))
}

async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: JsonBody<SourceInput>,
) -> ApiResult<HttpResponse> {
    let mut source = find(&state, &caller, &id).await?;
    let read = source.clone();
    let (provider, changes) = validate(body.0, Some(&source))?;
    let now = Utc::now();
    if let Some(config) = changes.config {
        apply_config(&state, &mut source, provider, config, now)?;
    }
    if let Some(name) = changes.name {
        source.name = name;
    }
    if let Some(t) = changes.event_type {
        source.event_type = t;
    }
    if let Some(c) = changes.consumer_id {
        source.consumer_id = c;
    }
    if let Some(a) = changes.active {
        source.active = a;
    }
    source.updated_at = now;
    write(&state, &source, &read).await?;
    Ok(HttpResponse::Ok().json(SourceView::new(&state, source, &[])?))
}

/// Writes a changed source, 409 if it changed since it was read.
async fn write(state: &AppState, source: &Source, read: &Source) -> Result<(), ApiError> {
    let mut conn = state.pool.get().await?;
    let updated = sources::update(&mut conn, source, read).await?;
    // the ingest URL's next request reads the change (a new source needs no such step:
    // only tokens that named a source are cached)
    state.sources.clear();
    if updated {
        Ok(())
    } else {
        Err(ApiError::Conflict(
            "the source changed while this request ran (another change, a rotate-url or a re-encryption): \
             read it again and retry"
                .into(),
        ))
    }
}

/// Merges the config fields a PATCH sent. A changed secret keeps the values it replaced
/// verifying for `HOOKRELAY_SOURCE_SECRET_OVERLAP` (SPEC: 24 h); a source keeps one set
/// of previous values, so a second change ends the first overlap.
fn apply_config(
    state: &AppState,
    source: &mut Source,
    provider: Provider,
    sent: Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let opened = open(&state.config.sealer, source)?;
    let (settings, secrets) = split(provider, sent);
    let mut config = source.config.as_object().cloned().unwrap_or_default();
    config.extend(settings);
    source.config = Value::Object(config);
    let changed = secrets.iter().any(|(name, value)| opened.secrets.get(name) != Some(value));
    if changed {
        let mut current = opened.secrets.clone();
        current.extend(secrets);
        let sealer = &state.config.sealer;
        source.previous_secrets = Some(seal(sealer, source.id, &opened.secrets));
        let overlap = chrono::Duration::from_std(state.config.source_secret_overlap).unwrap_or_default();
        source.previous_secrets_expire_at = Some(now + overlap);
        source.secrets = seal(sealer, source.id, &current);
    }
    Ok(())
}

async fn delete(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = path_id(&id)?;
    let mut conn = state.pool.get().await?;
    let deleted = sources::delete(&mut conn, caller.tenant, id).await?;
    state.sources.clear();
    if deleted {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound)
    }
}

/// A new ingest URL; the old one keeps working for 48 h.
async fn rotate_url(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> ApiResult<HttpResponse> {
    let mut source = find(&state, &caller, &id).await?;
    let read = source.clone();
    let token = new_token();
    let now = Utc::now();
    source.previous_token_hash = Some(std::mem::replace(&mut source.token_hash, sources::token_hash(&token)));
    source.previous_token_expires_at = Some(now + chrono::Duration::hours(URL_OVERLAP_HOURS));
    source.token = state.config.sealer.seal(source.id, &token);
    source.updated_at = now;
    write(&state, &source, &read).await?;
    Ok(HttpResponse::Ok().json(SourceView::new(&state, source, &[])?))
}
