//! TLS for the built-in server: the rustls acceptor built from the configured PEM files,
//! with the crypto provider the application installed as the process default, else the
//! one compiled in (`tls-ring`).

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

use super::errors::TlsError;

/// Builds the TLS acceptor from PEM files, with errors naming the file. With `client_ca`,
/// only clients presenting a certificate that CA signed complete the handshake.
pub(crate) fn tls_acceptor(
    certificate: &Path,
    key: &Path,
    client_ca: Option<&Path>,
) -> Result<TlsAcceptor, TlsError> {
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
    let provider = crypto_provider().ok_or_else(|| {
        error(
            certificate,
            "no rustls crypto provider: install one as the process default (rustls::crypto::CryptoProvider::install_default) or enable the `tls-ring` feature of conduit-metrics-runtime".to_owned(),
        )
    })?;
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| error(certificate, e.to_string()))?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            let cas = CertificateDer::pem_file_iter(ca)
                .map_err(|e| error(ca, e.to_string()))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| error(ca, e.to_string()))?;
            if cas.is_empty() {
                return Err(error(ca, "no PEM certificate in the file".to_owned()));
            }
            for certificate in cas {
                roots
                    .add(certificate)
                    .map_err(|e| error(ca, format!("not a usable CA certificate: {e}")))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .map_err(|e| error(ca, e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
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

/// The rustls configuration of the push client, with the same crypto provider as the
/// server: for an https gateway, the system's root certificates plus `ca` when given; for
/// plain http none are read (the client only needs a configuration to exist).
#[cfg(feature = "push-gateway")]
pub(crate) fn push_client_config(
    https: bool,
    ca: Option<&Path>,
    identity: Option<(&Path, &Path)>,
) -> Result<rustls::ClientConfig, TlsError> {
    let error = |path: &str, reason: String| TlsError {
        path: path.to_owned(),
        reason,
    };
    let mut roots = rustls::RootCertStore::empty();
    // Unreadable system certificates are skipped: the CA file may be all that is needed.
    if https {
        for certificate in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(certificate);
        }
    }
    if let Some(ca) = ca {
        let shown = ca.display().to_string();
        let certificates = CertificateDer::pem_file_iter(ca)
            .map_err(|e| error(&shown, e.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| error(&shown, e.to_string()))?;
        if certificates.is_empty() {
            return Err(error(&shown, "no PEM certificate in the file".to_owned()));
        }
        for certificate in certificates {
            roots
                .add(certificate)
                .map_err(|e| error(&shown, format!("not a usable CA certificate: {e}")))?;
        }
    }
    let provider = crypto_provider().ok_or_else(|| {
        error(
            "(push client)",
            "no rustls crypto provider: install one as the process default or enable the `tls-ring` feature of conduit-metrics-runtime".to_owned(),
        )
    })?;
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| error("(push client)", e.to_string()))?
        .with_root_certificates(roots);
    let Some((certificate, key)) = identity else {
        return Ok(builder.with_no_client_auth());
    };
    // A client certificate, for a receiver that requires one (mutual TLS).
    let shown = certificate.display().to_string();
    let chain = CertificateDer::pem_file_iter(certificate)
        .map_err(|e| error(&shown, e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error(&shown, e.to_string()))?;
    if chain.is_empty() {
        return Err(error(&shown, "no PEM certificate in the file".to_owned()));
    }
    let key_shown = key.display().to_string();
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| error(&key_shown, e.to_string()))?;
    builder.with_client_auth_cert(chain, key).map_err(|e| {
        error(
            &shown,
            format!("not a usable client certificate and key: {e}"),
        )
    })
}

/// The application's process-default provider if it installed one, else ring when
/// compiled in.
fn crypto_provider() -> Option<Arc<rustls::crypto::CryptoProvider>> {
    if let Some(provider) = rustls::crypto::CryptoProvider::get_default() {
        return Some(provider.clone());
    }
    #[cfg(feature = "tls-ring")]
    return Some(Arc::new(rustls::crypto::ring::default_provider()));
    #[cfg(not(feature = "tls-ring"))]
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_pair(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let (certificate, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&certificate, certified.cert.pem()).unwrap();
        std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
        (certificate, key)
    }

    #[cfg(feature = "tls-ring")]
    #[test]
    fn a_valid_pair_is_served_with_the_compiled_in_provider() {
        let dir = tempfile::tempdir().unwrap();
        let (certificate, key) = write_pair(dir.path());
        assert!(tls_acceptor(&certificate, &key, None).is_ok());
    }

    /// `tls` without `tls-ring`: the provider the application installed as the process
    /// default is the one used ("bring your own").
    #[cfg(not(feature = "tls-ring"))]
    #[test]
    fn the_applications_process_default_provider_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let (certificate, key) = write_pair(dir.path());
        assert!(crypto_provider().is_none());
        rustls::crypto::ring::default_provider()
            .install_default()
            .unwrap();
        assert!(crypto_provider().is_some());
        assert!(tls_acceptor(&certificate, &key, None).is_ok());
    }

    #[cfg(not(feature = "tls-ring"))]
    #[test]
    fn without_a_provider_the_error_says_how_to_get_one() {
        let dir = tempfile::tempdir().unwrap();
        let (certificate, key) = write_pair(dir.path());
        let error = tls_acceptor(&certificate, &key, None)
            .err()
            .expect("no provider");
        assert!(
            error.to_string().contains("no rustls crypto provider"),
            "{error}"
        );
        assert!(error.to_string().contains("tls-ring"), "{error}");
    }
}
