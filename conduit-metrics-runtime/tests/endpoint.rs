//! The endpoint over real loopback connections: status codes, caching, gzip, credentials,
//! allowlist, TLS, rate limiting, size limits and slow clients.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{get, http, value};
use conduit_metrics_runtime::limits::HEADER_READ_TIMEOUT;
use conduit_metrics_runtime::registry::Registry;
use conduit_metrics_runtime::serving::{EndpointServer, TEXT_FORMAT_CONTENT_TYPE};
use conduit_metrics_runtime::{MetricsConfig, MetricsConfigBuilder, Operation, Status};

fn registry() -> &'static Registry {
    Box::leak(Box::new(Registry::new(&MetricsConfig::default())))
}

fn on_loopback() -> MetricsConfigBuilder {
    MetricsConfig::builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .cache_expiration(Duration::ZERO)
}

fn serve(registry: &'static Registry, config: MetricsConfigBuilder) -> EndpointServer {
    EndpointServer::start(&config.build().unwrap(), move || registry.render()).unwrap()
}

fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    extra_headers: &str,
) -> (u16, String, String) {
    http(
        addr,
        &format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{extra_headers}Connection: close\r\n\r\n"
        ),
    )
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

#[test]
fn status_codes_and_content_type() {
    let registry = registry();
    registry
        .start_call(Operation::Tts, "openai")
        .finish(Status::Success);
    let server = serve(registry, on_loopback().path("/custom/metrics"));
    let addr = server.local_addr();
    let (status, head, body) = get(addr, "/custom/metrics");
    assert_eq!(status, 200);
    assert_eq!(
        header(&head, "content-type"),
        Some(TEXT_FORMAT_CONTENT_TYPE)
    );
    assert_eq!(
        value(
            &body,
            "conduit_audio_requests_total{operation=\"tts\",provider=\"openai\",status=\"success\"}"
        ),
        1.0
    );
    let (status, head, body) = request(addr, "HEAD", "/custom/metrics", "");
    assert_eq!((status, body.as_str()), (200, ""));
    assert_eq!(
        header(&head, "content-type"),
        Some(TEXT_FORMAT_CONTENT_TYPE)
    );
    assert_eq!(get(addr, "/metrics").0, 404);
    assert_eq!(get(addr, "/").0, 404);
    let (status, _, body) = get(addr, "/health");
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        let (status, head, _) = request(addr, method, "/custom/metrics", "Content-Length: 0\r\n");
        assert_eq!(status, 405, "{method}");
        assert_eq!(header(&head, "allow"), Some("GET, HEAD"));
    }
    server.shutdown();
}

#[test]
fn scrapes_inside_cache_expiration_reuse_one_render() {
    let series =
        "conduit_audio_requests_total{operation=\"tts\",provider=\"cached\",status=\"success\"}";
    let registry = registry();
    registry
        .start_call(Operation::Tts, "cached")
        .finish(Status::Success);
    // Inside CacheExpiration: the second scrape gets the first render, not the new call.
    let long = serve(
        registry,
        on_loopback().cache_expiration(Duration::from_secs(3600)),
    );
    let first = get(long.local_addr(), "/metrics").2;
    registry
        .start_call(Operation::Tts, "cached")
        .finish(Status::Success);
    let second = get(long.local_addr(), "/metrics").2;
    assert_eq!(
        first, second,
        "a scrape inside CacheExpiration rendered again"
    );
    assert_eq!(value(&second, series), 1.0);
    // After it: a new render shows the new data.
    let short = serve(
        registry,
        on_loopback().cache_expiration(Duration::from_millis(200)),
    );
    assert_eq!(value(&get(short.local_addr(), "/metrics").2, series), 2.0);
    registry
        .start_call(Operation::Tts, "cached")
        .finish(Status::Success);
    std::thread::sleep(Duration::from_millis(250));
    assert_eq!(value(&get(short.local_addr(), "/metrics").2, series), 3.0);
}

