//! Serving the exposition: the built-in HTTP(S) server, the axum router, the push client
//! and the health probes, for the global registry (what [`install`](crate::install)
//! runs) or for any render function of yours.
//!
//! | file | concern |
//! |---|---|
//! | `endpoint.rs` | what every request goes through: allowlist, rate limit, route, method, credentials, body |
//! | `access.rs` | credentials compared in constant time, the per-client rate limiter |
//! | `cache.rs` | [`ScrapeCache`]: a rendered body (and its gzip form) reused for CacheExpiration |
//! | `server.rs` | [`EndpointServer`]: the built-in server, its connection limits and graceful stop |
//! | `tls.rs` | the rustls acceptor from PEM files |
//! | `router.rs` | the endpoint as an axum `Router` |
//! | `push.rs` | the Pushgateway client |
//! | `health.rs` | [`HealthProbe`]: periodic checks of a provider |
//!
//! Each part has a Cargo feature: [`EndpointServer`] needs `http-listener` (and `tls` for
//! HTTPS), the router `axum`, gzip `gzip`, pushes `push-gateway`; [`ScrapeCache`] and
//! [`HealthProbe`] are always there.
//!
//! Serving a registry of your own, with the whole configuration applied (path, cache,
//! credentials, allowlist, rate limit, TLS):
//!
//! ```
//! # #[cfg(feature = "http-listener")] {
//! use conduit_metrics_runtime::MetricsConfig;
//! use conduit_metrics_runtime::registry::Registry;
//! use conduit_metrics_runtime::serving::EndpointServer;
//!
//! let registry: &'static Registry = Box::leak(Box::new(Registry::new(&MetricsConfig::default())));
//! let config = MetricsConfig::builder().listen("127.0.0.1:0".parse()?).build()?;
//! let server = EndpointServer::start(&config, move || registry.render())?;
//! println!("serving on {}", server.local_addr());
//! server.shutdown();
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// What each part needs: the request decisions, credentials and rate limit serve both the
// built-in server and the router; the rest has a feature of its own.
#[cfg(any(feature = "http-listener", feature = "axum"))]
mod access;
mod cache;
#[cfg(any(feature = "http-listener", feature = "axum"))]
mod endpoint;
mod errors;
mod health;
#[cfg(feature = "otlp")]
mod otlp;
#[cfg(feature = "push-gateway")]
mod push;
#[cfg(feature = "axum")]
mod router;
#[cfg(feature = "http-listener")]
mod server;
#[cfg(feature = "tls")]
mod tls;

pub use crate::exposition::{ExpositionFormat, PROTOBUF_CONTENT_TYPE};
pub use cache::{FormatRenderFn, RenderFn, ScrapeCache};
#[cfg(any(feature = "http-listener", feature = "axum"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "http-listener", feature = "axum"))))]
pub use endpoint::{HEALTH_PATH, TEXT_FORMAT_CONTENT_TYPE};
pub use errors::{PushError, ServeError, TlsError};
pub use health::{HealthProbe, ProbeResult};
#[cfg(feature = "http-listener")]
#[cfg_attr(docsrs, doc(cfg(feature = "http-listener")))]
pub use server::EndpointServer;

#[cfg(any(feature = "http-listener", feature = "axum"))]
pub(crate) use endpoint::Endpoint;
pub(crate) use health::ProbeSchedule;
#[cfg(feature = "otlp")]
pub(crate) use otlp::OtlpExporter;
#[cfg(feature = "push-gateway")]
pub(crate) use push::Pusher;
#[cfg(feature = "otlp")]
pub(crate) use push::host_name;
#[cfg(feature = "axum")]
pub(crate) use router::router;
#[cfg(feature = "http-listener")]
pub(crate) use server::{Tls, bind, serve, tls_from_config};
