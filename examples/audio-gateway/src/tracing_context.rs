//! W3C trace context: a request that arrives with a `traceparent` header is served inside
//! a span of the gateway's own, a child of the caller's, so every call the request makes
//! (and every realtime turn of a session it opens) carries that trace, and the latency
//! buckets they land in get it as their exemplar. The spans are made but not exported:
//! point an OpenTelemetry exporter at the same tracer provider to send them.

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use opentelemetry::context::FutureExt as _;
use opentelemetry::propagation::{Extractor, TextMapPropagator as _};
use opentelemetry::trace::{TraceContextExt as _, Tracer as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use std::sync::Arc;

use super::state::Gateway;

/// Reads propagation headers from an HTTP request.
struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|name| name.as_str()).collect()
    }
}

/// Runs the rest of the request inside a child span of its `traceparent`, when it has a
/// valid one.
pub(super) async fn continue_trace(
    State(gateway): State<Arc<Gateway>>,
    request: Request,
    next: Next,
) -> Response {
    let parent = TraceContextPropagator::new().extract(&Headers(request.headers()));
    if !parent.span().span_context().is_valid() {
        return next.run(request).await;
    }
    let name = format!("{} {}", request.method(), request.uri().path());
    let span = gateway.tracer().start_with_context(name, &parent);
    let context = parent.with_span(span);
    next.run(request).with_context(context).await
}
