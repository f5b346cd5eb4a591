//! Mutual TLS for scrapes: with `TlsClientCaCertificate`, only scrapers presenting a
//! certificate that CA signed are served; others fail the handshake. Checked with a
//! client of the test's own and with a real Prometheus scraping through `tls_config`.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::pki::{Issued, TestCa};
use conduit_metrics_runtime::registry::Registry;
use conduit_metrics_runtime::serving::EndpointServer;
use conduit_metrics_runtime::{MetricsConfig, Operation, Status};
use conduit_metrics_testkit::{free_addr, prometheus_query, start_prometheus};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

/// A registry with 7 calls served over TLS that requires client certificates of `client_ca`.
fn mtls_server(server: &Issued, client_ca: &Path) -> EndpointServer {
    let registry: &'static Registry = Box::leak(Box::new(Registry::new(&MetricsConfig::default())));
    for _ in 0..7 {
        registry
            .start_call(Operation::Tts, "mtls")
            .finish(Status::Success);
    }
    let config = MetricsConfig::builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .tls(&server.certificate, &server.key)
        .tls_client_ca(client_ca)
        .build()
        .unwrap();
    EndpointServer::start(&config, move || registry.render()).unwrap()
}

/// One scrape over TLS trusting `server_ca`, presenting `client` if given: the response,
/// or what failed.
fn scrape(addr: SocketAddr, server_ca: &Path, client: Option<&Issued>) -> Result<String, String> {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_file_iter(server_ca).unwrap() {
        roots.add(certificate.unwrap()).unwrap();
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots);
    let config = match client {
        Some(client) => builder
            .with_client_auth_cert(
                CertificateDer::pem_file_iter(&client.certificate)
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap(),
                PrivateKeyDer::from_pem_file(&client.key).unwrap(),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let tcp = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| e.to_string())?;
        let name = ServerName::try_from("localhost").unwrap();
        let mut stream = connector
            .connect(name, tcp)
            .await
            .map_err(|e| e.to_string())?;
        stream
            .write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .await
            .map_err(|e| e.to_string())?;
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
            .await
            .map_err(|_| "no answer".to_owned())?
            .map_err(|e| e.to_string())?;
        if answer.is_empty() {
            return Err("closed without an answer".to_owned());
        }
        Ok(String::from_utf8_lossy(&answer).into_owned())
    })
}

#[test]
fn only_scrapers_with_a_certificate_of_the_ca_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let server_ca = TestCa::new(dir.path(), "server");
    let client_ca = TestCa::new(dir.path(), "clients");
    let other_ca = TestCa::new(dir.path(), "other");
    let server = server_ca.issue(dir.path(), "endpoint");
    let scraper = client_ca.issue(dir.path(), "scraper");
    let stranger = other_ca.issue(dir.path(), "stranger");
    let endpoint = mtls_server(&server, &client_ca.certificate);
    let addr = endpoint.local_addr();

    let answer = scrape(addr, &server_ca.certificate, Some(&scraper)).unwrap();
    assert!(
        answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"),
        "{answer}"
    );
    assert!(answer.contains(
        "conduit_audio_requests_total{operation=\"tts\",provider=\"mtls\",status=\"success\"} 7"
    ));
    // No certificate, or one of another CA: no answer at all, the handshake fails.
    for (who, client) in [("no certificate", None), ("another CA", Some(&stranger))] {
        let result = scrape(addr, &server_ca.certificate, client);
        assert!(result.is_err(), "{who} was served: {result:?}");
    }
    endpoint.shutdown();
}

#[test]
fn a_real_prometheus_scrapes_with_its_client_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let server_ca = TestCa::new(dir.path(), "server");
    let client_ca = TestCa::new(dir.path(), "clients");
    let server = server_ca.issue(dir.path(), "endpoint");
    let prometheus_client = client_ca.issue(dir.path(), "prometheus");
    let endpoint = mtls_server(&server, &client_ca.certificate);
    let target = endpoint.local_addr();

    let prometheus_addr = free_addr();
    let config = format!(
        r#"global:
  scrape_interval: 1s
scrape_configs:
  - job_name: with-certificate
    scheme: https
    tls_config:
      ca_file: {ca}
      cert_file: {cert}
      key_file: {key}
      server_name: localhost
    static_configs:
      - targets: ["{target}"]
  - job_name: without-certificate
    scheme: https
    tls_config:
      ca_file: {ca}
      server_name: localhost
    static_configs:
      - targets: ["{target}"]
"#,
        ca = server_ca.certificate.display(),
        cert = prometheus_client.certificate.display(),
        key = prometheus_client.key.display(),
    );
    let config_path = dir.path().join("prometheus.yml");
    std::fs::write(&config_path, config).unwrap();
    let _prometheus = start_prometheus(prometheus_addr, &config_path, &dir.path().join("data"));

    // (job, value) of each series.
    let query = |promql: &str| -> Vec<(String, f64)> {
        prometheus_query(prometheus_addr, promql)
            .unwrap_or_default()
            .into_iter()
            .map(|s| (s.labels.get("job").cloned().unwrap_or_default(), s.value))
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut up = query("up");
        up.sort_by(|a, b| a.0.cmp(&b.0));
        if up
            == [
                ("with-certificate".to_owned(), 1.0),
                ("without-certificate".to_owned(), 0.0),
            ]
        {
            break;
        }
        assert!(Instant::now() < deadline, "up never settled: {up:?}");
        std::thread::sleep(Duration::from_millis(250));
    }
    let scraped = query(r#"conduit_audio_requests_total{provider="mtls",status="success"}"#);
    assert_eq!(scraped, [("with-certificate".to_owned(), 7.0)]);
    endpoint.shutdown();
}
