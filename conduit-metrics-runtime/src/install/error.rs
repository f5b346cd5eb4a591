//! `InstallError`: why `install` failed.

use std::net::SocketAddr;

use crate::config::ConfigError;
#[cfg(feature = "http-listener")]
use crate::config::ConfigOption;
#[cfg(feature = "http-listener")]
use crate::serving::ServeError;
use crate::serving::{PushError, TlsError};

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
    /// The listen address could not be bound.
    #[error("cannot listen on {address} (Listen): {source}")]
    Bind {
        /// The address from the configuration.
        address: SocketAddr,
        /// The operating system's error (e.g. address in use).
        source: std::io::Error,
    },
    /// The TLS certificate or key could not be used.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The push client could not be set up (an unusable `PushCaCertificate`, no crypto
    /// provider for HTTPS).
    #[error("cannot set up pushes: {0}")]
    Push(PushError),
    /// The background thread or its runtime could not be started.
    #[error("cannot start the metrics thread: {0}")]
    Thread(std::io::Error),
}

#[cfg(feature = "http-listener")]
impl From<ServeError> for InstallError {
    fn from(error: ServeError) -> Self {
        match error {
            ServeError::Bind { address, source } => InstallError::Bind { address, source },
            ServeError::Tls(error) => InstallError::Tls(error),
            ServeError::Thread(error) => InstallError::Thread(error),
            // install() binds only when Listen names an address.
            ServeError::NoListenAddress => InstallError::Config(ConfigError::InvalidValue {
                option: ConfigOption::Listen,
                value: "none".to_owned(),
                origin: "install".to_owned(),
                reason: "a server needs an address to listen on".to_owned(),
            }),
        }
    }
}
