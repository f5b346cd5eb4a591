//! The HTTP endpoints.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;

use super::models::ModelKind;
use super::providers::{ProviderError, SimulatedProvider, Simulation, Transcript};
use super::realtime;
use super::request::{ApiError, ProviderQuery, simulation};
use super::state::Gateway;
use super::stream_api;
use super::tracing_context;

/// Largest audio upload (OpenAI's limit).
const MAX_AUDIO_BYTES: usize = 25 * 1024 * 1024;

impl Gateway {
    /// The API router.
    pub fn router(self: &Arc<Self>) -> Router {
        router(self.clone())
    }
}

fn router(gateway: Arc<Gateway>) -> Router {
    let admin = gateway.options.admin;
    let router = Router::new()
        .route("/", get(index))
        .route("/health", get(|| async { "ok\n" }))
        .route("/v1/audio/transcriptions", post(transcriptions))
        .route("/v1/audio/translations", post(translations))
        .route("/v1/audio/speech", post(speech))
        .route("/v1/realtime", get(realtime::upgrade));
    let router = if admin {
        router.route(
            "/admin/providers/{name}/outage",
            axum::routing::put(start_outage).delete(end_outage),
        )
    } else {
        router
    };
    router
        .layer(DefaultBodyLimit::max(MAX_AUDIO_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            gateway.clone(),
            tracing_context::continue_trace,
        ))
        .with_state(gateway)
}

/// `PUT /admin/providers/{name}/outage` (`--admin` only): from now on every call to the
/// provider fails, as `?failure=` says (default `unavailable`), and its health checks
/// fail, until `DELETE` ends the outage.
async fn start_outage(
    State(gateway): State<Arc<Gateway>>,
    axum::extract::Path(name): axum::extract::Path<String>,
    Query(query): Query<OutageQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let provider = gateway.route(Some(&name)).map_err(ApiError::invalid)?;
    let failure_name = query.failure.as_deref().unwrap_or("unavailable");
    let failure = Simulation::failure_from_name(failure_name).ok_or_else(|| {
        ApiError::invalid(format!(
            "failure `{failure_name}` is not one of timeout, rate_limited, unavailable, invalid, error"
        ))
    })?;
    provider.set_outage(Some(failure));
    tracing::warn!(
        provider = provider.name(),
        failure = failure_name,
        "admin: outage started"
    );
    Ok(Json(
        json!({ "provider": provider.name(), "outage": failure_name }),
    ))
}

/// `DELETE /admin/providers/{name}/outage` (`--admin` only): the provider recovers.
async fn end_outage(
    State(gateway): State<Arc<Gateway>>,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let provider = gateway.route(Some(&name)).map_err(ApiError::invalid)?;
    provider.set_outage(None);
    tracing::warn!(provider = provider.name(), "admin: outage ended");
    Ok(Json(json!({ "provider": provider.name(), "outage": null })))
}

/// The `?failure=` of an outage.
#[derive(Debug, Deserialize)]
struct OutageQuery {
    failure: Option<String>,
}

async fn index(State(gateway): State<Arc<Gateway>>) -> Json<serde_json::Value> {
    Json(json!({
        "service": "conduit-metrics audio gateway example",
        "providers": gateway.provider_names(),
        "endpoints": [
            "POST /v1/audio/transcriptions",
            "POST /v1/audio/translations",
            "POST /v1/audio/speech",
            "GET /v1/realtime (WebSocket)"
        ]
    }))
}

/// An uploaded audio file and the form's fields.
struct Upload {
    audio: Bytes,
    provider: Option<String>,
    model: Option<String>,
    /// The form's `stream` field (OpenAI's streamed transcription).
    stream: bool,
}

/// Audio from a multipart form (`file`, optional `provider` and `stream`) or a raw body.
async fn audio_upload(request: Request) -> Result<Upload, ApiError> {
    let is_multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_multipart {
        let audio = Bytes::from_request(request, &())
            .await
            .map_err(ApiError::from_rejection)?;
        return Ok(Upload {
            audio,
            provider: None,
            model: None,
            stream: false,
        });
    }
    let mut form = Multipart::from_request(request, &())
        .await
        .map_err(ApiError::from_rejection)?;
    let (mut audio, mut provider, mut model, mut stream) = (None, None, None, false);
    while let Some(field) = form.next_field().await.map_err(ApiError::from_rejection)? {
        match field.name() {
            Some("file") => audio = Some(field.bytes().await.map_err(ApiError::from_rejection)?),
            Some("provider") => {
                provider = Some(field.text().await.map_err(ApiError::from_rejection)?)
            }
            Some("model") => model = Some(field.text().await.map_err(ApiError::from_rejection)?),
            Some("stream") => {
                stream = field.text().await.map_err(ApiError::from_rejection)? == "true"
            }
            _ => {}
        }
    }
    let audio = audio.ok_or_else(|| ApiError::invalid("the form has no `file` field"))?;
    Ok(Upload {
        audio,
        provider,
        model,
        stream,
    })
}

