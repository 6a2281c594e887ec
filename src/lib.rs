//! hookrelay: outbound webhook delivery. The binary parses the CLI and calls [`run`].

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod dispatch;
pub mod domain;
pub mod error;
pub mod health_check;
pub mod inbound;
pub mod listen;
pub mod metrics;
pub mod net;
pub mod queue;
pub mod secrets;
pub mod startup;
pub mod telemetry;

use anyhow::Context;
use secrecy::ExposeSecret;

use cli::{Cli, Command};
use config::Config;

pub fn run(cli: Cli) -> anyhow::Result<()> {
    telemetry::init(cli.settings.mode);
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    runtime.block_on(async move {
        // `listen` talks to the API only: it needs none of the server's settings
        let config = || Config::from_settings(&cli.settings);
        match cli.command.clone().unwrap_or(Command::Serve) {
            Command::Listen(args) => listen::run(args).await,
            Command::HealthCheck => health_check::run(&cli.settings.bind).await,
            Command::Migrate => db::migrate(config()?.database_url.expose_secret()).await,
            Command::Reencrypt => {
                let config = config()?;
                let url = config.database_url.expose_secret();
                db::migrate(url).await?;
                let pool = db::build_pool(url, 2)?;
                let mut conn = pool.get().await.context("connecting to PostgreSQL")?;
                let n = db::webhook_secrets::reseal(&mut conn, &config.sealer, true).await?;
                println!("re-sealed {n} webhook secrets under key id {}", config.sealer.key_id());
                let n = db::source_secrets::reseal(&mut conn, &config.sealer).await?;
                println!("re-sealed the secrets of {n} sources under key id {}", config.sealer.key_id());
                Ok(())
            }
            Command::Serve => {
                let service = startup::Service::start(config()?).await?;
                startup::cancel_on_signal(service.shutdown.clone());
                service.wait().await
            }
        }
    })
}
