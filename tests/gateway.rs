//! The audio gateway example's service, started in-process on ephemeral ports: real HTTP
//! and WebSocket requests, and the exact counter deltas they cause, including a failing
//! and a cancelled (client disconnected) request.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

mod common;

use common::{post, sample, send, value};
use conduit_metrics::gateway::{self, GatewayOptions};
use conduit_metrics_runtime::{MetricsConfig, MetricsHandle};
use futures_util::{SinkExt, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::Message;

async fn scrape(metrics: SocketAddr) -> String {
    let head = format!("GET /metrics HTTP/1.1\r\nHost: {metrics}\r\nConnection: close\r\n\r\n");
    String::from_utf8(send(metrics, &head, b"").await.2).unwrap()
}

/// The change of each series between two scrapes.
fn delta(before: &str, after: &str, series: &str) -> f64 {
    // A series first recorded between the scrapes is absent before.
    value(after, series) - sample(before, series).unwrap_or(0.0)
}

fn requests(operation: &str, provider: &str, status: &str) -> String {
    format!(
        "conduit_audio_requests_total{{operation=\"{operation}\",provider=\"{provider}\",status=\"{status}\"}}"
    )
}

/// The metrics endpoint and the gateway on ephemeral ports, with no latency and no
/// random failures, so every count is known.
async fn start() -> (MetricsHandle, SocketAddr, gateway::RunningGateway) {
    let metrics = MetricsConfig::builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .cache_expiration(Duration::ZERO)
        .build()
        .unwrap()
        .install()
        .unwrap();
    let metrics_addr = metrics.local_addr().unwrap();
    let running = gateway::start(GatewayOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        latency_scale: 0.0,
        realtime_idle_timeout: Duration::from_secs(30),
        random_failures: false,
    })
    .await
    .unwrap();
    (metrics, metrics_addr, running)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_requests_cause_exact_counter_deltas() {
    let (metrics, metrics_addr, running) = start().await;
    let api = running.addr;
    let before = scrape(metrics_addr).await;

    // A raw-body transcription that succeeds.
    let audio = vec![0u8; 64_000];
    let (status, _, body) = post(
        api,
        "/v1/audio/transcriptions?provider=deepgram",
        "Content-Type: audio/wav\r\n",
        &audio,
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["provider"], "deepgram");

    // A multipart transcription that times out at the provider: 504 and status="timeout".
    let boundary = "conduit-boundary";
    let mut form = Vec::new();
    form.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"provider\"\r\n\r\ndeepgram\r\n"
        )
        .as_bytes(),
    );
    form.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\n").as_bytes());
    form.extend_from_slice(&[0u8; 2048]);
    form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let headers = format!(
        "Content-Type: multipart/form-data; boundary={boundary}\r\nX-Simulate-Failure: timeout\r\n"
    );
    let (status, _, _) = post(api, "/v1/audio/transcriptions", &headers, &form).await;
    assert_eq!(status, 504);

    // The same speech twice: a miss, then a hit from the response cache.
    let speech = br#"{"model":"tts-1","input":"Hello from the test","voice":"nova","provider":"elevenlabs"}"#;
    let (status, head, wav) = post(
        api,
        "/v1/audio/speech",
        "Content-Type: application/json\r\n",
        speech,
    )
    .await;
    assert_eq!(status, 200);
    assert!(head.to_ascii_lowercase().contains("x-cache: miss"));
    assert_eq!(&wav[..4], b"RIFF");
    let (status, head, _) = post(
        api,
        "/v1/audio/speech",
        "Content-Type: application/json\r\n",
        speech,
    )
    .await;
    assert_eq!(status, 200);
    assert!(head.to_ascii_lowercase().contains("x-cache: hit"));
    // A rate-limited speech request: 429 with Retry-After.
    let (status, head, _) = post(
        api,
        "/v1/audio/speech",
        "Content-Type: application/json\r\nX-Simulate-Failure: rate_limited\r\n",
        speech,
    )
    .await;
    assert_eq!(status, 429);
    assert!(head.to_ascii_lowercase().contains("retry-after: 1"));
    // Bad input never reaches a provider.
    let (status, _, _) = post(
        api,
        "/v1/audio/speech",
        "Content-Type: application/json\r\n",
        b"{\"voice\":1}",
    )
    .await;
    assert_eq!(status, 400);
    let (status, _, _) = post(api, "/v1/audio/transcriptions?provider=nobody", "", b"x").await;
    assert_eq!(status, 400);

    // A realtime session of two turns, closed by the client.
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{api}/v1/realtime?provider=openai"))
            .await
            .unwrap();
    for turn in ["hello", "how are you"] {
        let message = serde_json::json!({"type": "input_text", "text": turn}).to_string();
        socket.send(Message::Text(message.into())).await.unwrap();
        let Some(Ok(Message::Text(reply))) = socket.next().await else {
            panic!("no reply")
        };
        let reply: serde_json::Value = serde_json::from_str(&reply).unwrap();
        assert_eq!(reply["type"], "response.text");
    }
    socket.close(None).await.unwrap();
    while socket.next().await.is_some() {}

    // A slow transcription whose client disconnects: the handler is dropped, "cancelled".
    let mut stream = tokio::net::TcpStream::connect(api).await.unwrap();
    let head = format!(
        "POST /v1/audio/transcriptions?provider=azure HTTP/1.1\r\nHost: {api}\r\nX-Simulate-Latency-Ms: 20000\r\nContent-Length: 100\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&[0u8; 100]).await.unwrap();
    let active = "conduit_audio_active_operations{operation=\"transcription\"}";
    let deadline = Instant::now() + Duration::from_secs(10);
    while value(&scrape(metrics_addr).await, active) < 1.0 {
        assert!(Instant::now() < deadline, "the slow call never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(stream);
    let cancelled = requests("transcription", "azure", "cancelled");
    let deadline = Instant::now() + Duration::from_secs(10);
    while delta(&before, &scrape(metrics_addr).await, &cancelled) < 1.0 {
        assert!(
            Instant::now() < deadline,
            "the disconnected request was not recorded as cancelled"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let after = scrape(metrics_addr).await;
    let d = |series: &str| delta(&before, &after, series);
    assert_eq!(d(&requests("transcription", "deepgram", "success")), 1.0);
    assert_eq!(d(&requests("transcription", "deepgram", "timeout")), 1.0);
    assert_eq!(d(&requests("tts", "elevenlabs", "success")), 2.0);
    assert_eq!(d(&requests("tts", "elevenlabs", "rate_limited")), 1.0);
    assert_eq!(d(&requests("realtime", "openai", "success")), 1.0);
    assert_eq!(d(&requests("transcription", "azure", "cancelled")), 1.0);
    assert_eq!(d(&requests("transcription", "azure", "success")), 0.0);
    assert_eq!(
        d(
            "conduit_audio_request_size_bytes_count{operation=\"transcription\",provider=\"deepgram\"}"
        ),
        2.0
    );
    assert_eq!(
        d(
            "conduit_audio_request_size_bytes_bucket{operation=\"transcription\",provider=\"deepgram\",le=\"10240\"}"
        ),
        1.0
    );
    assert_eq!(
        d(
            "conduit_audio_request_duration_seconds_count{operation=\"transcription\",provider=\"azure\"}"
        ),
        0.0
    );
    assert_eq!(
        d("conduit_audio_cache_lookups_total{operation=\"tts\",result=\"hit\"}"),
        1.0
    );
    assert_eq!(
        d("conduit_audio_cache_lookups_total{operation=\"tts\",result=\"miss\"}"),
        1.0
    );
    assert_eq!(
        d(
            "conduit_audio_realtime_sessions_total{provider=\"openai\",disconnect_reason=\"client_disconnect\"}"
        ),
        1.0
    );
    assert_eq!(
        d("conduit_audio_realtime_latency_seconds_count{provider=\"openai\"}"),
        2.0
    );
    assert_eq!(
        d("conduit_audio_realtime_duration_seconds_count{provider=\"openai\"}"),
        1.0
    );
    assert!(d("conduit_audio_cost_dollars{operation=\"transcription\"}") > 0.0);
    assert_eq!(value(&after, active), 0.0);
    assert_eq!(
        value(
            &after,
            "conduit_audio_active_operations{resource=\"websocket_connections\"}"
        ),
        0.0
    );

    running.shutdown().await.unwrap();
    metrics.shutdown().unwrap();
}

/// The `elevenlabs` client speaks real HTTP (reqwest) to a simulated provider API: its
/// timeouts, 429s, 503s, 400s and 500s are `reqwest::Error`s, and each is counted under
/// the status the runtime gives it (through `#[audio_status(transparent)]`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_client_errors_are_counted_by_what_the_client_saw() {
    let (metrics, metrics_addr, running) = start().await;
    let before = scrape(metrics_addr).await;
    for (failure, expected_http) in [
        ("", 200),
        ("timeout", 504),
        ("rate_limited", 429),
        ("unavailable", 503),
        ("invalid", 400),
        ("error", 502),
    ] {
        let headers = if failure.is_empty() {
            "Content-Type: application/json\r\n".to_owned()
        } else {
            format!("Content-Type: application/json\r\nX-Simulate-Failure: {failure}\r\n")
        };
        let body =
            format!(r#"{{"input":"over http {failure}","voice":"nova","provider":"elevenlabs"}}"#);
        let (status, _, answer) =
            post(running.addr, "/v1/audio/speech", &headers, body.as_bytes()).await;
        assert_eq!(
            status,
            expected_http,
            "{failure}: {}",
            String::from_utf8_lossy(&answer)
        );
        if failure.is_empty() {
            assert_eq!(&answer[..4], b"RIFF");
        }
    }
    let after = scrape(metrics_addr).await;
    let d = |status: &str| delta(&before, &after, &requests("tts", "elevenlabs", status));
    for status in [
        "success",
        "timeout",
        "rate_limited",
        "provider_unavailable",
        "invalid_request",
        "error",
    ] {
        assert_eq!(d(status), 1.0, "{status}");
    }
    running.shutdown().await.unwrap();
    metrics.shutdown().unwrap();
}