type AudioCall = for<'a> fn(
    &'a SimulatedProvider,
    &'a [u8],
    &'static str,
    &'a Simulation,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<Transcript, ProviderError>> + Send + 'a>,
>;

/// Answers a streamed transcription (Server-Sent Events).
type StreamedCall = fn(
    Arc<SimulatedProvider>,
    Bytes,
    &'static str,
    Simulation,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<Response, ApiError>> + Send>,
>;

async fn audio_endpoint(
    gateway: Arc<Gateway>,
    query: ProviderQuery,
    request: Request,
    call: AudioCall,
    stream_transcript: Option<StreamedCall>,
) -> Result<Response, ApiError> {
    let simulation = simulation(request.headers(), query.simulate.as_deref())?;
    let upload = audio_upload(request).await?;
    let (provider, model) = gateway
        .route_call(
            upload.provider.as_deref().or(query.provider.as_deref()),
            upload.model.as_deref().or(query.model.as_deref()),
            ModelKind::Listen,
        )
        .map_err(ApiError::invalid)?;
    if let Some(stream) = stream_transcript {
        if upload.stream || query.stream == Some(true) {
            return stream(provider, upload.audio, model, simulation).await;
        }
    }
    let audio = upload.audio;
    let transcript = call(&provider, &audio, model, &simulation)
        .await
        .map_err(|error| ApiError::from_provider(provider.name(), &error))?;
    let answer = json!({ "text": transcript.text, "provider": provider.name(), "model": model });
    Ok(Json(answer).into_response())
}

async fn transcriptions(
    State(gateway): State<Arc<Gateway>>,
    Query(query): Query<ProviderQuery>,
    request: Request,
) -> Result<Response, ApiError> {
    audio_endpoint(
        gateway,
        query,
        request,
        |p, a, m, s| Box::pin(p.transcribe(a, m, s)),
        Some(|p, a, m, s| Box::pin(stream_api::transcription(p, a, m, s))),
    )
    .await
}

async fn translations(
    State(gateway): State<Arc<Gateway>>,
    Query(query): Query<ProviderQuery>,
    request: Request,
) -> Result<Response, ApiError> {
    audio_endpoint(
        gateway,
        query,
        request,
        |p, a, m, s| Box::pin(p.translate(a, m, s)),
        None,
    )
    .await
}

/// `POST /v1/audio/speech` body, as OpenAI's (plus an optional `provider`).
#[derive(Debug, Deserialize)]
struct SpeechRequest {
    input: String,
    #[serde(default = "default_voice")]
    voice: String,
    #[serde(default)]
    provider: Option<String>,
    /// One of the provider's speech models (else its default).
    #[serde(default)]
    model: Option<String>,
    /// Send the audio in chunks as it is synthesized.
    #[serde(default)]
    stream: bool,
}

fn default_voice() -> String {
    "alloy".to_owned()
}

async fn speech(
    State(gateway): State<Arc<Gateway>>,
    Query(query): Query<ProviderQuery>,
    headers: HeaderMap,
    body: Result<Json<SpeechRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(request) = body.map_err(|rejection| ApiError::invalid(rejection.body_text()))?;
    let simulation = simulation(&headers, query.simulate.as_deref())?;
    let (provider, model) = gateway
        .route_call(
            request.provider.as_deref().or(query.provider.as_deref()),
            request.model.as_deref().or(query.model.as_deref()),
            ModelKind::Speak,
        )
        .map_err(ApiError::invalid)?;
    if request.stream {
        return stream_api::speech(provider, request.input, model, simulation).await;
    }
    let speech = provider
        .speak(&request.input, &request.voice, model, &simulation)
        .await
        .map_err(|error| ApiError::from_provider(provider.name(), &error))?;
    let cache = if speech.from_cache { "hit" } else { "miss" };
    let mut response = speech.audio.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/wav"));
    headers.insert("x-provider", HeaderValue::from_static(provider.name()));
    headers.insert("x-cache", HeaderValue::from_static(cache));
    headers.insert("x-model", HeaderValue::from_static(model));
    Ok(response)
}
