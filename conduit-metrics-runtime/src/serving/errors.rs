//! The errors of serving that exist whatever features are on, so code that matches on
//! them compiles the same with more features (features stay additive).

use std::net::SocketAddr;

/// Why TLS could not be set up from the configured files.
#[derive(Debug, thiserror::Error)]
#[error("cannot use TLS file {path}: {reason}")]
pub struct TlsError {
    /// The certificate or key file.
    pub path: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Why a push failed.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The gateway could not be reached.
    #[error("cannot reach the Pushgateway at {authority}: {source}")]
    Unreachable {
        /// `host:port`.
        authority: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The gateway answered with an error status.
    #[error("the Pushgateway at {authority} refused the push: {status_line}: {detail}")]
    Refused {
        /// `host:port`.
        authority: String,
        /// Its status line.
        status_line: String,
        /// The start of its answer.
        detail: String,
    },
}

/// Why the built-in server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The configuration names no address to listen on (`Listen` is `none`).
    #[error("cannot serve: Listen is none, and a server needs an address to listen on")]
    NoListenAddress,
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
    /// The server's thread or its runtime could not be started.
    #[error("cannot start the metrics thread: {0}")]
    Thread(std::io::Error),
}
