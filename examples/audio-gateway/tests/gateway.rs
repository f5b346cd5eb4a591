//! The audio gateway demo's service, started in-process on ephemeral ports: real HTTP
//! and WebSocket requests, and the exact counter deltas they cause, including a failing
//! and a cancelled (client disconnected) request.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use audio_gateway::providers::wav_of_silence;
use audio_gateway::{self as gateway, GatewayOptions};
use conduit_metrics_runtime::{MetricsConfig, MetricsHandle};
use conduit_metrics_testkit::client::{post, send};
use conduit_metrics_testkit::{pair_series, requests_series as requests, sample, value};
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

/// The metrics endpoint and the gateway on ephemeral ports, with no latency and no
/// random failures, so every count is known.
async fn start() -> (MetricsHandle, SocketAddr, gateway::RunningGateway) {
    start_with_latency(0.0).await
}

/// [`start`] with the simulated latencies scaled by `latency_scale`.
async fn start_with_latency(
    latency_scale: f64,
) -> (MetricsHandle, SocketAddr, gateway::RunningGateway) {
    start_with(MetricsConfig::builder(), latency_scale).await
}

/// [`start_with_latency`] with the metrics configured by `config` first.
async fn start_with(
    config: conduit_metrics_runtime::MetricsConfigBuilder,
    latency_scale: f64,
) -> (MetricsHandle, SocketAddr, gateway::RunningGateway) {
    let metrics = config
        .listen("127.0.0.1:0".parse().unwrap())
        .cache_expiration(Duration::ZERO)
        .build()
        .unwrap()
        .install()
        .unwrap();
    let metrics_addr = metrics.local_addr().unwrap();
    let running = gateway::start(GatewayOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        latency_scale,
        realtime_idle_timeout: Duration::from_secs(30),
        random_failures: false,
        admin: true,
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

    // A raw-body transcription that succeeds: a WAV of 2 s.
    let audio = wav_of_silence(64_000);
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
    let speech = br#"{"model":"eleven_flash_v2_5","input":"Hello from the test","voice":"nova","provider":"elevenlabs"}"#;
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
    // The WAV's 2 s, from its header (the timed-out call added none).
    assert_eq!(
        d(&pair_series(
            "conduit_audio_audio_seconds_total",
            "transcription",
            "deepgram"
        )),
        2.0
    );
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

/// A streamed response read to its end (or to where the server cut it): the head, the
/// body's chunks decoded, and whether the body ended properly (the zero-size chunk).
struct Streamed {
    status: u16,
    head: String,
    body: Vec<u8>,
    complete: bool,
}

fn decode_chunked(raw: &[u8]) -> Streamed {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let mut rest = &raw[split + 4..];
    let mut body = Vec::new();
    let mut complete = false;
    while let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).unwrap().trim(), 16)
                .unwrap();
        if size == 0 {
            complete = true;
            break;
        }
        let start = line_end + 2;
        if rest.len() < start + size + 2 {
            break;
        }
        body.extend_from_slice(&rest[start..start + size]);
        rest = &rest[start + size + 2..];
    }
    Streamed {
        status,
        head,
        body,
        complete,
    }
}

async fn post_streamed(api: SocketAddr, path: &str, headers: &str, body: &[u8]) -> Streamed {
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {api}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(api).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut raw = Vec::new();
    // A body cut short ends in a reset or an early close; both end the read.
    let _ = tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut raw).await;
    decode_chunked(&raw)
}

