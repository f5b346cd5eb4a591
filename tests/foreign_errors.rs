//! Statuses of errors the application does not own, counted by `#[audio_metric]`: the
//! runtime's impls (`std::io::Error`, Tokio's `Elapsed`), `#[audio_status(transparent)]`
//! on a variant or a struct, and a `status = |e| ...` closure with `status_in_chain` over
//! `anyhow::Error`, `eyre::Report` and `Box<dyn Error + Send + Sync>`. Each test has its own providers.

use std::io::{self, ErrorKind};
use std::time::Duration;

use conduit_metrics_runtime::registry::global;
use conduit_metrics_runtime::{AudioStatus, Status, audio_metric, status_in_chain};

fn requests(operation: &str, provider: &str, status: &str) -> f64 {
    let series = format!(
        "conduit_audio_requests_total{{operation=\"{operation}\",provider=\"{provider}\",status=\"{status}\"}}"
    );
    conduit_metrics_testkit::value(&global().render(), &series)
}

#[audio_metric(operation = "transcription")]
async fn read_audio(provider: &str, kind: ErrorKind) -> Result<usize, io::Error> {
    Err(kind.into())
}

#[audio_metric(operation = "tts")]
async fn with_deadline(provider: &str) -> Result<(), tokio::time::error::Elapsed> {
    tokio::time::timeout(Duration::from_millis(1), std::future::pending::<()>()).await
}

#[tokio::test]
async fn io_errors_and_elapsed_timeouts_have_their_statuses() {
    for kind in [
        ErrorKind::TimedOut,
        ErrorKind::ConnectionRefused,
        ErrorKind::ConnectionReset,
        ErrorKind::InvalidData,
        ErrorKind::PermissionDenied,
    ] {
        read_audio("io-kinds", kind).await.unwrap_err();
    }
    assert_eq!(requests("transcription", "io-kinds", "timeout"), 1.0);
    assert_eq!(
        requests("transcription", "io-kinds", "provider_unavailable"),
        2.0
    );
    assert_eq!(
        requests("transcription", "io-kinds", "invalid_request"),
        1.0
    );
    assert_eq!(requests("transcription", "io-kinds", "error"), 1.0);

    with_deadline("deadline").await.unwrap_err();
    assert_eq!(requests("tts", "deadline", "timeout"), 1.0);
    assert_eq!(requests("tts", "deadline", "error"), 0.0);
}

/// A client error that wraps errors it does not own, as `thiserror` users write it.
#[derive(Debug, AudioStatus)]
enum ClientError {
    #[audio_status(transparent)]
    Io(io::Error),
    #[audio_status(transparent)]
    Deadline {
        source: tokio::time::error::Elapsed,
    },
    #[audio_status("rate_limited")]
    Throttled,
    Other,
}

/// A newtype over an error it does not own.
#[derive(Debug, AudioStatus)]
#[audio_status(transparent)]
struct Wrapped(io::Error);

#[audio_metric(operation = "translation")]
async fn call_client(provider: &str, error: ClientError) -> Result<(), ClientError> {
    Err(error)
}

#[audio_metric(operation = "translation")]
fn call_wrapped(provider: &str, kind: ErrorKind) -> Result<(), Wrapped> {
    Err(Wrapped(kind.into()))
}

#[tokio::test]
async fn transparent_variants_and_structs_take_their_fields_status() {
    let elapsed = tokio::time::timeout(Duration::ZERO, std::future::pending::<()>())
        .await
        .unwrap_err();
    for error in [
        ClientError::Io(ErrorKind::ConnectionAborted.into()),
        ClientError::Io(ErrorKind::TimedOut.into()),
        ClientError::Deadline { source: elapsed },
        ClientError::Throttled,
        ClientError::Other,
    ] {
        call_client("transparent", error).await.unwrap_err();
    }
    assert_eq!(
        requests("translation", "transparent", "provider_unavailable"),
        1.0
    );
    assert_eq!(requests("translation", "transparent", "timeout"), 2.0);
    assert_eq!(requests("translation", "transparent", "rate_limited"), 1.0);
    assert_eq!(requests("translation", "transparent", "error"), 1.0);

    call_wrapped("newtype", ErrorKind::InvalidInput).unwrap_err();
    assert_eq!(requests("translation", "newtype", "invalid_request"), 1.0);
}

/// The application's own error, somewhere in an `anyhow` chain.
#[derive(Debug, AudioStatus)]
enum TtsError {
    #[audio_status("rate_limited")]
    Throttled,
    #[audio_status("provider_unavailable")]
    Down,
}

impl std::fmt::Display for TtsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for TtsError {}

#[audio_metric(operation = "tts", status = |e| status_in_chain::<TtsError>(e))]
async fn synthesize(provider: &str, fail: Option<TtsError>) -> anyhow::Result<Vec<u8>> {
    match fail {
        Some(error) => Err(anyhow::Error::new(error).context("synthesizing a greeting")),
        None => Err(anyhow::anyhow!("the voice is not installed")),
    }
}

#[audio_metric(operation = "tts", status = |e| status_in_chain::<io::Error>(e))]
fn boxed(provider: &str, kind: ErrorKind) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    Err(Box::new(io::Error::from(kind)))
}

#[audio_metric(operation = "tts", status = |e| status_in_chain::<TtsError>(e))]
fn with_eyre(provider: &str) -> eyre::Result<()> {
    Err(eyre::Report::new(TtsError::Throttled).wrap_err("calling the voice API"))
}

/// A function works where a closure does.
#[audio_metric(operation = "tts", status = status_in_chain::<io::Error>)]
fn by_function(provider: &str) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    Err(io::Error::from(ErrorKind::ConnectionReset).into())
}

#[audio_metric(operation = "tts", status = |_| Status::Success)]
fn claims_success(provider: &str) -> Result<(), String> {
    Err("failed".to_owned())
}

#[tokio::test]
async fn a_status_closure_reads_errors_nobody_can_implement_the_trait_for() {
    synthesize("anyhow", Some(TtsError::Throttled))
        .await
        .unwrap_err();
    synthesize("anyhow", Some(TtsError::Down))
        .await
        .unwrap_err();
    synthesize("anyhow", None).await.unwrap_err();
    assert_eq!(requests("tts", "anyhow", "rate_limited"), 1.0);
    assert_eq!(requests("tts", "anyhow", "provider_unavailable"), 1.0);
    // No TtsError in the chain: error.
    assert_eq!(requests("tts", "anyhow", "error"), 1.0);

    boxed("boxed", ErrorKind::TimedOut).unwrap_err();
    assert_eq!(requests("tts", "boxed", "timeout"), 1.0);
    let _report = with_eyre("eyre").unwrap_err();
    assert_eq!(requests("tts", "eyre", "rate_limited"), 1.0);
    by_function("by-function").unwrap_err();
    assert_eq!(requests("tts", "by-function", "provider_unavailable"), 1.0);

    // A closure cannot make a failed call a success: it counts as error.
    claims_success("claims").unwrap_err();
    assert_eq!(requests("tts", "claims", "error"), 1.0);
    assert_eq!(requests("tts", "claims", "success"), 0.0);
}
