//! `InstallError`: why `install` failed.

use crate::config::ConfigError;
use crate::serving::{PushError, ServeError};

/// Why [`install`](crate::install) failed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// The configuration (from the environment, for [`install`](crate::install)) is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// `install` already succeeded in this process.
    #[error(
        "conduit-metrics is already installed in this process ({0}); install it once and keep the handle"
    )]
    AlreadyInstalled(String),
    /// The endpoint could not be set up: the listen address could not be bound
    /// ([`ServeError::Bind`]) or the TLS certificate or key could not be used
    /// ([`ServeError::Tls`]).
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// The push client could not be set up (an unusable `PushCaCertificate`, no crypto
    /// provider for HTTPS).
    #[error("cannot set up pushes: {0}")]
    Push(PushError),
    /// The OTLP exporter could not be set up (a header that is not valid in HTTP, an
    /// unusable `OtlpCaCertificate`, no crypto provider for HTTPS).
    #[error("cannot set up the OTLP export: {0}")]
    Otlp(PushError),
    /// The background thread or its runtime could not be started.
    #[error("cannot start the metrics thread: {0}")]
    Thread(std::io::Error),
}