#[test]
fn gzip_round_trip() {
    let registry = registry();
    registry
        .start_call(Operation::Translation, "deepl")
        .finish(Status::Success);
    let server = serve(registry, on_loopback());
    let addr = server.local_addr();
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .write_all(format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n").as_bytes())
        .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    assert_eq!(header(&head, "content-encoding"), Some("gzip"));
    assert_eq!(header(&head, "vary"), Some("Accept-Encoding"));
    let mut text = String::new();
    flate2::read::GzDecoder::new(&raw[split + 4..])
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, registry.render());
    // Without Accept-Encoding the body is plain.
    let (_, head, body) = get(addr, "/metrics");
    assert_eq!(header(&head, "content-encoding"), None);
    assert_eq!(body, registry.render());
}

#[test]
fn bearer_token_and_basic_auth() {
    let registry = registry();
    let server = serve(registry, on_loopback().bearer_token("s3cret-token"));
    let addr = server.local_addr();
    let (status, head, _) = get(addr, "/metrics");
    assert_eq!(status, 401);
    assert_eq!(
        header(&head, "www-authenticate"),
        Some("Bearer realm=\"metrics\"")
    );
    assert_eq!(
        request(
            addr,
            "GET",
            "/metrics",
            "Authorization: Bearer wrong-token!\r\n"
        )
        .0,
        401
    );
    assert_eq!(
        request(
            addr,
            "GET",
            "/metrics",
            "Authorization: Bearer s3cret-token\r\n"
        )
        .0,
        200
    );
    // Liveness needs no credentials and says nothing.
    assert_eq!(get(addr, "/health").0, 200);

    let server = serve(registry, on_loopback().basic_auth("prometheus", "pa:ss"));
    let addr = server.local_addr();
    let (status, head, _) = get(addr, "/metrics");
    assert_eq!(status, 401);
    assert!(
        header(&head, "www-authenticate")
            .unwrap()
            .starts_with("Basic realm=\"metrics\"")
    );
    // base64("prometheus:pa:ss") and base64("prometheus:wrong")
    assert_eq!(
        request(
            addr,
            "GET",
            "/metrics",
            "Authorization: Basic cHJvbWV0aGV1czpwYTpzcw==\r\n"
        )
        .0,
        200
    );
    assert_eq!(
        request(
            addr,
            "GET",
            "/metrics",
            "Authorization: Basic cHJvbWV0aGV1czp3cm9uZw==\r\n"
        )
        .0,
        401
    );
    assert_eq!(
        request(addr, "GET", "/metrics", "Authorization: Bearer pa:ss\r\n").0,
        401
    );
}

#[test]
fn allowlist_refuses_other_networks() {
    let registry = registry();
    let outside = serve(
        registry,
        on_loopback().allowed_networks(["10.0.0.0/8".parse().unwrap()]),
    );
    assert_eq!(get(outside.local_addr(), "/metrics").0, 403);
    assert_eq!(get(outside.local_addr(), "/health").0, 403);
    let inside = serve(
        registry,
        on_loopback().allowed_networks([
            "10.0.0.0/8".parse().unwrap(),
            "127.0.0.0/8".parse().unwrap(),
        ]),
    );
    assert_eq!(get(inside.local_addr(), "/metrics").0, 200);
}

#[test]
fn rate_limit_answers_429_with_retry_after() {
    let registry = registry();
    let server = serve(registry, on_loopback().rate_limit_per_minute(3));
    let addr = server.local_addr();
    for _ in 0..3 {
        assert_eq!(get(addr, "/metrics").0, 200);
    }
    let (status, head, _) = get(addr, "/metrics");
    assert_eq!(status, 429);
    let retry_after: u64 = header(&head, "retry-after").unwrap().parse().unwrap();
    assert!((1..=20).contains(&retry_after), "{retry_after}");
}

#[test]
fn oversized_headers_are_refused() {
    let registry = registry();
    let server = serve(registry, on_loopback());
    let addr = server.local_addr();
    let huge = format!("X-Filler: {}\r\n", "a".repeat(64 * 1024));
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _ = stream.write_all(format!("GET /metrics HTTP/1.1\r\nHost: x\r\n{huge}\r\n").as_bytes());
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    // The server still answers others.
    assert_eq!(get(addr, "/metrics").0, 200);
}

