//! The stored signing secrets and their keys (see `crate::secrets`). At start-up a
//! process refuses to run when stored secrets were sealed under a key it does not have,
//! and seals every secret still in clear (written before secrets were encrypted at rest);
//! `hookrelay reencrypt` re-seals every secret under the current key. Both walk the
//! webhooks by id in batches, and each update applies only if the row still holds what
//! was read, so that a rotation meanwhile wins and nothing waits on a long lock.

use diesel::sql_types::{Array, Nullable, Text, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::secrets::{OpenError, Sealer};

const BATCH: i64 = 500;

#[derive(QueryableByName)]
struct KeyId {
    #[diesel(sql_type = Text)]
    id: String,
}

#[derive(QueryableByName)]
struct Stored {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    secret: String,
    #[diesel(sql_type = Nullable<Text>)]
    previous_secret: Option<String>,
}

/// One batch's new values, and the values read (an update applies only over those).
#[derive(Default)]
struct Resealed {
    ids: Vec<Uuid>,
    secrets: Vec<String>,
    previous: Vec<Option<String>>,
    read_secrets: Vec<String>,
    read_previous: Vec<Option<String>>,
}

/// Fails, naming the variables, when a stored secret is sealed under a key that `sealer`
/// does not have: starting would sign every attempt of those webhooks with nothing.
pub async fn check_keys(conn: &mut AsyncPgConnection, sealer: &Sealer) -> anyhow::Result<()> {
    let ids: Vec<KeyId> = diesel::sql_query(
        "SELECT DISTINCT split_part(s, ':', 3) AS id FROM webhooks, \
           LATERAL (VALUES (secret), (previous_secret)) AS v(s) WHERE s LIKE 'enc:v1:%'",
    )
    .load(conn)
    .await?;
    let unknown: Vec<String> = ids.into_iter().map(|k| k.id).filter(|id| !sealer.knows(id)).collect();
    if !unknown.is_empty() {
        anyhow::bail!(
            "webhook signing secrets in the database are sealed under key id(s) {}, but \
             HOOKRELAY_ENCRYPTION_KEY is key id {} and HOOKRELAY_ENCRYPTION_OLD_KEYS holds none of them: \
             set the key they were sealed with (as the current key, or among the old keys)",
            unknown.join(", "),
            sealer.key_id()
        );
    }
    Ok(())
}

/// Seals under the current key every stored secret that is in clear, or (with `all`)
/// sealed under any other key. Returns how many webhooks changed. A secret that does not
/// open is left as it is and counted in the error returned at the end.
pub async fn reseal(conn: &mut AsyncPgConnection, sealer: &Sealer, all: bool) -> anyhow::Result<usize> {
    let current = format!("enc:v1:{}:%", sealer.key_id());
    let pattern = if all { current.as_str() } else { "enc:v1:%" };
    let mut after = Uuid::nil();
    let (mut changed, mut failed) = (0, Vec::new());
    loop {
        let rows: Vec<Stored> = diesel::sql_query(
            "SELECT id, secret, previous_secret FROM webhooks WHERE id > $1 \
               AND (secret NOT LIKE $2 OR previous_secret NOT LIKE $2) ORDER BY id LIMIT $3",
        )
        .bind::<SqlUuid, _>(after)
        .bind::<Text, _>(pattern)
        .bind::<diesel::sql_types::BigInt, _>(BATCH)
        .load(conn)
        .await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        let mut update = Resealed::default();
        for r in rows {
            let opened = open_or_clear(sealer, r.id, &r.secret).and_then(|secret| {
                let previous = r.previous_secret.as_deref().map(|p| open_or_clear(sealer, r.id, p)).transpose()?;
                Ok((secret, previous))
            });
            match opened {
                Ok((secret, previous)) => {
                    update.ids.push(r.id);
                    update.secrets.push(sealer.seal(r.id, &secret));
                    update.previous.push(previous.map(|p| sealer.seal(r.id, &p)));
                    update.read_secrets.push(r.secret);
                    update.read_previous.push(r.previous_secret);
                }
                Err(err) => failed.push(format!("webhook {}: {err}", r.id)),
            }
        }
        changed += diesel::sql_query(
            "UPDATE webhooks w SET secret = u.secret, previous_secret = u.previous \
             FROM unnest($1, $2, $3, $4, $5) AS u(id, secret, previous, old_secret, old_previous) \
             WHERE w.id = u.id AND w.secret = u.old_secret AND w.previous_secret IS NOT DISTINCT FROM u.old_previous",
        )
        .bind::<Array<SqlUuid>, _>(update.ids)
        .bind::<Array<Text>, _>(update.secrets)
        .bind::<Array<Nullable<Text>>, _>(update.previous)
        .bind::<Array<Text>, _>(update.read_secrets)
        .bind::<Array<Nullable<Text>>, _>(update.read_previous)
        .execute(conn)
        .await?;
    }
    if !failed.is_empty() {
        anyhow::bail!("{} webhook secret(s) could not be opened: {}", failed.len(), failed.join("; "));
    }
    Ok(changed)
}

/// A stored value's secret: opened, or as it is when it was stored in clear.
fn open_or_clear(sealer: &Sealer, webhook: Uuid, stored: &str) -> Result<String, OpenError> {
    match sealer.open(webhook, stored) {
        Err(OpenError::NotSealed) => Ok(stored.to_owned()),
        other => other,
    }
}
