//! Push over HTTPS with basic auth, against the real Pushgateway behind its own TLS and
//! basic auth (`--web.config.file`), with a CA of the test's making. Each test starts its
//! own gateway; each runs in its own process (nextest), since install is once per process.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::pki::TestCa;
use conduit_metrics_runtime::{MetricsConfig, MetricsConfigBuilder, Operation, PushError, Status};
use conduit_metrics_testkit::{Process, free_addr, spawn};

const USER: &str = "pusher";
const PASSWORD: &str = "correct horse battery staple";

/// A Pushgateway serving HTTPS with `certificate`, requiring basic auth.
struct Gateway {
    _process: Process,
    addr: SocketAddr,
    ca: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

fn gateway() -> Gateway {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new(dir.path(), "push");
    let server = ca.issue(dir.path(), "gateway");
    let hash = bcrypt::hash(PASSWORD, 4).unwrap();
    let web = dir.path().join("web.yml");
    std::fs::write(
        &web,
        format!(
            "tls_server_config:\n  cert_file: {}\n  key_file: {}\nbasic_auth_users:\n  {USER}: {hash}\n",
            server.certificate.display(),
            server.key.display()
        ),
    )
    .unwrap();
    let addr = free_addr();
    let process = spawn(
        "prometheus-pushgateway",
        std::process::Command::new("prometheus-pushgateway")
            .arg(format!("--web.listen-address={addr}"))
            .arg(format!("--web.config.file={}", web.display())),
        "prometheus-pushgateway",
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "the Pushgateway never listened");
        std::thread::sleep(Duration::from_millis(50));
    }
    Gateway {
        _process: process,
        addr,
        ca: ca.certificate,
        _dir: dir,
    }
}

fn push_config(gateway: &Gateway) -> MetricsConfigBuilder {
    MetricsConfig::builder()
        .no_listener()
        // Pushes only when flushed: the test decides when.
        .export_interval(Duration::from_secs(3600))
        .metrics_window(Duration::from_secs(3600))
        .push_gateway(&format!("https://localhost:{}", gateway.addr.port()))
}

/// GET /metrics from the gateway over HTTPS with the credentials (rustls with the test
/// CA, and HTTP/1.1 by hand: nothing of the client under test).
fn gateway_metrics(gateway: &Gateway, ca: &Path) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    let pem = std::fs::read(ca).unwrap();
    for certificate in rustls_pki_types_certs(&pem) {
        roots.add(certificate).unwrap();
    }
    let tls = tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(tls));
    runtime.block_on(async {
        let tcp = tokio::net::TcpStream::connect(gateway.addr).await.unwrap();
        let name = tokio_rustls::rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut stream = connector.connect(name, tcp).await.unwrap();
        use base64_encode as encode;
        let request = format!(
            // HTTP/1.0: the answer comes whole, not in chunks that could split a line.
            "GET /metrics HTTP/1.0\r\nHost: localhost\r\nAuthorization: Basic {}\r\n\r\n",
            encode(&format!("{USER}:{PASSWORD}"))
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer).await;
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let status_line = answer.lines().next().unwrap_or_default();
        assert!(status_line.contains(" 200 "), "{status_line}");
        answer
    })
}

/// Standard base64, for the basic auth header.
fn base64_encode(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn rustls_pki_types_certs(
    pem: &[u8],
) -> Vec<tokio_rustls::rustls::pki_types::CertificateDer<'static>> {
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    tokio_rustls::rustls::pki_types::CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Flushes until the gateway answers (it may still be starting), then returns the result.
fn flush_when_up(handle: &conduit_metrics_runtime::MetricsHandle) -> Result<(), PushError> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match handle.flush() {
            Err(PushError::Unreachable { .. }) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(200));
            }
            other => return other,
        }
    }
}

#[test]
fn pushes_over_https_with_basic_auth_under_the_host_name() {
    let gateway = gateway();
    let handle = push_config(&gateway)
        .push_ca_certificate(&gateway.ca)
        .push_basic_auth(USER, PASSWORD)
        .build()
        .unwrap()
        .install()
        .unwrap();
    for _ in 0..3 {
        conduit_metrics_runtime::start_call(Operation::Tts, "tls-push").finish(Status::Success);
    }
    flush_when_up(&handle).expect("a push over https with basic auth");
    let body = gateway_metrics(&gateway, &gateway.ca);
    let host = hostname();
    let line = body
        .lines()
        .find(|line| {
            line.starts_with("conduit_audio_requests_total{")
                && line.contains("provider=\"tls-push\"")
                && line.contains("status=\"success\"")
        })
        .unwrap_or_else(|| panic!("nothing pushed:\n{body}"));
    assert!(line.ends_with(" 3"), "{line}");
    assert!(line.contains("job=\"conduit_audio\""), "{line}");
    // PushInstance unset: the host name, so replicas push to groups of their own.
    assert!(line.contains(&format!("instance=\"{host}\"")), "{line}");
    handle.shutdown().unwrap();
}

#[test]
fn a_wrong_password_is_refused_with_the_gateways_answer() {
    let gateway = gateway();
    let handle = push_config(&gateway)
        .push_ca_certificate(&gateway.ca)
        .push_basic_auth(USER, "wrong")
        .build()
        .unwrap()
        .install()
        .unwrap();
    let error = flush_when_up(&handle).unwrap_err();
    assert!(
        matches!(&error, PushError::Refused { status_line, .. } if status_line.contains("401")),
        "{error}"
    );
}

#[test]
fn an_untrusted_gateway_certificate_is_not_pushed_to() {
    let gateway = gateway();
    // No CA given: the test CA is in no system store.
    let handle = push_config(&gateway)
        .push_basic_auth(USER, PASSWORD)
        .build()
        .unwrap()
        .install()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let error = loop {
        let error = handle.flush().unwrap_err();
        let text = format!("{error:?}");
        if text.to_ascii_lowercase().contains("certificate") || Instant::now() > deadline {
            break error;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(matches!(error, PushError::Unreachable { .. }), "{error}");
    assert!(
        format!("{error:?}")
            .to_ascii_lowercase()
            .contains("certificate"),
        "{error:?}"
    );
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_owned()
}
