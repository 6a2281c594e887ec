//! The sealed values of sources (their ingest token, secrets and replaced secrets): the
//! start-up check that the configured keys open them, and their re-sealing under the
//! current key (`hookrelay reencrypt`), as `webhook_secrets` does for webhooks.

use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::secrets::{key_id_of, Sealer};

const BATCH: i64 = 500;

#[derive(QueryableByName)]
struct Sealed {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    token: String,
    #[diesel(sql_type = Text)]
    secrets: String,
    #[diesel(sql_type = Nullable<Text>)]
    previous_secrets: Option<String>,
}

impl Sealed {
    fn values(&self) -> impl Iterator<Item = &str> {
        [Some(self.token.as_str()), Some(self.secrets.as_str()), self.previous_secrets.as_deref()].into_iter().flatten()
    }
}

/// Every source's sealed values, `BATCH` at a time, in id order after `after`.
async fn page(conn: &mut AsyncPgConnection, after: Uuid) -> QueryResult<Vec<Sealed>> {
    diesel::sql_query("SELECT id, token, secrets, previous_secrets FROM sources WHERE id > $1 ORDER BY id LIMIT $2")
        .bind::<SqlUuid, _>(after)
        .bind::<diesel::sql_types::BigInt, _>(BATCH)
        .load(conn)
        .await
}

/// Fails, naming the key ids, when a source's value is sealed under a key that `sealer`
/// does not have: its ingest URL would answer 500 to every request.
pub async fn check_keys(conn: &mut AsyncPgConnection, sealer: &Sealer) -> anyhow::Result<()> {
    let mut unknown = std::collections::BTreeSet::new();
    let mut after = Uuid::nil();
    loop {
        let rows = page(conn, after).await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        for v in rows.iter().flat_map(Sealed::values) {
            if let Some(id) = key_id_of(v).filter(|id| !sealer.knows(id)) {
                unknown.insert(id.to_owned());
            }
        }
    }
    if !unknown.is_empty() {
        anyhow::bail!(
            "source secrets in the database are sealed under key id(s) {}, but HOOKRELAY_ENCRYPTION_KEY is key id {} \
             and HOOKRELAY_ENCRYPTION_OLD_KEYS holds none of them: set the key they were sealed with",
            unknown.into_iter().collect::<Vec<_>>().join(", "),
            sealer.key_id()
        );
    }
    Ok(())
}

/// Seals under the current key every source value sealed under another key. Returns how
/// many sources changed; a value that does not open is left and reported at the end.
pub async fn reseal(conn: &mut AsyncPgConnection, sealer: &Sealer) -> anyhow::Result<usize> {
    let (mut changed, mut failed) = (0, Vec::new());
    let mut after = Uuid::nil();
    loop {
        let rows = page(conn, after).await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        for row in rows {
            if row.values().all(|v| key_id_of(v) == Some(sealer.key_id())) {
                continue;
            }
            let reseal = |v: &str| sealer.open(row.id, v).map(|clear| sealer.seal(row.id, &clear));
            let opened = (|| {
                Ok::<_, crate::secrets::OpenError>((
                    reseal(&row.token)?,
                    reseal(&row.secrets)?,
                    row.previous_secrets.as_deref().map(reseal).transpose()?,
                ))
            })();
            match opened {
                // only if nothing changed the row meanwhile (a PATCH, a rotate-url)
                Ok((token, secrets, previous)) => {
                    changed += diesel::sql_query(
                        "UPDATE sources SET token = $2, secrets = $3, previous_secrets = $4 \
                         WHERE id = $1 AND token = $5 AND secrets = $6 AND previous_secrets IS NOT DISTINCT FROM $7",
                    )
                    .bind::<SqlUuid, _>(row.id)
                    .bind::<Text, _>(token)
                    .bind::<Text, _>(secrets)
                    .bind::<Nullable<Text>, _>(previous)
                    .bind::<Text, _>(&row.token)
                    .bind::<Text, _>(&row.secrets)
                    .bind::<Nullable<Text>, _>(&row.previous_secrets)
                    .execute(conn)
                    .await?;
                }
                Err(err) => failed.push(format!("source {}: {err}", row.id)),
            }
        }
    }
    if !failed.is_empty() {
        anyhow::bail!("{} source(s) could not be opened: {}", failed.len(), failed.join("; "));
    }
    Ok(changed)
}
