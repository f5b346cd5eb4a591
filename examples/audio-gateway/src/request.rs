//! What the HTTP and WebSocket endpoints share: the provider and simulation query, the
//! `X-Simulate-*` headers, and the OpenAI-style error answer.

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use conduit_metrics_runtime::{AudioStatus as _, Status};

use super::providers::{ProviderError, Simulation};

/// The `?provider=`, `?simulate=` and `?stream=` query.
#[derive(Debug, Deserialize, Default)]
pub(super) struct ProviderQuery {
    pub(super) provider: Option<String>,
    /// One of the provider's models for the call (else its default).
    pub(super) model: Option<String>,
    pub(super) simulate: Option<String>,
    /// Stream the answer (transcriptions: Server-Sent Events).
    pub(super) stream: Option<bool>,
}

/// An OpenAI-style error: `{"error": {"message", "type", "provider"}}`.
#[derive(Debug)]
pub(super) struct ApiError {
    status: StatusCode,
    message: String,
    kind: &'static str,
    provider: Option<&'static str>,
}

impl ApiError {
    pub(super) fn invalid(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            kind: "invalid_request",
            provider: None,
        }
    }

    pub(super) fn from_rejection(rejection: impl IntoResponse + std::fmt::Display) -> Self {
        let message = rejection.to_string();
        let status = rejection.into_response().status();
        ApiError {
            status,
            message,
            kind: "invalid_request",
            provider: None,
        }
    }

    pub(super) fn from_provider(provider: &'static str, error: &ProviderError) -> Self {
        // The answer follows the status the call is counted under, HTTP errors included.
        let (status, kind) = match error.audio_status() {
            Status::Timeout => (StatusCode::GATEWAY_TIMEOUT, "timeout"),
            Status::RateLimited => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            Status::ProviderUnavailable => {
                (StatusCode::SERVICE_UNAVAILABLE, "provider_unavailable")
            }
            Status::InvalidRequest => (StatusCode::BAD_REQUEST, "invalid_request"),
            _ => (StatusCode::BAD_GATEWAY, "provider_error"),
        };
        ApiError {
            status,
            message: error.to_string(),
            kind,
            provider: Some(provider),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({
            "error": { "message": self.message, "type": self.kind, "provider": self.provider }
        }));
        let mut response = (self.status, body).into_response();
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

/// The `X-Simulate-*` headers (or `?simulate=`).
pub(super) fn simulation(
    headers: &HeaderMap,
    query_failure: Option<&str>,
) -> Result<Simulation, ApiError> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let failure = match text("x-simulate-failure").or(query_failure) {
        None => None,
        Some(name) => Some(Simulation::failure_from_name(name).ok_or_else(|| {
            ApiError::invalid(format!(
                "X-Simulate-Failure `{name}` is not one of timeout, rate_limited, unavailable, invalid, error"
            ))
        })?),
    };
    let latency = match text("x-simulate-latency-ms") {
        None => None,
        Some(ms) => Some(std::time::Duration::from_millis(ms.parse().map_err(
            |_| ApiError::invalid("X-Simulate-Latency-Ms must be a whole number of milliseconds"),
        )?)),
    };
    let fail_after_chunks = match text("x-simulate-fail-after-chunks") {
        None => None,
        Some(chunks) => Some(chunks.parse().map_err(|_| {
            ApiError::invalid("X-Simulate-Fail-After-Chunks must be a whole number of chunks")
        })?),
    };
    Ok(Simulation {
        failure,
        latency,
        fail_after_chunks,
    })
}
