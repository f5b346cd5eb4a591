//! The endpoint mounted into the application's own axum server, with the same lock-down.

mod common;

use std::net::SocketAddr;

use common::{http, value};
use conduit_metrics_runtime::axum::{self, Router, routing::get};
use conduit_metrics_runtime::{MetricsConfig, Operation, Status};

fn scrape(addr: SocketAddr, path: &str, token: Option<&str>) -> (u16, String) {
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let (status, _, body) = http(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"),
    );
    (status, body)
}

/// A request's response as it came: its head as text, its body as bytes.
fn raw(addr: SocketAddr, request: &str) -> (String, Vec<u8>) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    (
        String::from_utf8_lossy(&response[..split]).into_owned(),
        response[split + 4..].to_vec(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mounted_router_serves_with_the_same_lock_down() {
    let handle = MetricsConfig::builder()
        .no_listener()
        .bearer_token("mounted-secret")
        .allowed_networks(["127.0.0.0/8".parse().unwrap()])
        .build()
        .unwrap()
        .install()
        .unwrap();
    assert_eq!(handle.local_addr(), None);
    conduit_metrics_runtime::start_call(Operation::Tts, "mounted").finish(Status::Success);

    let app = Router::new()
        .route("/v1/ping", get(|| async { "pong" }))
        .merge(handle.router())
        .nest("/internal", handle.router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });

    let (status, body) =
        tokio::task::spawn_blocking(move || scrape(addr, "/metrics", Some("mounted-secret")))
            .await
            .unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        value(
            &body,
            "conduit_audio_requests_total{operation=\"tts\",provider=\"mounted\",status=\"success\"}"
        ),
        1.0
    );
    // The router negotiates the format as the built-in server does.
    let (status, head, body) = tokio::task::spawn_blocking(move || {
        http(
            addr,
            &format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer mounted-secret\r\nAccept: application/openmetrics-text;version=1.0.0\r\nConnection: close\r\n\r\n"),
        )
    })
    .await
    .unwrap();
    assert_eq!(status, 200);
    assert!(
        head.contains("application/openmetrics-text; version=1.0.0"),
        "{head}"
    );
    assert!(body.ends_with("# EOF\n"));
    // And gives protobuf to Prometheus with native histograms on.
    let (head, body) = tokio::task::spawn_blocking(move || {
        raw(
            addr,
            &format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer mounted-secret\r\nAccept: application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,text/plain;version=0.0.4;q=0.5\r\nConnection: close\r\n\r\n"),
        )
    })
    .await
    .unwrap();
    let head = head.to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(
        head.contains(&format!(
            "content-type: {}",
            conduit_metrics_runtime::serving::PROTOBUF_CONTENT_TYPE.to_ascii_lowercase()
        )),
        "{head}"
    );
    assert!(head.contains("vary: accept"), "{head}");
    let families = conduit_metrics_testkit::python_protobuf_families(&body).unwrap();
    assert!(
        families
            .as_array()
            .unwrap()
            .iter()
            .any(|family| family["name"] == "conduit_audio_requests_total"),
        "{families}"
    );
    let results = tokio::task::spawn_blocking(move || {
        [
            scrape(addr, "/metrics", None).0,
            scrape(addr, "/metrics", Some("wrong")).0,
            scrape(addr, "/internal/metrics", Some("mounted-secret")).0,
            scrape(addr, "/v1/ping", None).0,
            http(
                addr,
                &format!("DELETE /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
            )
            .0,
        ]
    })
    .await
    .unwrap();
    assert_eq!(results, [401, 401, 200, 200, 405]);

    // Served without ConnectInfo the client address is unknown: the allowlist refuses.
    let blind = Router::new().merge(handle.router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let blind_addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, blind).await.unwrap() });
    let status = tokio::task::spawn_blocking(move || {
        scrape(blind_addr, "/metrics", Some("mounted-secret")).0
    })
    .await
    .unwrap();
    assert_eq!(status, 403);
}
