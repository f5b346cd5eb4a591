//! The fixed bounds of the runtime: what the configuration accepts, how long a provider
//! label may be, and what the endpoint and push client allow a peer. They are constants,
//! not options, so a bad value or a hostile peer cannot lift them.

use std::time::Duration;

/// Largest accepted `MaxProviders`.
pub const MAX_PROVIDERS_LIMIT: usize = 1024;

/// Largest accepted `MaxModels`.
pub const MAX_MODELS_LIMIT: usize = 256;

/// Most sub-intervals a window may have (`MetricsWindow / ExportInterval`), which bounds
/// the memory of the windowed gauges.
pub const MAX_WINDOW_SLOTS: u64 = 10_000;

/// Longest provider label in bytes; longer names are cut at a character boundary.
pub const MAX_PROVIDER_LABEL_BYTES: usize = 64;

/// Connections the built-in server serves at once; more wait in the listen backlog until
/// one closes.
pub const MAX_CONNECTIONS: usize = 512;

/// Time a client has to send a request's headers (also bounds idle keep-alive waits and
/// slow-loris clients).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Time a client has to finish the TLS handshake.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// Largest request head accepted (larger gets 431).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Longest a single connection may stay open, whatever it does.
pub const MAX_CONNECTION_LIFETIME: Duration = Duration::from_secs(300);

/// Client addresses the rate limiter tracks at most; past it, idle entries are dropped
/// and, if still full, new clients are refused until entries age out.
pub const MAX_TRACKED_CLIENTS: usize = 10_000;

/// Time a push has to connect, send and read the answer.
pub const PUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// The lowest native-histogram schema Prometheus accepts (each bucket 2^16 times as wide
/// as its lower bound).
pub const MIN_SCHEMA: i8 = -4;

/// The highest native-histogram schema Prometheus accepts (each bucket 0.27% wider than
/// its lower bound).
pub const MAX_SCHEMA: i8 = 8;

/// Largest accepted `NativeHistogramMaxBuckets`.
pub const MAX_NATIVE_BUCKETS: usize = 10_000;
