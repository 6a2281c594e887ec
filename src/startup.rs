//! Wiring: the API's state, the HTTP server, the dispatcher and graceful shutdown. Nothing
//! imports this module but `lib.rs`: it wires every other one.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Service as _;
use actix_web::{web, App, HttpMessage, HttpServer};
use anyhow::Context;
use backon::{ExponentialBuilder, Retryable};
use secrecy::ExposeSecret;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder, TracingLogger};

use crate::api::limiter::AuthLimiter;
use crate::api::state::AppState;
use crate::api::stream_hub::StreamHub;
use crate::api::tenant_limits::{Drawn, TenantLimits};
use crate::auth::jwt::JwtKeys;
use crate::cli::Role;
use crate::config::Config;
use crate::db::listener;
use crate::db::{self, PgPool};
use crate::dispatch;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::queue::pg::publisher::Publisher;
use crate::queue::pg::{PgQueue, Wakeup, ATTEMPTS_CHANNEL, WAKE_CHANNEL};

/// A started service: the HTTP server listening on `addr` (the API, or for a
/// dispatcher-only process just health, readiness and metrics), the dispatcher (if its
/// role runs one) claiming work, all stopped by cancelling `shutdown`.
pub struct Service {
    pub addr: SocketAddr,
    pub shutdown: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Service {
    /// Migrates the database (waiting for it to come up), then starts the parts that
    /// `config.role` names.
    pub async fn start(config: Config) -> anyhow::Result<Service> {
        let config = Arc::new(config);
        let url = config.database_url.expose_secret().to_owned();
        migrate_when_up(&url).await?;
        let pool = db::build_pool(&url, config.pool_size)?;
        seal_secrets_in_clear(&pool, &config).await?;
        let shutdown = CancellationToken::new();
        let metrics = Arc::new(Metrics::default());
        let mut tasks = Vec::new();
        tokio::spawn(crate::metrics::refresh_queue_gauges(
            metrics.clone(),
            pool.clone(),
            config.metrics_refresh,
            shutdown.clone(),
        ));
        let serves_api = matches!(config.role, Role::Api | Role::All);

        let (mut local_dispatcher, mut intake) = (None, None);
        if matches!(config.role, Role::Dispatcher | Role::All) {
            let wake = Arc::new(tokio::sync::Notify::new());
            local_dispatcher = Some(wake.clone());
            let (to_dispatcher, inbox) = dispatch::intake::intake(config.dispatch_concurrency, config.lease);
            intake = Some(Arc::new(to_dispatcher) as Arc<dyn crate::queue::Intake>);
            let queue = PgQueue::connect(&config.database_url, config.sealer.clone())?;
            let (pool, config, metrics, shutdown) = (pool.clone(), config.clone(), metrics.clone(), shutdown.clone());
            tasks.push(tokio::spawn(dispatch::run(queue, pool, config, metrics, wake, inbox, shutdown)));
        }
        let (recorded, attempts) = watch::channel(0u64);
        if serves_api {
            let on_recorded = move |_: &str| recorded.send_modify(|n| *n = n.wrapping_add(1));
            let listen = listener::listen(config.database_url.clone(), ATTEMPTS_CHANNEL, on_recorded, shutdown.clone());
            tasks.push(tokio::spawn(async move {
                listen.await;
                Ok(())
            }));
        }

        let listener = TcpListener::bind(config.bind).with_context(|| format!("binding {}", config.bind))?;
        let addr = listener.local_addr()?;
        let streams = StreamHub::spawn(pool.clone(), metrics.clone(), attempts, shutdown.clone());
        let wakeup = Wakeup::spawn(pool.clone(), local_dispatcher, shutdown.clone());
        if serves_api {
            // relay listeners waiting here hear of other processes' publishes too
            let relay = wakeup.clone();
            let on_wake = move |_: &str| relay.relay().notify_waiters();
            let listen = listener::listen(config.database_url.clone(), WAKE_CHANNEL, on_wake, shutdown.clone());
            tasks.push(tokio::spawn(async move {
                listen.await;
                Ok(())
            }));
        }
        let state = web::Data::new(AppState {
            pool: pool.clone(),
            jwt: JwtKeys::new(config.jwt_secret.expose_secret().as_bytes(), config.token_ttl),
            config: config.clone(),
            metrics,
            wakeup: wakeup.clone(),
            publisher: Publisher::spawn(&url, intake, config.sealer.clone(), wakeup)?,
            sources: Default::default(),
            relay_outcomes: crate::queue::pg::relay::OutcomeRecorder::spawn(pool.clone()),
            shutdown: shutdown.clone(),
            auth_limiter: AuthLimiter::new(config.auth_rate_limit),
            tenant_limits: TenantLimits::new(pool.clone(), config.tenant_publish_rate, config.tenant_api_rate),
            streams,
            public_url: config.public_url.clone().unwrap_or_else(|| format!("http://{addr}")),
        });
        let server = serve(state, listener, serves_api)?;
        let handle = server.handle();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            stop.cancelled().await;
            handle.stop(true).await;
        });
        tasks.push(tokio::spawn(async move { server.await.context("HTTP server failed") }));
        tracing::info!(%addr, role = ?config.role, "listening");
        Ok(Service { addr, shutdown, tasks })
    }

    /// Waits until every part has stopped.
    pub async fn wait(self) -> anyhow::Result<()> {
        for task in self.tasks {
            task.await.context("a service task panicked")??;
        }
        Ok(())
    }
}

