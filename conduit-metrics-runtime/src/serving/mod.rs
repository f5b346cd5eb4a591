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
//! Serving a registry of your own, with the whole configuration applied (path, cache,
//! credentials, allowlist, rate limit, TLS):
//!
//! ```
//! use conduit_metrics_runtime::MetricsConfig;
//! use conduit_metrics_runtime::registry::Registry;
//! use conduit_metrics_runtime::serving::EndpointServer;
//!
//! let registry: &'static Registry = Box::leak(Box::new(Registry::new(&MetricsConfig::default())));
//! let config = MetricsConfig::builder().listen("127.0.0.1:0".parse()?).build()?;
//! let server = EndpointServer::start(&config, move || registry.render())?;
//! println!("serving on {}", server.local_addr());
//! server.shutdown();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod access;
mod cache;
mod endpoint;
mod health;
mod push;
mod router;
mod server;
mod tls;

pub use cache::{RenderFn, ScrapeCache};
pub use endpoint::{HEALTH_PATH, TEXT_FORMAT_CONTENT_TYPE};
pub use health::{HealthProbe, ProbeResult};
pub use push::PushError;
pub use server::{EndpointServer, ServeError};
pub use tls::TlsError;

pub(crate) use endpoint::Endpoint;
pub(crate) use push::Pusher;
pub(crate) use router::router;
pub(crate) use server::{bind, serve};
pub(crate) use tls::tls_acceptor;
