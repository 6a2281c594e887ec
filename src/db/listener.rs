//! LISTEN on a dedicated connection, reconnecting with backoff: wakes the claim loop when
//! new work is committed, and the live streams when attempts are recorded. Polling is
//! only the fallback of both.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use futures_util::StreamExt;
use secrecy::{ExposeSecret, SecretString};
use tokio_postgres::AsyncMessage;
use tokio_util::sync::CancellationToken;

/// Calls `on_notify` with the payload of every notification on `channel` (and with an
/// empty one after each (re)connect, since notifications may have been missed meanwhile)
/// until `shutdown`.
pub async fn listen(
    database_url: SecretString,
    channel: &'static str,
    on_notify: impl Fn(&str) + Send + 'static,
    shutdown: CancellationToken,
) {
    let target = match crate::db::tls::target(database_url.expose_secret()) {
        Ok(target) => target,
        // the URL was accepted at start-up (the pool parsed it), so this cannot happen
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), channel, "LISTEN: DATABASE_URL unusable");
            return;
        }
    };
    while !shutdown.is_cancelled() {
        let connect = || async { target.config.connect(target.tls.clone()).await };
        let connected = tokio::select! {
            c = connect
                .retry(ExponentialBuilder::default().with_max_delay(Duration::from_secs(5)).without_max_times())
                .notify(|err, after| tracing::warn!(error = %err, ?after, channel, "LISTEN connection failed; retrying")) => c,
            _ = shutdown.cancelled() => return,
        };
        let Ok((client, mut connection)) = connected else { continue };
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let driver = tokio::spawn(async move {
            let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(message) = messages.next().await {
                match message {
                    Ok(AsyncMessage::Notification(n)) => {
                        if tx.send(n.payload().to_owned()).is_err() {
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
        if let Err(err) = client.batch_execute(&format!("LISTEN {channel}")).await {
            tracing::warn!(error = %err, channel, "LISTEN failed; reconnecting");
            driver.abort();
            continue;
        }
        on_notify("");
        loop {
            tokio::select! {
                got = rx.recv() => match got {
                    Some(payload) => on_notify(&payload),
                    None => break,
                },
                _ = shutdown.cancelled() => break,
            }
        }
        driver.abort();
    }
}