#[test]
fn slow_clients_are_cut_off() {
    let registry = registry();
    let server = serve(registry, on_loopback());
    let addr = server.local_addr();
    let mut slow = TcpStream::connect(addr).unwrap();
    slow.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let _ = slow.read_to_end(&mut answer);
    // Closed by the header read timeout (5 s): not before it, and not long after.
    assert_closed_by_the_header_timeout(started.elapsed(), "a client sending half a head");
    assert!(!String::from_utf8_lossy(&answer).contains("200 OK"));
    // An idle keep-alive connection is closed too.
    let mut idle = TcpStream::connect(addr).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let started = Instant::now();
    let mut buffer = [0u8; 1];
    let read = idle.read(&mut buffer);
    assert!(matches!(read, Ok(0)) || read.is_err());
    assert_closed_by_the_header_timeout(started.elapsed(), "an idle connection");
}

/// A connection closed by the header read timeout closes after it, give or take the
/// time between the server's accept and the test's clock start (below), or a busy
/// machine's delay (above).
fn assert_closed_by_the_header_timeout(after: Duration, what: &str) {
    let earliest = HEADER_READ_TIMEOUT - Duration::from_millis(500);
    let latest = HEADER_READ_TIMEOUT + Duration::from_secs(3);
    assert!(
        (earliest..=latest).contains(&after),
        "{what} was closed after {after:?}; the header timeout is {HEADER_READ_TIMEOUT:?}"
    );
}

#[test]
fn tls_with_a_certificate_generated_here() {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, certified.cert.pem()).unwrap();
    std::fs::write(&key_path, certified.signing_key.serialize_pem()).unwrap();

    let registry = registry();
    registry
        .start_call(Operation::Tts, "tls")
        .finish(Status::Success);
    let server = serve(registry, on_loopback().tls(&cert_path, &key_path));
    let addr = server.local_addr();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let body = runtime.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        use tokio_rustls::rustls;
        let mut roots = rustls::RootCertStore::empty();
        roots.add(certified.cert.der().clone()).unwrap();
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
        let mut tls = connector.connect(name, tcp).await.unwrap();
        tls.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut raw = Vec::new();
        tls.read_to_end(&mut raw).await.unwrap();
        String::from_utf8(raw).unwrap()
    });
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    assert!(body.contains(
        "conduit_audio_requests_total{operation=\"tts\",provider=\"tls\",status=\"success\"} 1"
    ));
    // Plain HTTP to the TLS port gets no metrics.
    let mut plain = TcpStream::connect(addr).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _ = plain.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut answer = Vec::new();
    let _ = plain.read_to_end(&mut answer);
    assert!(!String::from_utf8_lossy(&answer).contains("conduit_audio"));
}

#[test]
fn startup_errors_are_clear() {
    let registry = registry();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let error = EndpointServer::start(
        &on_loopback().tls(&missing, &missing).build().unwrap(),
        move || registry.render(),
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with(&format!("cannot use TLS file {}", missing.display())),
        "{error}"
    );

    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate").unwrap();
    let error = EndpointServer::start(
        &on_loopback().tls(&garbage, &garbage).build().unwrap(),
        move || registry.render(),
    )
    .unwrap_err();
    assert!(error.to_string().contains("garbage.pem"), "{error}");

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap();
    let error = EndpointServer::start(
        &MetricsConfig::builder().listen(address).build().unwrap(),
        move || registry.render(),
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with(&format!("cannot listen on {address}")),
        "{error}"
    );

    let error = MetricsConfig::builder()
        .option(
            conduit_metrics_runtime::config::ConfigOption::AllowedNetworks,
            "10.0.0.0/8, 300.1.1.1/8",
        )
        .build()
        .unwrap_err();
    assert!(
        error.to_string().starts_with("invalid AllowedNetworks"),
        "{error}"
    );
    assert!(error.to_string().contains("300.1.1.1/8"), "{error}");
}

#[test]
fn head_answers_without_rendering() {
    let renders = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = renders.clone();
    let config = on_loopback().build().unwrap();
    let server = EndpointServer::start(&config, move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        String::from("m 1\n")
    })
    .unwrap();
    let (status, head, body) = request(server.local_addr(), "HEAD", "/metrics", "");
    assert_eq!((status, body.as_str()), (200, ""));
    assert_eq!(
        header(&head, "content-type"),
        Some(TEXT_FORMAT_CONTENT_TYPE)
    );
    assert_eq!(renders.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert_eq!(get(server.local_addr(), "/metrics").2, "m 1\n");
    assert_eq!(renders.load(std::sync::atomic::Ordering::SeqCst), 1);
}
