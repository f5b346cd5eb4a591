//! Statuses for errors you don't own: the impls shipped here for other crates' errors.
//! Three ways to give one:
//!
//! - impls shipped here for the errors audio clients meet (the orphan rule keeps you from
//!   writing them): the table below;
//! - `#[audio_status(transparent)]` on a one-field variant of your derived error enum
//!   (`Http(reqwest::Error)`), which takes the field's status, as thiserror's
//!   `#[error(transparent)]` takes its message;
//! - a `status = |e| ...` closure on `#[audio_metric]`, for errors nobody can implement the
//!   trait for (`anyhow::Error`, `eyre::Report`, `Box<dyn Error>`), usually with
//!   [`status_in_chain`], which finds your error in the source chain.
//!
//! | error | status |
//! |---|---|
//! | `std::io::Error` of kind `TimedOut` | `timeout` |
//! | `std::io::Error` of kind `ConnectionRefused`, `ConnectionReset`, `ConnectionAborted`, `NotConnected` | `provider_unavailable` |
//! | `std::io::Error` of kind `InvalidInput`, `InvalidData` | `invalid_request` |
//! | any other `std::io::Error` | `error` |
//! | `tokio::time::error::Elapsed` (from `tokio::time::timeout`) | `timeout` |
//! | `reqwest::Error` that timed out (feature `reqwest`) | `timeout` |
//! | `reqwest::Error` with status 429 | `rate_limited` |
//! | `reqwest::Error` that could not connect, or with status 502, 503, 504 | `provider_unavailable` |
//! | `reqwest::Error` with any other 4xx status | `invalid_request` |
//! | any other `reqwest::Error` | `error` |

use std::error::Error;
use std::io::ErrorKind;
use std::rc::Rc;
use std::sync::Arc;

use crate::labels::{AudioStatus, Status, error_status};

impl AudioStatus for std::io::Error {
    fn audio_status(&self) -> Status {
        match self.kind() {
            ErrorKind::TimedOut => Status::Timeout,
            ErrorKind::ConnectionRefused
            | ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::NotConnected => Status::ProviderUnavailable,
            ErrorKind::InvalidInput | ErrorKind::InvalidData => Status::InvalidRequest,
            _ => Status::Error,
        }
    }
}

impl AudioStatus for tokio::time::error::Elapsed {
    fn audio_status(&self) -> Status {
        Status::Timeout
    }
}

#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
impl AudioStatus for reqwest::Error {
    fn audio_status(&self) -> Status {
        // A connect timeout is both a timeout and a connect error: it timed out.
        if self.is_timeout() {
            return Status::Timeout;
        }
        match self.status().map(|status| status.as_u16()) {
            Some(429) => Status::RateLimited,
            Some(502..=504) => Status::ProviderUnavailable,
            Some(400..=499) => Status::InvalidRequest,
            Some(_) => Status::Error,
            None if self.is_connect() => Status::ProviderUnavailable,
            None => Status::Error,
        }
    }
}

/// Where an error's source chain starts: implemented for `dyn Error` (alone, `+ Send`,
/// `+ Send + Sync`), for boxes, `Arc`s and `Rc`s of them, and, with the `anyhow` and `eyre`
/// features, for `anyhow::Error` and `eyre::Report`. A concrete error type goes in as
/// `&error as &dyn Error`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an error chain `status_in_chain` can read",
    note = "pass `&error as &dyn std::error::Error`, or enable the `anyhow` or `eyre` feature of conduit-metrics-runtime for those error types"
)]
pub trait ErrorChain {
    /// The first error of the chain.
    fn chain_start(&self) -> &(dyn Error + 'static);
}

impl ErrorChain for dyn Error + 'static {
    fn chain_start(&self) -> &(dyn Error + 'static) {
        self
    }
}

impl ErrorChain for dyn Error + Send + 'static {
    fn chain_start(&self) -> &(dyn Error + 'static) {
        self
    }
}

impl ErrorChain for dyn Error + Send + Sync + 'static {
    fn chain_start(&self) -> &(dyn Error + 'static) {
        self
    }
}

impl<T: ErrorChain + ?Sized> ErrorChain for Box<T> {
    fn chain_start(&self) -> &(dyn Error + 'static) {
        (**self).chain_start()
    }
}

impl<T: ErrorChain + ?Sized> ErrorChain for Arc<T> {
    fn chain_start(&self) -> &(dyn Error + 'static) {
        (**self).chain_start()
    }
}

impl<T: ErrorChain + ?Sized> ErrorChain for Rc<T> {
    fn chain_start(&self) -> &(dyn Error + 'static) {
        (**self).chain_start()
    }
}

#[cfg(feature = "anyhow")]
#[cfg_attr(docsrs, doc(cfg(feature = "anyhow")))]
impl ErrorChain for anyhow::Error {
    fn chain_start(&self) -> &(dyn Error + 'static) {
        self.as_ref()
    }
}

#[cfg(feature = "eyre")]
#[cfg_attr(docsrs, doc(cfg(feature = "eyre")))]
impl ErrorChain for eyre::Report {
    fn chain_start(&self) -> &(dyn Error + 'static) {
        self.as_ref()
    }
}