/// Migrates the database, retrying while it is not up yet.
async fn migrate_when_up(url: &str) -> anyhow::Result<()> {
    (|| db::migrate(url))
        .retry(ExponentialBuilder::default().with_max_times(8).with_max_delay(Duration::from_secs(5)))
        .notify(|err, after| tracing::warn!(error = format!("{err:#}"), ?after, "database not ready; retrying"))
        .await
}

/// Checks that the configured keys open the stored secrets, and seals those stored in clear.
async fn seal_secrets_in_clear(pool: &PgPool, config: &Config) -> anyhow::Result<()> {
    let mut conn = pool.get().await.context("connecting to PostgreSQL")?;
    db::webhook_secrets::check_keys(&mut conn, &config.sealer).await?;
    db::source_secrets::check_keys(&mut conn, &config.sealer).await?;
    let sealed = db::webhook_secrets::reseal(&mut conn, &config.sealer, false).await?;
    if sealed > 0 {
        tracing::info!(sealed, "signing secrets stored in clear are now sealed");
    }
    Ok(())
}

/// The HTTP server on `listener`: the API's routes (or, for a dispatcher-only process,
/// the operations routes), each response with the RateLimit-* headers of its bucket.
fn serve(
    state: web::Data<AppState>,
    listener: TcpListener,
    serves_api: bool,
) -> std::io::Result<actix_web::dev::Server> {
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()))
            .wrap_fn(|req, srv| {
                // the RateLimit-* headers of the bucket the request drew from (Caller)
                let answer = srv.call(req);
                async move {
                    let mut res = answer.await?;
                    let drawn = res.request().extensions().get::<Drawn>().copied();
                    if let Some(drawn) = drawn {
                        drawn.apply(res.headers_mut());
                    }
                    Ok(res)
                }
            })
            .wrap(TracingLogger::<RedactedSpan>::new())
            .configure(if serves_api { crate::api::configure } else { crate::api::configure_operations })
            .default_service(web::to(crate::api::route::not_found))
    })
    .disable_signals()
    .shutdown_timeout(35)
    .listen(listener)?
    .run())
}

/// Cancels `token` at the first SIGTERM or SIGINT.
pub fn cancel_on_signal(token: CancellationToken) {
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {}
            _ = term => {}
        }
        tracing::info!("shutdown signal received: finishing in-flight work");
        token.cancel();
    });
}

/// The request span: method and path only. The query string stays out of the logs,
/// since the stream route may carry `?access_token=`; so does an ingest URL's token,
/// which for a `none` source is the only secret.
pub struct RedactedSpan;

/// `path` as logged: `/in/<token>` becomes `/in/****`.
fn logged_path(path: &str) -> &str {
    if path.starts_with("/in/") {
        "/in/****"
    } else {
        path
    }
}

impl RootSpanBuilder for RedactedSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        tracing::info_span!(
            "http_request",
            method = %request.method(),
            path = %logged_path(request.path()),
            status = tracing::field::Empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        if let Ok(response) = outcome {
            span.record("status", response.status().as_u16());
        }
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}
