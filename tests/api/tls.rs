//! SPEC "Operations": `DATABASE_URL`'s `sslmode` is honoured, TLS through rustls. Against
//! the suite's server: `scripts/pg`'s private cluster serves TLS with a self-signed
//! certificate (its path in HOOKRELAY_TEST_PG_ROOTCERT); a server without TLS is checked
//! for the other half (require refuses, prefer falls back).

use diesel::sql_types::Bool;
use diesel_async::RunQueryDsl;

use crate::helpers::server_url;

fn with_params(params: &str) -> String {
    let mut url = server_url();
    url.set_query(if params.is_empty() { None } else { Some(params) });
    url.to_string()
}

#[derive(diesel::QueryableByName)]
struct Ssl {
    #[diesel(sql_type = Bool)]
    ssl: bool,
}

/// Whether a connection made as hookrelay makes them (its pool) is encrypted.
async fn encrypted(url: &str) -> Result<bool, String> {
    let pool = hookrelay::db::build_pool(url, 1).map_err(|e| format!("{e:#}"))?;
    let mut conn = pool.get().await.map_err(|e| e.to_string())?;
    let row: Ssl = diesel::sql_query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .get_result(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    Ok(row.ssl)
}

#[tokio::test(flavor = "multi_thread")]
async fn sslmode_is_honoured() {
    let (client, connection) = tokio_postgres::connect(&with_params(""), tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let server_has_tls = client.query_one("SHOW ssl", &[]).await.unwrap().get::<_, String>(0) == "on";
    assert_eq!(encrypted(&with_params("sslmode=disable")).await, Ok(false));
    // no certificate is trusted for this server among the system's roots
    assert!(encrypted(&with_params("sslmode=verify-full")).await.is_err(), "an unverifiable server is refused");
    if !server_has_tls {
        assert!(encrypted(&with_params("sslmode=require")).await.is_err(), "require needs TLS");
        assert_eq!(encrypted(&with_params("")).await, Ok(false), "prefer falls back to plain");
        return;
    }
    assert_eq!(encrypted(&with_params("sslmode=require")).await, Ok(true));
    assert_eq!(encrypted(&with_params("")).await, Ok(true), "prefer, the default, uses TLS when offered");
    if let Ok(root) = std::env::var("HOOKRELAY_TEST_PG_ROOTCERT") {
        let root = url::form_urlencoded::byte_serialize(root.as_bytes()).collect::<String>();
        for mode in ["verify-ca", "verify-full", "require"] {
            let url = with_params(&format!("sslmode={mode}&sslrootcert={root}"));
            assert_eq!(encrypted(&url).await, Ok(true), "{mode} against the cluster's own certificate");
        }
        let missing = with_params("sslmode=verify-full&sslrootcert=/nonexistent/root.crt");
        let err = encrypted(&missing).await.unwrap_err();
        assert!(err.contains("sslrootcert"), "a clear error naming the setting: {err}");
    }
}
