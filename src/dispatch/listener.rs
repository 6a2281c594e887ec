//! Wakes the claim loop when new work is committed: LISTEN on a dedicated connection,
//! reconnecting with backoff. Polling in the claim loop is only the fallback.

use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use futures_util::StreamExt;
use secrecy::ExposeSecret;
use tokio::sync::Notify;
use tokio_postgres::{AsyncMessage, NoTls};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::db::queue::WAKE_CHANNEL;

pub async fn listen(config: Arc<Config>, wake: Arc<Notify>, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        let connect =
            || async { tokio_postgres::connect(config.database_url.expose_secret(), NoTls).await };
        let connected = connect
            .retry(ExponentialBuilder::default().with_max_delay(Duration::from_secs(5)).without_max_times())
            .notify(|err, after| tracing::warn!(error = %err, ?after, "LISTEN connection failed; retrying"))
            .await;
        let Ok((client, mut connection)) = connected else {
            continue;
        };
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let driver = tokio::spawn(async move {
            let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(message) = messages.next().await {
                match message {
                    Ok(AsyncMessage::Notification(_)) => {
                        if tx.send(()).is_err() {
                            break;
                        }
                    }
                    Ok(_) => {}
                    Err(err) => {
                        tracing::warn!(error = %err, "LISTEN connection lost");
                        break;
                    }
                }
            }
        });
        if let Err(err) = client
            .batch_execute(&format!("LISTEN {WAKE_CHANNEL}"))
            .await
        {
            tracing::warn!(error = %err, "LISTEN failed; reconnecting");
            driver.abort();
            continue;
        }
        // notifications may have been missed while disconnected
        wake.notify_one();
        loop {
            tokio::select! {
                got = rx.recv() => match got {
                    Some(()) => wake.notify_one(),
                    None => break,
                },
                _ = shutdown.cancelled() => break,
            }
        }
        driver.abort();
    }
}
