//! A provider's own HTTP API, simulated in the same process: the `elevenlabs` client
//! reaches it over real HTTP with `reqwest`, so its timeouts, 429s and 503s are
//! `reqwest::Error`s, counted through the runtime's `AudioStatus` impl for them.
//!
//! `POST /v1/text-to-speech/{voice}` with `{"text": ...}` answers WAV audio. The caller
//! says how this call goes with `X-Upstream-Outcome` (`ok`, `rate_limited`,
//! `unavailable`, `invalid`, `error`) and `X-Upstream-Latency-Ms`, so the gateway's
//! simulation decides and this server only enacts it, the way a real API would fail.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Json;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;

use super::providers::{BYTES_PER_AUDIO_SECOND, wav_of_silence};

/// The longest the server waits before answering, so a stuck client cannot hold it.
const MAX_LATENCY: Duration = Duration::from_secs(60);

/// The simulated API, serving until dropped.
pub struct Upstream {
    /// Where it listens.
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds a loopback port and serves the simulated API on it.
pub async fn start() -> std::io::Result<Upstream> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new().route("/v1/text-to-speech/{voice}", post(synthesize));
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "simulated provider API stopped");
        }
    });
    Ok(Upstream { addr, task })
}

#[derive(Deserialize)]
struct SynthesisRequest {
    text: String,
}

async fn synthesize(
    Path(_voice): Path<String>,
    headers: HeaderMap,
    Json(request): Json<SynthesisRequest>,
) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let latency = header("x-upstream-latency-ms")
        .and_then(|ms| ms.parse().ok())
        .map_or(Duration::ZERO, Duration::from_millis)
        .min(MAX_LATENCY);
    tokio::time::sleep(latency).await;
    match header("x-upstream-outcome").unwrap_or("ok") {
        "rate_limited" => {
            let mut response = (StatusCode::TOO_MANY_REQUESTS, "slow down\n").into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        "unavailable" => {
            (StatusCode::SERVICE_UNAVAILABLE, "down for maintenance\n").into_response()
        }
        "invalid" => (StatusCode::BAD_REQUEST, "the text cannot be synthesized\n").into_response(),
        "error" => (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response(),
        _ => {
            let audio = wav_of_silence(request.text.len() * BYTES_PER_AUDIO_SECOND / 15);
            ([(header::CONTENT_TYPE, "audio/wav")], audio).into_response()
        }
    }
}
