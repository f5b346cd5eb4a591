//! The metrics endpoint: the decisions every request goes through (allowlist, rate limit,
//! route, method, credentials), and the cached, optionally gzipped body. The built-in
//! server (`server`) and the axum router (`router`) both answer through [`Endpoint`].

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::header::{
    ACCEPT, ALLOW, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER,
    VARY, WWW_AUTHENTICATE,
};
#[cfg(feature = "gzip")]
use http::header::{ACCEPT_ENCODING, CONTENT_ENCODING};
use http::{Method, Response, StatusCode};
use http_body_util::Full;

use super::access::{Credentials, RateLimiter};
use super::cache::ScrapeCache;
use crate::config::{IpNetwork, MetricsConfig};
use crate::exposition::ExpositionFormat;

/// Content type of the Prometheus text format.
pub const TEXT_FORMAT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Path of the liveness answer of the built-in server.
pub const HEALTH_PATH: &str = "/health";

/// Everything needed to answer a request, shared by all connections.
pub(crate) struct Endpoint {
    pub(super) path: String,
    cache: Arc<ScrapeCache>,
    credentials: Credentials,
    allowed_networks: Vec<IpNetwork>,
    rate_limiter: Option<RateLimiter>,
}

/// The parts of a request the endpoint looks at.
pub(crate) struct Scrape<'a> {
    pub(crate) method: &'a Method,
    pub(crate) path: &'a str,
    pub(crate) headers: &'a HeaderMap,
    /// The client's address; `None` when the server cannot tell (axum without
    /// `ConnectInfo`), which fails closed when an allowlist or rate limit is set.
    pub(crate) peer: Option<IpAddr>,
}

impl Endpoint {
    pub(crate) fn new(config: &MetricsConfig, cache: Arc<ScrapeCache>) -> Self {
        Endpoint {
            path: config.path().to_owned(),
            cache,
            credentials: Credentials::from_config(config),
            allowed_networks: config.allowed_networks().to_vec(),
            rate_limiter: config.rate_limit_per_minute().map(RateLimiter::new),
        }
    }

    /// Answers one request. Rendering runs on the blocking pool, never on an async
    /// worker.
    pub(crate) async fn respond(
        &self,
        scrape: Scrape<'_>,
        serve_health: bool,
    ) -> Response<Full<Bytes>> {
        if !self.allowed_networks.is_empty() {
            let allowed = scrape
                .peer
                .is_some_and(|ip| self.allowed_networks.iter().any(|net| net.contains(ip)));
            if !allowed {
                return plain(
                    StatusCode::FORBIDDEN,
                    "forbidden: address not in AllowedNetworks\n",
                );
            }
        }
        if let Some(limiter) = &self.rate_limiter {
            let Some(peer) = scrape.peer else {
                return plain(StatusCode::FORBIDDEN, "forbidden: client address unknown\n");
            };
            if let Err(wait) = limiter.check(peer, Instant::now()) {
                let mut response = plain(StatusCode::TOO_MANY_REQUESTS, "too many requests\n");
                let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
                    response.headers_mut().insert(RETRY_AFTER, value);
                }
                return response;
            }
        }
        let is_metrics = scrape.path == self.path;
        let is_health = serve_health && scrape.path == HEALTH_PATH;
        if !is_metrics && !is_health {
            return plain(StatusCode::NOT_FOUND, "not found\n");
        }
        if scrape.method != Method::GET && scrape.method != Method::HEAD {
            let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
            return response;
        }
        if is_health {
            return plain(StatusCode::OK, "ok\n");
        }
        if self.credentials.required() {
            let authorization = scrape.headers.get(AUTHORIZATION).map(HeaderValue::as_bytes);
            if !self.credentials.accepts(authorization) {
                let mut response = plain(StatusCode::UNAUTHORIZED, "unauthorized\n");
                response.headers_mut().insert(
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static(self.credentials.challenge()),
                );
                return response;
            }
        }
        #[cfg(feature = "gzip")]
        let gzip = accepts_gzip(scrape.headers);
        let format = self.cache.format_for(negotiate_format(scrape.headers));
        // HEAD gets the headers only: no render for a body nobody receives.
        let body = if scrape.method == Method::HEAD {
            Bytes::new()
        } else {
            let cache = self.cache.clone();
            #[cfg(feature = "gzip")]
            let render = move || cache.body_in(format, gzip);
            #[cfg(not(feature = "gzip"))]
            let render = move || cache.plain_in(format);
            match tokio::task::spawn_blocking(render).await {
                Ok(body) => body,
                Err(_) => {
                    return plain(StatusCode::INTERNAL_SERVER_ERROR, "rendering failed\n");
                }
            }
        };
        let mut response = Response::new(Full::new(body));
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static(format.content_type()),
        );
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        // The body depends on Accept only when the render speaks several formats.
        let vary = match self.cache.format_for(ExpositionFormat::OpenMetrics) {
            ExpositionFormat::Text => "Accept-Encoding",
            _ => "Accept, Accept-Encoding",
        };
        headers.insert(VARY, HeaderValue::from_static(vary));
        #[cfg(feature = "gzip")]
        if gzip {
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        response
    }
}

/// Whether `Accept-Encoding` allows gzip (RFC 9110, 12.5.3): an explicit `gzip` entry
/// decides by its weight, so `gzip;q=0` refuses it even next to `*`; without one, `*`
/// with a weight above zero allows it.
/// The format the scraper's `Accept` headers ask for.
fn negotiate_format(headers: &HeaderMap) -> ExpositionFormat {
    let accept: Vec<&str> = headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect();
    ExpositionFormat::from_accept(&accept.join(","))
}

#[cfg(feature = "gzip")]
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut gzip = None;
    let mut any = None;
    for coding in headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
    {
        let mut parts = coding.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        // A weight that does not parse is treated as 1, the default.
        let weight = parts
            .find_map(|param| {
                let (key, value) = param.split_once('=')?;
                key.trim()
                    .eq_ignore_ascii_case("q")
                    .then(|| value.trim().parse::<f32>().ok())
                    .flatten()
            })
            .unwrap_or(1.0);
        if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
            gzip = Some(gzip.map_or(weight, |w: f32| w.max(weight)));
        } else if name == "*" {
            any = Some(weight);
        }
    }
    match gzip {
        Some(weight) => weight > 0.0,
        None => any.is_some_and(|weight| weight > 0.0),
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

#[cfg(all(test, feature = "gzip"))]
mod tests {
    use super::*;

    fn with_encoding(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn gzip_negotiation() {
        assert!(accepts_gzip(&with_encoding("gzip")));
        assert!(accepts_gzip(&with_encoding("identity, gzip;q=0.5")));
        assert!(accepts_gzip(&with_encoding("*")));
        assert!(!accepts_gzip(&with_encoding("gzip;q=0")));
        // An explicit refusal wins over the wildcard, in either order.
        assert!(!accepts_gzip(&with_encoding("gzip;q=0, *")));
        assert!(!accepts_gzip(&with_encoding("*, gzip; q=0.000")));
        assert!(!accepts_gzip(&with_encoding("*;q=0")));
        assert!(accepts_gzip(&with_encoding("br;q=1, *;q=0.1")));
        assert!(accepts_gzip(&with_encoding("GZIP;Q=0.5")));
        assert!(!accepts_gzip(&with_encoding("br, deflate")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}
