//! TLS for the built-in server: the rustls acceptor built from the configured PEM files.

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

/// Why TLS could not be set up from the configured files.
#[derive(Debug, thiserror::Error)]
#[error("cannot use TLS file {path}: {reason}")]
pub struct TlsError {
    /// The certificate or key file.
    pub path: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Builds the TLS acceptor from PEM files, with errors naming the file.
pub(crate) fn tls_acceptor(certificate: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
    let error = |path: &Path, reason: String| TlsError {
        path: path.display().to_string(),
        reason,
    };
    let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(certificate)
        .map_err(|e| error(certificate, e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| error(certificate, e.to_string()))?;
    if certificates.is_empty() {
        return Err(error(
            certificate,
            "no PEM certificate in the file".to_owned(),
        ));
    }
    let private_key = PrivateKeyDer::from_pem_file(key).map_err(|e| error(key, e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| error(certificate, e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certificates, private_key)
        .map_err(|e| {
            error(
                key,
                format!("does not match the certificate or is unusable: {e}"),
            )
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
