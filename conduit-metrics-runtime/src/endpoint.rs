//! The built-in HTTP endpoint: serves the exposition on the configured path, reusing a
//! rendered body for CacheExpiration. It runs on the runtime's own thread, so rendering
//! never occupies the application's async workers.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{ALLOW, CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

use crate::registry::lock;

/// Content type of the Prometheus text format.
pub const TEXT_FORMAT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Produces a fresh exposition body.
pub(crate) type RenderFn = dyn Fn() -> String + Send + Sync;

/// A rendered body reused until it is older than the expiration.
pub(crate) struct ScrapeCache {
    render: Box<RenderFn>,
    expiration: Duration,
    cached: Mutex<Option<(Instant, Bytes)>>,
}

impl ScrapeCache {
    pub(crate) fn new(render: Box<RenderFn>, expiration: Duration) -> Self {
        ScrapeCache {
            render,
            expiration,
            cached: Mutex::new(None),
        }
    }

    /// The cached body if it is fresh, else a new render. Concurrent scrapes of an
    /// expired body wait for one render instead of each rendering.
    pub(crate) fn body(&self) -> Bytes {
        let mut cached = lock(&self.cached);
        if let Some((rendered_at, body)) = cached.as_ref() {
            if rendered_at.elapsed() < self.expiration {
                return body.clone();
            }
        }
        let body = Bytes::from((self.render)());
        if !self.expiration.is_zero() {
            *cached = Some((Instant::now(), body.clone()));
        }
        body
    }
}

/// What the endpoint needs to answer a request.
pub(crate) struct Endpoint {
    pub(crate) path: String,
    pub(crate) cache: ScrapeCache,
}

impl Endpoint {
    pub(crate) fn respond(&self, method: &Method, path: &str) -> Response<Full<Bytes>> {
        let is_metrics = path == self.path;
        if !is_metrics && path != "/health" {
            return plain(StatusCode::NOT_FOUND, "not found\n");
        }
        if method != Method::GET && method != Method::HEAD {
            let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
            return response;
        }
        if !is_metrics {
            return plain(StatusCode::OK, "ok\n");
        }
        let body = self.cache.body();
        let mut response = Response::new(Full::new(if method == Method::HEAD {
            Bytes::new()
        } else {
            body
        }));
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static(TEXT_FORMAT_CONTENT_TYPE),
        );
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Accepts connections until `shutdown` resolves.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    endpoint: Arc<Endpoint>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _peer)) = accepted else { continue };
                let endpoint = endpoint.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                        let response = endpoint.respond(request.method(), request.uri().path());
                        async move { Ok::<_, Infallible>(response) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            _ = shutdown.changed() => break,
        }
    }
}