/// Streamed speech (chunked PCM) and streamed transcription (Server-Sent Events): exact
/// deltas for a full stream, a stream that fails midway, and a client that disconnects
/// mid-stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_calls_cause_exact_deltas() {
    let (metrics, metrics_addr, running) = start().await;
    let api = running.addr;
    let before = scrape(metrics_addr).await;
    let json = "Content-Type: application/json\r\n";

    // A full stream: 21 characters make 1.4 s of audio, 14 chunks of 100 ms, each 100 ms
    // apart, so the first byte comes well before the end.
    let speech = br#"{"input":"Hello streaming world","provider":"openai","stream":true}"#;
    let full = post_streamed(
        api,
        "/v1/audio/speech",
        &format!("{json}X-Simulate-Latency-Ms: 100\r\n"),
        speech,
    )
    .await;
    assert_eq!(full.status, 200, "{}", full.head);
    assert!(
        full.head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
    );
    assert!(full.complete);
    assert_eq!(full.body.len(), 14 * 3200);

    // Fails after 3 chunks: the body is cut short; the call is an error.
    let speech = br#"{"input":"Hello streaming world","provider":"azure","stream":true}"#;
    let failed = post_streamed(
        api,
        "/v1/audio/speech",
        &format!("{json}X-Simulate-Fail-After-Chunks: 3\r\nX-Simulate-Failure: error\r\n"),
        speech,
    )
    .await;
    assert_eq!(failed.status, 200);
    assert!(
        !failed.complete,
        "a failed stream must not end like a whole one"
    );
    assert!(failed.body.len() <= 3 * 3200);

    // The client leaves after the first chunk of a 3.3 s stream.
    let input = "x".repeat(100);
    let body = format!(r#"{{"input":"{input}","provider":"deepgram","stream":true}}"#);
    let mut stream = tokio::net::TcpStream::connect(api).await.unwrap();
    let head = format!(
        "POST /v1/audio/speech HTTP/1.1\r\nHost: {api}\r\n{json}X-Simulate-Latency-Ms: 50\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let mut buffer = [0u8; 8192];
    while received.len() < 3200 {
        let read = tokio::io::AsyncReadExt::read(&mut stream, &mut buffer)
            .await
            .unwrap();
        assert!(read > 0, "the stream ended before its first chunk");
        received.extend_from_slice(&buffer[..read]);
    }
    drop(stream);
    let cancelled = requests("tts", "deepgram", "cancelled");
    let deadline = Instant::now() + Duration::from_secs(10);
    while delta(&before, &scrape(metrics_addr).await, &cancelled) < 1.0 {
        assert!(
            Instant::now() < deadline,
            "the disconnected stream was not recorded as cancelled"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Streamed transcription: a WAV of 2 s (16 kHz mono), one partial a second, then the
    // whole text.
    let sse = post_streamed(
        api,
        "/v1/audio/transcriptions?provider=deepgram&stream=true",
        "Content-Type: audio/wav\r\n",
        &wav_of_silence(64_000),
    )
    .await;
    assert_eq!(sse.status, 200);
    assert!(
        sse.head
            .to_ascii_lowercase()
            .contains("content-type: text/event-stream")
    );
    let events: Vec<serde_json::Value> = String::from_utf8(sse.body)
        .unwrap()
        .split("\n\n")
        .filter_map(|event| event.strip_prefix("data: "))
        .map(|data| serde_json::from_str(data).unwrap())
        .collect();
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "transcript.text.delta",
            "transcript.text.delta",
            "transcript.text.done"
        ]
    );
    assert_eq!(
        events[2]["text"],
        "[deepgram segment 1] [deepgram segment 2]"
    );

    // Streamed transcription failing after one partial: an error event ends it.
    let sse = post_streamed(
        api,
        "/v1/audio/transcriptions?provider=azure&stream=true",
        "Content-Type: audio/wav\r\nX-Simulate-Fail-After-Chunks: 1\r\nX-Simulate-Failure: rate_limited\r\n",
        &wav_of_silence(96_000),
    )
    .await;
    let text = String::from_utf8(sse.body).unwrap();
    assert!(sse.complete);
    assert_eq!(text.matches("transcript.text.delta").count(), 1, "{text}");
    assert!(text.contains(r#""type":"error""#), "{text}");
    assert!(!text.contains("transcript.text.done"), "{text}");

    let after = scrape(metrics_addr).await;
    let d = |series: &str| delta(&before, &after, series);
    // The full stream.
    assert_eq!(d(&requests("tts", "openai", "success")), 1.0);
    let first_byte = |operation: &str, provider: &str| {
        d(&pair_series(
            "conduit_audio_time_to_first_byte_seconds_count",
            operation,
            provider,
        ))
    };
    assert_eq!(first_byte("tts", "openai"), 1.0);
    let first_byte_sum = d(&pair_series(
        "conduit_audio_time_to_first_byte_seconds_sum",
        "tts",
        "openai",
    ));
    let duration_sum = d(&pair_series(
        "conduit_audio_request_duration_seconds_sum",
        "tts",
        "openai",
    ));
    assert!(first_byte_sum >= 0.1, "{first_byte_sum}");
    // 13 more chunks 100 ms apart after the first.
    assert!(
        duration_sum - first_byte_sum >= 1.3,
        "{duration_sum} {first_byte_sum}"
    );
    assert_eq!(
        d(&pair_series(
            "conduit_audio_characters_total",
            "tts",
            "openai"
        )),
        21.0
    );
    assert_eq!(
        d(&pair_series(
            "conduit_audio_audio_seconds_total",
            "tts",
            "openai"
        )),
        1.4
    );
    assert_eq!(
        d(&pair_series(
            "conduit_audio_request_size_bytes_sum",
            "tts",
            "openai"
        )),
        44_800.0
    );
    // The stream that failed midway: an error, timed, with the 3 chunks it sent.
    assert_eq!(d(&requests("tts", "azure", "error")), 1.0);
    assert_eq!(d(&requests("tts", "azure", "success")), 0.0);
    assert_eq!(first_byte("tts", "azure"), 1.0);
    assert_eq!(
        d(&pair_series(
            "conduit_audio_request_duration_seconds_count",
            "tts",
            "azure"
        )),
        1.0
    );
    assert_eq!(
        d(&pair_series(
            "conduit_audio_request_size_bytes_sum",
            "tts",
            "azure"
        )),
        9_600.0
    );
    // The client that left: cancelled, its first byte kept, no duration.
    assert_eq!(d(&requests("tts", "deepgram", "cancelled")), 1.0);
    assert_eq!(d(&requests("tts", "deepgram", "success")), 0.0);
    assert_eq!(first_byte("tts", "deepgram"), 1.0);
    assert_eq!(
        d(&pair_series(
            "conduit_audio_request_duration_seconds_count",
            "tts",
            "deepgram"
        )),
        0.0
    );
    assert_eq!(
        value(&after, "conduit_audio_active_operations{operation=\"tts\"}"),
        0.0
    );
    // Streamed transcriptions.
    assert_eq!(d(&requests("transcription", "deepgram", "success")), 1.0);
    assert_eq!(first_byte("transcription", "deepgram"), 1.0);
    assert_eq!(
        d(&pair_series(
            "conduit_audio_audio_seconds_total",
            "transcription",
            "deepgram"
        )),
        2.0
    );
    assert_eq!(
        d(&pair_series(
            "conduit_audio_request_size_bytes_sum",
            "transcription",
            "deepgram"
        )),
        64_044.0
    );
    assert_eq!(d(&requests("transcription", "azure", "rate_limited")), 1.0);
    assert_eq!(d(&requests("transcription", "azure", "cancelled")), 0.0);

    running.shutdown().await.unwrap();
    metrics.shutdown().unwrap();
}

/// With `admin`, `PUT /admin/providers/{name}/outage` makes every call to the provider
/// fail (and its health checks) until `DELETE` lifts it; without `admin` the route does
/// not exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_ordered_through_the_admin_api_lasts_until_lifted() {
    let (metrics, metrics_addr, running) = start().await;
    let api = running.addr;
    let before = scrape(metrics_addr).await;
    let outage = "/admin/providers/azure/outage";
    let (status, _, body) = send(
        api,
        &format!("PUT {outage}?failure=unavailable HTTP/1.1\r\nHost: {api}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        b"",
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let azure = running.gateway.route(Some("azure")).unwrap();
    assert!(!azure.health().await, "health checks fail during an outage");
    let transcribe = || {
        post(
            api,
            "/v1/audio/transcriptions?provider=azure",
            "Content-Type: audio/wav\r\n",
            &[0u8; 3200],
        )
    };
    assert_eq!(transcribe().await.0, 503);
    let streamed = br#"{"input":"hi","provider":"azure","stream":true}"#;
    let json = "Content-Type: application/json\r\n";
    assert_eq!(post(api, "/v1/audio/speech", json, streamed).await.0, 503);

    let (status, _, _) = send(
        api,
        &format!("DELETE {outage} HTTP/1.1\r\nHost: {api}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        b"",
    )
    .await;
    assert_eq!(status, 200);
    assert!(azure.health().await);
    assert_eq!(transcribe().await.0, 200);

    let after = scrape(metrics_addr).await;
    let d = |series: &str| delta(&before, &after, series);
    assert_eq!(
        d(&requests("transcription", "azure", "provider_unavailable")),
        1.0
    );
    assert_eq!(d(&requests("tts", "azure", "provider_unavailable")), 1.0);
    assert_eq!(d(&requests("transcription", "azure", "success")), 1.0);
    running.shutdown().await.unwrap();

    // Without `admin`, no such route.
    let closed = gateway::start(GatewayOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        latency_scale: 0.0,
        realtime_idle_timeout: Duration::from_secs(30),
        random_failures: false,
        admin: false,
    })
    .await
    .unwrap();
    let addr = closed.addr;
    let (status, _, _) = send(
        addr,
        &format!("PUT {outage} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        b"",
    )
    .await;
    assert_eq!(status, 404);
    closed.shutdown().await.unwrap();
    metrics.shutdown().unwrap();
}

/// A request with a W3C `traceparent` is served in a child span of that trace: its calls
/// leave the trace id (and the gateway's own span id) as exemplars; a request without one
/// leaves none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_traceparent_continues_into_the_exemplars_of_the_calls_it_makes() {
    let (metrics, _, running) = start().await;
    let api = running.addr;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let (status, _, _) = post(
        api,
        "/v1/audio/transcriptions?provider=openai",
        &format!("Content-Type: audio/wav\r\ntraceparent: 00-{trace_id}-{caller_span}-01\r\n"),
        &[0u8; 3200],
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, _) = post(
        api,
        "/v1/audio/transcriptions?provider=deepgram",
        "Content-Type: audio/wav\r\n",
        &[0u8; 3200],
    )
    .await;
    assert_eq!(status, 200);
    let text =
        metrics.render_format(conduit_metrics_runtime::serving::ExpositionFormat::OpenMetrics);
    let exemplar_lines = |provider: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with("conduit_audio_request_duration_seconds_bucket{"))
            .filter(|l| l.contains(&format!("provider=\"{provider}\"")) && l.contains(" # "))
            .map(str::to_owned)
            .collect()
    };
    let traced = exemplar_lines("openai");
    assert_eq!(traced.len(), 1, "{text}");
    assert!(
        traced[0].contains(&format!("trace_id=\"{trace_id}\"")),
        "{}",
        traced[0]
    );
    // The gateway's own span, a child of the caller's.
    assert!(!traced[0].contains(caller_span), "{}", traced[0]);
    assert!(exemplar_lines("deepgram").is_empty());
    running.shutdown().await.unwrap();
    metrics.shutdown().unwrap();
}

/// A realtime session opened with a `traceparent` keeps that trace for every turn: the
/// turn latencies' exemplars carry it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_realtime_session_keeps_the_trace_of_its_upgrade_request() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
    let (metrics, _, running) = start().await;
    let trace_id = "0af7651916cd43dd8448eb211c80319c";
    let mut request = format!("ws://{}/v1/realtime?provider=azure", running.addr)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "traceparent",
        format!("00-{trace_id}-b7ad6b7169203331-01")
            .parse()
            .unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    for turn in ["hello", "again"] {
        let message = serde_json::json!({"type": "input_text", "text": turn}).to_string();
        socket.send(Message::Text(message.into())).await.unwrap();
        assert!(matches!(socket.next().await, Some(Ok(Message::Text(_)))));
    }
    socket.close(None).await.unwrap();
    while socket.next().await.is_some() {}
    let text =
        metrics.render_format(conduit_metrics_runtime::serving::ExpositionFormat::OpenMetrics);
    let traced: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.starts_with("conduit_audio_realtime_latency_seconds_bucket{provider=\"azure\"")
        })
        .filter(|l| l.contains(" # "))
        .collect();
    assert_eq!(traced.len(), 1, "{text}");
    assert!(
        traced[0].contains(&format!("trace_id=\"{trace_id}\"")),
        "{}",
        traced[0]
    );
    running.shutdown().await.unwrap();
    metrics.shutdown().unwrap();
}

