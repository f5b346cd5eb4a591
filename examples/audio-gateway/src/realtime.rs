//! The realtime WebSocket: a session is one instrumented call of `run_session`, which
//! records the session families; each utterance is a voice turn whose marks follow the
//! simulated pipeline (speech end, end-of-turn decision, transcript, response, first
//! audio out), interrupted when the user sends audio while the agent's reply plays.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use conduit_metrics_runtime::{DisconnectReason, audio_metric};
use serde_json::json;

use super::models::ModelKind;
use super::providers::{ProviderError, SessionSummary, SimulatedProvider, Simulation};
use super::request::{ApiError, ProviderQuery, simulation};
use super::state::Gateway;

pub(super) async fn upgrade(
    State(gateway): State<Arc<Gateway>>,
    Query(query): Query<ProviderQuery>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let simulation = match simulation(&headers, query.simulate.as_deref()) {
        Ok(simulation) => simulation,
        Err(error) => return error.into_response(),
    };
    let route = gateway.route_call(
        query.provider.as_deref(),
        query.model.as_deref(),
        ModelKind::Converse,
    );
    let (provider, model) = match route {
        Ok(route) => route,
        Err(message) => return ApiError::invalid(message).into_response(),
    };
    let idle_timeout = gateway.options.realtime_idle_timeout;
    // The session runs in a task of its own: it keeps the upgrade request's trace.
    let trace = opentelemetry::Context::current();
    upgrade
        .on_upgrade(move |socket| {
            opentelemetry::context::FutureExt::with_context(
                async move {
                    // Held while the socket is open: conduit_audio_active_operations{resource=..}.
                    let _connection =
                        conduit_metrics_runtime::hold_resource("websocket_connections");
                    let _ = run_session(&provider, model, socket, &simulation, idle_timeout).await;
                },
                trace,
            )
        })
        .into_response()
}

/// One realtime session. `provider` is a parameter named `provider` whose type is
/// `AsRef<str>`, so the attribute needs no `provider = ...`.
#[audio_metric(operation = "realtime", model = model, disconnect_reason = |s| s.reason, cost = |s| s.cost_usd)]
async fn run_session(
    provider: &SimulatedProvider,
    model: &str,
    mut socket: WebSocket,
    simulation: &Simulation,
    idle_timeout: Duration,
) -> Result<SessionSummary, ProviderError> {
    let mut summary = SessionSummary {
        reason: DisconnectReason::ClientDisconnect,
        turns: 0,
        cost_usd: 0.0,
    };
    // A client message that arrived while the agent's audio played: the next turn's input.
    let mut barged_in: Option<Message> = None;
    loop {
        let message = match barged_in.take() {
            Some(message) => message,
            None => match tokio::time::timeout(idle_timeout, socket.recv()).await {
                Err(_idle) => {
                    let _ = socket.send(Message::Close(None)).await;
                    summary.reason = DisconnectReason::Timeout;
                    return Ok(summary);
                }
                Ok(None) | Ok(Some(Ok(Message::Close(_)))) => return Ok(summary),
                // The connection broke without a close handshake: the client went away.
                Ok(Some(Err(_))) => return Ok(summary),
                Ok(Some(Ok(message))) => message,
            },
        };
        let utterance = match message {
            Message::Text(text) => match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(value) if value["type"] == "session.close" => {
                    let _ = socket.send(Message::Close(None)).await;
                    summary.reason = DisconnectReason::ServerClose;
                    return Ok(summary);
                }
                Ok(value) => value["text"].as_str().unwrap_or_default().to_owned(),
                Err(_) => text.to_string(),
            },
            Message::Binary(audio) => format!("<{} bytes of audio>", audio.len()),
            _ => continue,
        };
        // The utterance arrived: the user stopped speaking. The turn records its stages,
        // the whole turn and its outcome when it is dropped, on every path below.
        let mut turn = conduit_metrics_runtime::realtime_turn(provider.name()).with_model(model);
        turn.user_speech_ended();
        let started = Instant::now();
        // The user may hang up, or speak again, before the answer: the turn is abandoned.
        let answer = tokio::select! {
            answer = provider.respond_turn(&utterance, simulation, &mut turn) => answer,
            message = socket.recv() => match message {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return Ok(summary),
                Some(Ok(message)) => {
                    barged_in = Some(message);
                    continue;
                }
            },
        };
        let reply = match &answer {
            Ok(text) => {
                let latency_ms = started.elapsed().as_millis() as u64;
                json!({ "type": "response.text", "text": text, "latency_ms": latency_ms })
            }
            Err(error) => json!({ "type": "error", "message": error.to_string() }),
        };
        if let Err(error) = answer {
            let _ = socket.send(Message::Text(reply.to_string().into())).await;
            let _ = socket.send(Message::Close(None)).await;
            return Err(error);
        }
        summary.turns += 1;
        summary.cost_usd += provider.turn_price();
        if socket
            .send(Message::Text(reply.to_string().into()))
            .await
            .is_err()
        {
            return Ok(summary); // the client left before the answer
        }
        // The first frame of the agent's audio went out; it plays for a while, and audio
        // from the user meanwhile is barge-in.
        turn.agent_audio_started();
        match tokio::time::timeout(provider.playback(), socket.recv()).await {
            Err(_played) => {}
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => return Ok(summary),
            Ok(Some(Ok(message))) => {
                if matches!(message, Message::Binary(_)) {
                    turn.interrupted();
                }
                barged_in = Some(message);
            }
        }
    }
}
