//! Wiring: the shared state, the HTTP server, the dispatcher and graceful shutdown.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, App, HttpServer};
use anyhow::Context;
use backon::{ExponentialBuilder, Retryable};
use secrecy::ExposeSecret;
use tokio_util::sync::CancellationToken;

use crate::auth::jwt::JwtKeys;
use crate::cli::Role;
use crate::config::Config;
use crate::db::{self, PgPool};
use crate::dispatch;
use crate::error::ApiError;

/// What every request handler can reach.
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub jwt: JwtKeys,
}

/// A started service: the API (if its role runs one) listening on `addr`, the dispatcher
/// (if its role runs one) claiming work, both stopped by cancelling `shutdown`.
pub struct Service {
    pub addr: Option<SocketAddr>,
    pub shutdown: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Service {
    /// Migrates the database (waiting for it to come up), then starts the parts that
    /// `config.role` names.
    pub async fn start(config: Config) -> anyhow::Result<Service> {
        let config = Arc::new(config);
        let url = config.database_url.expose_secret().to_owned();
        (|| db::migrate(&url))
            .retry(
                ExponentialBuilder::default()
                    .with_max_times(8)
                    .with_max_delay(Duration::from_secs(5)),
            )
            .notify(|err, after| {
                tracing::warn!(
                    error = format!("{err:#}"),
                    ?after,
                    "database not ready; retrying"
                )
            })
            .await?;
        let pool = db::build_pool(&url, config.pool_size)?;
        let shutdown = CancellationToken::new();
        let mut tasks = Vec::new();
        let mut addr = None;

        if matches!(config.role, Role::Dispatcher | Role::All) {
            let (pool, config, shutdown) = (pool.clone(), config.clone(), shutdown.clone());
            tasks.push(tokio::spawn(dispatch::run(pool, config, shutdown)));
        }
        if matches!(config.role, Role::Api | Role::All) {
            let listener = TcpListener::bind(config.bind)
                .with_context(|| format!("binding {}", config.bind))?;
            addr = Some(listener.local_addr()?);
            let state = web::Data::new(AppState {
                pool: pool.clone(),
                jwt: JwtKeys::new(
                    config.jwt_secret.expose_secret().as_bytes(),
                    config.token_ttl,
                ),
                config: config.clone(),
            });
            let server = HttpServer::new(move || {
                App::new()
                    .app_data(state.clone())
                    .app_data(
                        web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()),
                    )
                    .wrap(tracing_actix_web::TracingLogger::default())
                    .configure(crate::api::configure)
                    .default_service(web::to(crate::api::not_found))
            })
            .disable_signals()
            .shutdown_timeout(35)
            .listen(listener)?
            .run();
            let handle = server.handle();
            let stop = shutdown.clone();
            tokio::spawn(async move {
                stop.cancelled().await;
                handle.stop(true).await;
            });
            tasks.push(tokio::spawn(async move {
                server.await.context("HTTP server failed")
            }));
            tracing::info!(addr = %addr.unwrap_or(config.bind), "API listening");
        }
        Ok(Service {
            addr,
            shutdown,
            tasks,
        })
    }

    /// Waits until every part has stopped.
    pub async fn wait(self) -> anyhow::Result<()> {
        for task in self.tasks {
            task.await.context("a service task panicked")??;
        }
        Ok(())
    }
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
