//! TLS to PostgreSQL through rustls, as `DATABASE_URL`'s `sslmode` says (libpq's meaning):
//!
//! | sslmode | encrypted | server certificate checked |
//! |---|---|---|
//! | `disable` | no | — |
//! | `prefer` (the default) | if the server offers it, else in clear | no |
//! | `require` | yes, or no connection | no (yes against `sslrootcert`, as `verify-ca`, when that is given) |
//! | `verify-ca` | yes | chain to `sslrootcert` (or the system's roots) |
//! | `verify-full` | yes | chain, and the host name (or IP) in the URL |
//!
//! tokio-postgres knows only `disable`, `prefer` and `require` and neither `sslrootcert`:
//! both are taken out of the URL here and applied through the rustls verifier.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres::config::SslMode as DriverSslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// Where and how to connect: the driver's configuration and its TLS connector.
#[derive(Clone)]
pub struct Target {
    pub config: tokio_postgres::Config,
    pub tls: MakeRustlsConnect,
    pub mode: SslMode,
}

/// Reads `sslmode` and `sslrootcert` from a `postgres://` URL (other forms go to the
/// driver as they are, with its own `sslmode` handling) and builds the connector.
pub fn target(database_url: &str) -> anyhow::Result<Target> {
    let (rest, mode, root) = split_ssl_params(database_url)?;
    let mut config: tokio_postgres::Config = rest.parse().context("DATABASE_URL is not a PostgreSQL connection URL")?;
    config.ssl_mode(match mode {
        SslMode::Disable => DriverSslMode::Disable,
        SslMode::Prefer => DriverSslMode::Prefer,
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => DriverSslMode::Require,
    });
    Ok(Target { config, tls: connector(mode, root.as_ref())?, mode })
}

fn split_ssl_params(database_url: &str) -> anyhow::Result<(String, SslMode, Option<PathBuf>)> {
    let Ok(mut url) = url::Url::parse(database_url) else {
        return Ok((database_url.to_owned(), SslMode::Prefer, None));
    };
    if !matches!(url.scheme(), "postgres" | "postgresql") {
        return Ok((database_url.to_owned(), SslMode::Prefer, None));
    }
    let (mut mode, mut root, mut kept) = (SslMode::Prefer, None, Vec::new());
    for (key, value) in url.query_pairs() {
        match key.as_ref() {
            "sslmode" => {
                mode = match value.as_ref() {
                    "disable" => SslMode::Disable,
                    "prefer" | "allow" => SslMode::Prefer,
                    "require" => SslMode::Require,
                    "verify-ca" => SslMode::VerifyCa,
                    "verify-full" => SslMode::VerifyFull,
                    other => bail!(
                        "DATABASE_URL has sslmode={other}: use disable, prefer, require, verify-ca or verify-full"
                    ),
                }
            }
            "sslrootcert" => root = Some(PathBuf::from(value.as_ref())),
            _ => kept.push((key.into_owned(), value.into_owned())),
        }
    }
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    Ok((url.to_string(), mode, root))
}

fn connector(mode: SslMode, root: Option<&PathBuf>) -> anyhow::Result<MakeRustlsConnect> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier: Arc<dyn ServerCertVerifier> = match (mode, root) {
        (SslMode::Disable | SslMode::Prefer, _) | (SslMode::Require, None) => Arc::new(Unverified(provider.clone())),
        (SslMode::Require | SslMode::VerifyCa, root) => Arc::new(ChainOnly(webpki(roots(root)?, &provider)?)),
        (SslMode::VerifyFull, root) => webpki(roots(root)?, &provider)?,
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS for PostgreSQL")?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

fn webpki(roots: RootCertStore, provider: &Arc<CryptoProvider>) -> anyhow::Result<Arc<WebPkiServerVerifier>> {
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .context("TLS for PostgreSQL: no usable root certificate")
}

/// The certificates of `sslrootcert`, or the system's roots without one.
fn roots(path: Option<&PathBuf>) -> anyhow::Result<RootCertStore> {
    let mut store = RootCertStore::empty();
    let certs: Vec<CertificateDer<'static>> = match path {
        Some(path) => CertificateDer::pem_file_iter(path)
            .and_then(|certs| certs.collect::<Result<_, _>>())
            .map_err(|e| anyhow::anyhow!("DATABASE_URL sslrootcert {}: {e}", path.display()))?,
        None => rustls_native_certs::load_native_certs().certs,
    };
    for cert in certs {
        store.add(cert).context("DATABASE_URL sslrootcert holds a certificate that cannot be used")?;
    }
    Ok(store)
}

/// `prefer` and `require` without a root certificate: encrypted, not authenticated (as
/// libpq does). The handshake's signatures are still checked.
#[derive(Debug)]
struct Unverified(Arc<CryptoProvider>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain must lead to a trusted root; the name in it is not compared.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ssl_parameters_leave_the_url_the_driver_sees() {
        let (rest, mode, root) =
            split_ssl_params("postgres://u:p@db:5432/app?sslmode=verify-full&sslrootcert=/ca.pem&application_name=x")
                .unwrap();
        assert_eq!(rest, "postgres://u:p@db:5432/app?application_name=x");
        assert_eq!(mode, SslMode::VerifyFull);
        assert_eq!(root, Some(PathBuf::from("/ca.pem")));
        let (rest, mode, _) = split_ssl_params("postgres://db/app").unwrap();
        assert_eq!((rest.as_str(), mode), ("postgres://db/app", SslMode::Prefer));
        assert!(split_ssl_params("postgres://db/app?sslmode=sometimes").is_err());
    }
}