/// The status of the first error of type `T` in `error`'s source chain (`error` itself
/// first), or `error` when there is none: for errors nobody can implement `AudioStatus`
/// for, such as `anyhow::Error` (feature `anyhow`), `eyre::Report` (feature `eyre`) or
/// `Box<dyn Error + Send + Sync>`.
///
/// ```
/// use conduit_metrics_runtime::{AudioStatus, Status, status_in_chain};
///
/// #[derive(Debug, AudioStatus)]
/// enum TtsError {
///     #[audio_status("rate_limited")]
///     Throttled,
/// }
/// # impl std::fmt::Display for TtsError {
/// #     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("throttled") }
/// # }
/// # impl std::error::Error for TtsError {}
///
/// let error: Box<dyn std::error::Error + Send + Sync> = Box::new(TtsError::Throttled);
/// assert_eq!(status_in_chain::<TtsError>(&error), Status::RateLimited);
/// assert_eq!(status_in_chain::<std::io::Error>(&error), Status::Error);
/// ```
///
/// On an instrumented function returning `anyhow::Result<T>`:
/// `#[audio_metric(operation = "tts", status = |e| status_in_chain::<TtsError>(e))]`.
pub fn status_in_chain<T>(error: &(impl ErrorChain + ?Sized)) -> Status
where
    T: AudioStatus + Error + 'static,
{
    let mut current = Some(error.chain_start());
    while let Some(error) = current {
        if let Some(found) = error.downcast_ref::<T>() {
            return error_status(found.audio_status());
        }
        current = error.source();
    }
    Status::Error
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    #[test]
    fn io_errors_by_kind() {
        let status = |kind| io::Error::from(kind).audio_status();
        assert_eq!(status(ErrorKind::TimedOut), Status::Timeout);
        for kind in [
            ErrorKind::ConnectionRefused,
            ErrorKind::ConnectionReset,
            ErrorKind::ConnectionAborted,
            ErrorKind::NotConnected,
        ] {
            assert_eq!(status(kind), Status::ProviderUnavailable, "{kind:?}");
        }
        assert_eq!(status(ErrorKind::InvalidInput), Status::InvalidRequest);
        assert_eq!(status(ErrorKind::InvalidData), Status::InvalidRequest);
        assert_eq!(status(ErrorKind::NotFound), Status::Error);
        assert_eq!(status(ErrorKind::Other), Status::Error);
    }

    #[test]
    fn an_elapsed_timeout_is_a_timeout() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let elapsed = runtime
            .block_on(async {
                let never = std::future::pending::<()>();
                tokio::time::timeout(std::time::Duration::from_millis(1), never).await
            })
            .unwrap_err();
        assert_eq!(elapsed.audio_status(), Status::Timeout);
    }

    /// An error with context on top, as anyhow's `.context(..)` builds.
    #[derive(Debug)]
    struct Context(Box<dyn Error + Send + Sync + 'static>);

    impl std::fmt::Display for Context {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("while calling the provider")
        }
    }

    impl Error for Context {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&*self.0)
        }
    }

    #[test]
    fn the_first_matching_error_in_the_chain_gives_the_status() {
        let wrapped: Box<dyn Error + Send + Sync> = Box::new(Context(Box::new(io::Error::from(
            ErrorKind::ConnectionRefused,
        ))));
        assert_eq!(
            status_in_chain::<io::Error>(&wrapped),
            Status::ProviderUnavailable
        );
        // Nothing of that type in the chain: error.
        assert_eq!(
            status_in_chain::<tokio::time::error::Elapsed>(&wrapped),
            Status::Error
        );
        // A concrete error goes in as `&dyn Error`; so do Arc'd and plain boxes.
        let concrete = Context(Box::new(io::Error::from(ErrorKind::TimedOut)));
        assert_eq!(
            status_in_chain::<io::Error>(&concrete as &dyn Error),
            Status::Timeout
        );
        let shared: Arc<dyn Error + Send + Sync> = Arc::new(concrete);
        assert_eq!(status_in_chain::<io::Error>(&shared), Status::Timeout);
    }

    /// Answers every connection with `status`, after `delay`.
    #[cfg(feature = "reqwest")]
    fn answering(status: u16, delay: std::time::Duration) -> std::net::SocketAddr {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(4) {
                let Ok(mut stream) = stream else { continue };
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                std::thread::sleep(delay);
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        });
        address
    }

    #[cfg(feature = "reqwest")]
    #[test]
    fn reqwest_errors_by_what_happened() {
        use std::time::Duration;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let status_of = |address: String| {
            runtime.block_on(async {
                let result = client.get(address).send().await;
                let error = match result {
                    Ok(response) => response.error_for_status().unwrap_err(),
                    Err(error) => error,
                };
                error.audio_status()
            })
        };
        let answered = |status| format!("http://{}/", answering(status, Duration::ZERO));
        assert_eq!(status_of(answered(429)), Status::RateLimited);
        for status in [502, 503, 504] {
            assert_eq!(
                status_of(answered(status)),
                Status::ProviderUnavailable,
                "{status}"
            );
        }
        for status in [400, 401, 404, 422] {
            assert_eq!(
                status_of(answered(status)),
                Status::InvalidRequest,
                "{status}"
            );
        }
        assert_eq!(status_of(answered(500)), Status::Error);
        let slow = answering(200, Duration::from_secs(3));
        assert_eq!(status_of(format!("http://{slow}/")), Status::Timeout);
        // A port nobody listens on: the connection is refused.
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        assert_eq!(
            status_of(format!("http://{closed}/")),
            Status::ProviderUnavailable
        );
    }
}
