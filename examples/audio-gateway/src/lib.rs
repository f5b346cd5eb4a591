//! The audio gateway demo (`cargo run --release -p audio-gateway`): an axum service with
//! OpenAI-style audio endpoints routed to simulated providers, each provider client
//! instrumented with `#[audio_metric]`. It lives in the library so tests can start it
//! in-process; `src/main.rs` is the command line around it.
//!
//! | route | what it does |
//! |---|---|
//! | `POST /v1/audio/transcriptions` | multipart (`file`, optional `provider`) or raw audio body (WAV, FLAC, MP3, Ogg, M4A, WebM: timed by its container) → `{"text": ..}` |
//! | `POST /v1/audio/translations` | same, translated to English |
//! | `POST /v1/audio/speech` | JSON `{"input", "voice", "provider"?}` → `audio/wav` (cached per text and voice) |
//! | `GET /v1/realtime` | WebSocket: `{"type":"input_text","text":..}` turns, answered one by one |
//!
//! `?provider=` (or the `provider` field) picks a provider, else the one serving `?model=`
//! (or the `model` field; each provider serves two models a kind of call, see [`models`]),
//! else they take turns; a provider without `model` serves its first. The
//! `elevenlabs` client synthesizes speech over real HTTP (reqwest) against a simulated
//! provider API in the same process (`upstream`), so its timeouts, 429s and 503s are
//! `reqwest::Error`s; the others are simulated in process.
//! `X-Simulate-Failure: timeout|rate_limited|unavailable|invalid|error` and
//! `X-Simulate-Latency-Ms: N` force an outcome.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod api;
pub mod models;
pub mod providers;
mod realtime;
mod request;
pub mod sim;
mod state;
mod stream_api;
pub mod streaming;
mod tracing_context;
pub mod traffic;
pub mod upstream;

use std::net::SocketAddr;
use std::sync::Arc;

pub use state::{Gateway, GatewayOptions};

/// A running gateway.
pub struct RunningGateway {
    /// The API's bound address.
    pub addr: SocketAddr,
    /// The gateway state.
    pub gateway: Arc<Gateway>,
    shutdown: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    /// The simulated provider API, served until the gateway is dropped.
    _upstream: upstream::Upstream,
}

impl RunningGateway {
    /// Stops accepting, lets requests in flight finish, and waits for the server.
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.shutdown.send(());
        self.server
            .await
            .unwrap_or_else(|join| Err(std::io::Error::other(join)))
    }
}

/// Binds the API and serves it until [`RunningGateway::shutdown`].
pub async fn start(options: GatewayOptions) -> std::io::Result<RunningGateway> {
    let listener = tokio::net::TcpListener::bind(options.listen).await?;
    let addr = listener.local_addr()?;
    let upstream = upstream::start().await?;
    let gateway = Gateway::new(options, Some(upstream.addr))?;
    let app = gateway.router();
    let (shutdown, signal) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = signal.await;
        })
        .await
    });
    Ok(RunningGateway {
        addr,
        gateway,
        shutdown,
        server,
        _upstream: upstream,
    })
}