/// The realtime WebSocket speaks in voice turns: a reply talked over with audio is
/// interrupted, one played to its end answered, and one the user hangs up on before the
/// answer abandoned; each answered or interrupted turn has all four stages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn realtime_turns_are_answered_interrupted_or_abandoned_as_the_user_acts() {
    // The demo's own latencies: stages of a few hundred milliseconds, and a reply that
    // plays for 400 ms, a window a loaded machine still answers within.
    let (_metrics, metrics_addr, running) = start_with_latency(1.0).await;
    let before = scrape(metrics_addr).await;
    let (mut socket, _) = tokio_tungstenite::connect_async(format!(
        "ws://{}/v1/realtime?provider=openai",
        running.addr
    ))
    .await
    .unwrap();
    let text = |words: &str| {
        Message::Text(
            serde_json::json!({"type": "input_text", "text": words})
                .to_string()
                .into(),
        )
    };
    socket.send(text("hello")).await.unwrap();
    assert!(matches!(socket.next().await, Some(Ok(Message::Text(_)))));
    // Audio while the reply plays: barge-in, and the next turn's utterance.
    socket
        .send(Message::Binary(vec![0u8; 640].into()))
        .await
        .unwrap();
    assert!(matches!(socket.next().await, Some(Ok(Message::Text(_)))));
    // This reply plays to its end.
    tokio::time::sleep(Duration::from_millis(900)).await;
    // A question the user hangs up on.
    socket.send(text("never mind")).await.unwrap();
    socket.close(None).await.unwrap();
    while socket.next().await.is_some() {}
    // The session ends when the server sees the close.
    let mut after = scrape(metrics_addr).await;
    for _ in 0..50 {
        if sample(
            &after,
            "conduit_audio_turns_total{provider=\"openai\",outcome=\"abandoned\"}",
        )
        .is_some()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        after = scrape(metrics_addr).await;
    }
    let d = |series: &str| delta(&before, &after, series);
    for (outcome, count) in [("answered", 1.0), ("interrupted", 1.0), ("abandoned", 1.0)] {
        assert_eq!(
            d(&format!(
                "conduit_audio_turns_total{{provider=\"openai\",outcome=\"{outcome}\"}}"
            )),
            count,
            "{outcome}"
        );
    }
    for stage in ["end_of_turn", "transcription", "response", "synthesis"] {
        assert_eq!(
            d(&format!(
                "conduit_audio_turn_stage_seconds_count{{provider=\"openai\",stage=\"{stage}\"}}"
            )),
            2.0,
            "{stage}"
        );
    }
    // The whole turns, in the guide's family: speech end to first audio, at least the
    // three stages around the response (about 470 ms at their medians).
    assert_eq!(
        d("conduit_audio_realtime_latency_seconds_count{provider=\"openai\"}"),
        2.0
    );
    assert!(d("conduit_audio_realtime_latency_seconds_sum{provider=\"openai\"}") > 0.2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_call_is_counted_under_the_model_it_asked_for() {
    let config = MetricsConfig::builder().model_label(true);
    let (metrics, metrics_addr, running) = start_with(config, 0.0).await;
    let api = running.addr;
    let before = scrape(metrics_addr).await;
    let json = "Content-Type: application/json\r\n";

    // A model by name, with and without its provider; a provider's default model.
    let (status, _, body) = post(
        api,
        "/v1/audio/transcriptions?provider=openai&model=whisper-1",
        "Content-Type: audio/wav\r\n",
        &[0u8; 32_000],
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (answer["provider"].as_str(), answer["model"].as_str()),
        (Some("openai"), Some("whisper-1"))
    );
    let (status, _, body) = post(
        api,
        "/v1/audio/transcriptions?model=nova-2",
        "",
        &[0u8; 32_000],
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(answer["provider"], "deepgram");
    let (status, _, _) = post(
        api,
        "/v1/audio/translations?provider=deepgram",
        "",
        &[0u8; 16_000],
    )
    .await;
    assert_eq!(status, 200);
    let (status, head, _) = post(
        api,
        "/v1/audio/speech",
        json,
        br#"{"model":"tts-1-hd","input":"Hi there","voice":"nova"}"#,
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        head.to_ascii_lowercase().contains("x-model: tts-1-hd"),
        "{head}"
    );
    let (status, _, _) = post(
        api,
        "/v1/audio/speech",
        json,
        br#"{"model":"tts-1","input":"Streamed","stream":true}"#,
    )
    .await;
    assert_eq!(status, 200);
    // A model the provider does not serve, and one nobody serves: 400s that name it, and
    // no call is recorded.
    let (status, _, body) = post(
        api,
        "/v1/audio/speech",
        json,
        br#"{"model":"tts-1","provider":"deepgram","input":"x"}"#,
    )
    .await;
    assert_eq!(status, 400);
    let body = String::from_utf8_lossy(&body);
    assert!(
        body.contains(
            "model `tts-1` is not served by deepgram for speech; it serves aura-2 and aura-1"
        ),
        "{body}"
    );
    let (status, _, body) = post(
        api,
        "/v1/audio/speech",
        json,
        br#"{"model":"tts-9","input":"x"}"#,
    )
    .await;
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("no provider serves model `tts-9`"));

    // A realtime session on the smaller model, one turn.
    let url = format!("ws://{api}/v1/realtime?provider=openai&model=gpt-4o-mini-realtime-preview");
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let message = serde_json::json!({"type": "input_text", "text": "hello"}).to_string();
    socket.send(Message::Text(message.into())).await.unwrap();
    let Some(Ok(Message::Text(_))) = socket.next().await else {
        panic!("no reply")
    };
    socket.close(None).await.unwrap();
    while socket.next().await.is_some() {}

    let after = wait_for(metrics_addr, |text| {
        sample(text, r#"conduit_audio_requests_total{operation="realtime",provider="openai",model="gpt-4o-mini-realtime-preview",status="success"}"#) == Some(1.0)
    })
    .await;
    let d = |series: &str| delta(&before, &after, series);
    let calls = |operation: &str, provider: &str, model: &str| {
        d(&format!(
            r#"conduit_audio_requests_total{{operation="{operation}",provider="{provider}",model="{model}",status="success"}}"#
        ))
    };
    assert_eq!(calls("transcription", "openai", "whisper-1"), 1.0);
    assert_eq!(calls("transcription", "deepgram", "nova-2"), 1.0);
    assert_eq!(calls("translation", "deepgram", "nova-3"), 1.0);
    assert_eq!(calls("tts", "openai", "tts-1-hd"), 1.0);
    assert_eq!(calls("tts", "openai", "tts-1"), 1.0);
    assert_eq!(
        d(
            r#"conduit_audio_time_to_first_byte_seconds_count{operation="tts",provider="openai",model="tts-1"}"#
        ),
        1.0
    );
    assert_eq!(
        d(
            r#"conduit_audio_turns_total{provider="openai",model="gpt-4o-mini-realtime-preview",outcome="answered"}"#
        ),
        1.0
    );
    assert_eq!(
        sample(
            &after,
            r#"conduit_audio_requests_total{operation="tts",provider="deepgram",model="tts-1",status="success"}"#
        ),
        None
    );
    // Every call named a model: none is `unknown`, none folded.
    assert!(!after.contains(r#"model="unknown""#));
    assert_eq!(
        value(&after, "conduit_audio_model_labels_folded_total"),
        0.0
    );
    running.shutdown().await.unwrap();
    metrics.shutdown().unwrap();
}

/// Scrapes until `done` holds of the scrape (10 s at most).
async fn wait_for(metrics: SocketAddr, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = scrape(metrics).await;
        if done(&text) {
            return text;
        }
        assert!(Instant::now() < deadline, "never reached:\n{text}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A multipart form with the file (and the provider) as OpenAI's clients send it.
fn multipart(provider: &str, filename: &str, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "conduit-upload-boundary";
    let mut form = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"provider\"\r\n\r\n{provider}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    form.extend_from_slice(file);
    form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (
        format!("Content-Type: multipart/form-data; boundary={boundary}\r\n"),
        form,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_add_the_duration_their_container_states() {
    use conduit_metrics_testkit::audio_files;
    let dir = tempfile::tempdir().unwrap();
    let files = audio_files::make_all(dir.path());
    let (metrics, _metrics_addr, running) = start().await;
    let api = running.addr;
    let seconds = |text: &str, operation: &str| {
        sample(
            text,
            &pair_series("conduit_audio_audio_seconds_total", operation, "openai"),
        )
        .unwrap_or(0.0)
    };
    let mut expected = [0.0f64; 2];
    for (index, file) in files.iter().enumerate() {
        let before = metrics.render();
        // Raw bodies and multipart forms, transcriptions and translations, by turns.
        let (operation, path) = if index % 2 == 0 {
            ("transcription", "/v1/audio/transcriptions")
        } else {
            ("translation", "/v1/audio/translations")
        };
        let (status, _, body) = if index % 3 == 0 {
            let (headers, form) = multipart(
                "openai",
                file.path.file_name().unwrap().to_str().unwrap(),
                &file.bytes,
            );
            post(api, path, &headers, &form).await
        } else {
            let path = format!("{path}?provider=openai");
            post(
                api,
                &path,
                "Content-Type: application/octet-stream\r\n",
                &file.bytes,
            )
            .await
        };
        assert_eq!(
            status,
            200,
            "{}: {}",
            file.name,
            String::from_utf8_lossy(&body)
        );
        let after = metrics.render();
        let added = seconds(&after, operation) - seconds(&before, operation);
        assert!(
            (added - file.ffprobe_seconds).abs() <= file.tolerance(),
            "{}: {operation} added {added} s, ffprobe says {} s",
            file.name,
            file.ffprobe_seconds
        );
        expected[index % 2] += file.ffprobe_seconds;
        // The answer states the duration the metric added.
        let text = serde_json::from_slice::<serde_json::Value>(&body).unwrap()["text"].to_string();
        let stated = format!("of {added:.2}s of audio");
        assert!(
            text.contains(&stated),
            "{}: {text}, expected {stated}",
            file.name
        );
    }
    let end = metrics.render();
    assert!((seconds(&end, "transcription") - expected[0]).abs() < 0.2);
    assert!((seconds(&end, "translation") - expected[1]).abs() < 0.2);

    // A streamed transcription of the spoken MP3: its partials cover its real duration.
    let mp3 = files.iter().find(|f| f.name == "mp3-vbr-22k-mono").unwrap();
    let before = metrics.render();
    let sse = post_streamed(
        api,
        "/v1/audio/transcriptions?provider=openai&stream=true",
        "",
        &mp3.bytes,
    )
    .await;
    assert_eq!(sse.status, 200);
    let partials = String::from_utf8(sse.body)
        .unwrap()
        .matches("transcript.text.delta")
        .count();
    assert_eq!(partials, mp3.ffprobe_seconds.ceil() as usize);
    let added = seconds(&metrics.render(), "transcription") - seconds(&before, "transcription");
    assert!(
        (added - mp3.ffprobe_seconds).abs() < 1e-6,
        "{added} {}",
        mp3.ffprobe_seconds
    );

    // What is not audio is still answered and counted, adds no seconds, and is counted
    // as a payload without a duration.
    let before = metrics.render();
    let (status, _, body) = post(
        api,
        "/v1/audio/transcriptions?provider=openai",
        "",
        b"{\"not\": \"audio\"}",
    )
    .await;
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("unknown length"));
    let after = metrics.render();
    assert_eq!(
        seconds(&after, "transcription"),
        seconds(&before, "transcription")
    );
    assert_eq!(
        delta(
            &before,
            &after,
            &requests("transcription", "openai", "success")
        ),
        1.0
    );
    assert_eq!(
        delta(
            &before,
            &after,
            "conduit_audio_audio_seconds_unknown_total{operation=\"transcription\",reason=\"unknown_format\"}"
        ),
        1.0
    );

    // The demo's own speech is a WAV whose header states what it holds.
    let (status, _, wav) = post(
        api,
        "/v1/audio/speech",
        "Content-Type: application/json\r\n",
        br#"{"input":"Fifteen characters per second","provider":"openai"}"#,
    )
    .await;
    assert_eq!(status, 200);
    let stated = conduit_metrics_runtime::audio_duration::audio_duration_secs(&wav).unwrap();
    assert_eq!(stated, (wav.len() - 44) as f64 / 32_000.0);
    let wav_path = dir.path().join("speech-answer.wav");
    std::fs::write(&wav_path, &wav).unwrap();
    assert!((audio_files::ffprobe_seconds(&wav_path) - stated).abs() < 0.001);

    running.shutdown().await.unwrap();
    metrics.shutdown().unwrap();
}
