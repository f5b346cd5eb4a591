//! The endpoint as an axum `Router`, for mounting into the application's own server (the
//! guide's `app.UsePrometheusMetrics("/metrics")`), with the same cache and lock-down.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;

use super::endpoint::{Endpoint, Scrape};

/// A router answering the configured path (every method, so others get 405).
pub(crate) fn router(endpoint: Arc<Endpoint>, path: &str) -> axum::Router {
    axum::Router::new()
        .route(path, axum::routing::any(answer))
        .with_state(endpoint)
}

async fn answer(State(endpoint): State<Arc<Endpoint>>, request: Request) -> Response {
    // The client address is known only when the application serves with
    // `into_make_service_with_connect_info::<SocketAddr>()`; without it an allowlist or
    // rate limit refuses the request rather than guessing.
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip());
    // axum already matched the route (possibly under a nest prefix): answer as the
    // metrics path.
    let scrape = Scrape {
        method: request.method(),
        path: &endpoint.path,
        headers: request.headers(),
        peer,
    };
    endpoint.respond(scrape, false).await.map(Body::new)
}
