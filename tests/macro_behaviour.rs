//! `#[audio_metric]` on every supported form records exactly what the contract says.
//! Each test uses its own provider names, so tests can share the global registry.

use std::time::Duration;

mod common;

use common::{global_requests as requests, global_value as value};
use conduit_metrics_runtime::{AudioStatus, DisconnectReason, audio_metric};

#[derive(Debug, AudioStatus)]
#[allow(dead_code)] // the fields show that every variant shape is supported
enum ProviderError {
    #[audio_status("timeout")]
    Timeout,
    #[audio_status("rate_limited")]
    RateLimited {
        retry_after: u32,
    },
    #[audio_status("invalid_request")]
    BadAudio(String),
    #[audio_status("provider_unavailable")]
    Down,
    Unknown,
}

#[derive(Debug)]
struct PlainError;

#[audio_metric(operation = "transcription")]
async fn transcribe(provider: &str, outcome: u8) -> Result<String, ProviderError> {
    match outcome {
        0 => Ok("hello".to_owned()),
        1 => Err(ProviderError::Timeout),
        2 => Err(ProviderError::RateLimited { retry_after: 1 }),
        3 => Err(ProviderError::BadAudio("wav".into())),
        4 => Err(ProviderError::Down),
        _ => Err(ProviderError::Unknown),
    }
}

#[audio_metric(operation = "translation")]
fn translate_plain(provider: String, fail: bool) -> Result<u32, PlainError> {
    if fail { Err(PlainError) } else { Ok(1) }
}

#[tokio::test]
async fn statuses_follow_the_error_type() {
    for outcome in 0..=5 {
        let _ = transcribe("statuses", outcome).await;
    }
    let _ = transcribe("statuses", 0).await;
    assert_eq!(requests("transcription", "statuses", "success"), 2.0);
    for status in [
        "timeout",
        "rate_limited",
        "invalid_request",
        "provider_unavailable",
        "error",
    ] {
        assert_eq!(
            requests("transcription", "statuses", status),
            1.0,
            "{status}"
        );
    }
    assert_eq!(requests("transcription", "statuses", "cancelled"), 0.0);
    assert_eq!(
        value(
            "conduit_audio_request_duration_seconds_count{operation=\"transcription\",provider=\"statuses\"}"
        ),
        7.0
    );

    // An error type without AudioStatus counts as "error", with no extra code.
    let _ = translate_plain("plain".to_owned(), true);
    let _ = translate_plain("plain".to_owned(), false);
    assert_eq!(requests("translation", "plain", "error"), 1.0);
    assert_eq!(requests("translation", "plain", "success"), 1.0);
}

#[audio_metric(operation = "tts", provider = "early")]
fn early_return_and_question_mark(input: &str) -> Result<usize, std::num::ParseIntError> {
    if input.is_empty() {
        return Ok(0);
    }
    let number: usize = input.parse()?;
    Ok(number * 2)
}

#[audio_metric(operation = "tts", provider = "unit")]
fn returns_unit(counter: &mut u32) {
    *counter += 1;
}

#[audio_metric(operation = "tts", provider = "value")]
fn returns_a_value() -> u64 {
    42
}

#[test]
fn sync_functions_with_early_return_question_mark_and_plain_values() {
    assert_eq!(early_return_and_question_mark(""), Ok(0));
    assert_eq!(early_return_and_question_mark("21"), Ok(42));
    assert!(early_return_and_question_mark("x").is_err());
    assert_eq!(requests("tts", "early", "success"), 2.0);
    assert_eq!(requests("tts", "early", "error"), 1.0);
    let mut counter = 0;
    returns_unit(&mut counter);
    returns_unit(&mut counter);
    assert_eq!(counter, 2);
    assert_eq!(requests("tts", "unit", "success"), 2.0);
    assert_eq!(returns_a_value(), 42);
    assert_eq!(requests("tts", "value", "success"), 1.0);
}

struct Client {
    name: String,
    calls: u32,
}

#[derive(Debug, PartialEq)]
struct Speech {
    audio: Vec<u8>,
    cost_usd: f64,
    from_cache: bool,
}

impl Client {
    fn name(&self) -> &str {
        &self.name
    }

    #[audio_metric(operation = "tts", provider = self.name(), size = |s| s.audio.len(), cost = |s| s.cost_usd, cache_hit = |s| s.from_cache)]
    async fn speak(&self, text: &str) -> Result<Speech, ProviderError> {
        tokio::time::sleep(Duration::from_millis(1)).await;
        if text == "slow" {
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
        Ok(Speech {
            audio: vec![0; text.len() * 1000],
            cost_usd: 0.25,
            from_cache: text == "cached",
        })
    }

    #[audio_metric(operation = "transcription", provider = self.name.clone(), size = audio.len())]
    fn transcribe_mut(&mut self, audio: &[u8]) -> Result<usize, PlainError> {
        self.calls += 1;
        if audio.is_empty() {
            Err(PlainError)
        } else {
            Ok(audio.len())
        }
    }

    #[audio_metric(operation = "translation", provider = self.name.as_str())]
    fn into_name(self) -> String {
        self.name.clone()
    }

    #[audio_metric(operation = "translation", provider = self.name())]
    fn generic<T: std::fmt::Display>(
        &self,
        value: T,
        extra: impl AsRef<str>,
    ) -> Result<impl std::fmt::Display, PlainError> {
        Ok(format!("{value}{}", extra.as_ref()))
    }

    #[audio_metric(operation = "translation", provider = self.name())]
    async fn generic_async<T: std::fmt::Display + Send>(
        &self,
        value: T,
    ) -> Result<impl std::fmt::Display, PlainError> {
        let parsed: u32 = "7".parse().map_err(|_| PlainError)?;
        Ok(format!("{value}{parsed}"))
    }
}

#[tokio::test]
async fn methods_with_self_forms_closures_and_sizes() {
    let mut client = Client {
        name: "methods".to_owned(),
        calls: 0,
    };
    let speech = client.speak("hello").await.unwrap();
    assert_eq!(speech.audio.len(), 5000);
    client.speak("cached").await.unwrap();
    assert_eq!(requests("tts", "methods", "success"), 2.0);
    assert_eq!(
        value(
            "conduit_audio_request_size_bytes_bucket{operation=\"tts\",provider=\"methods\",le=\"10240\"}"
        ),
        2.0
    );
    assert_eq!(
        value("conduit_audio_request_size_bytes_sum{operation=\"tts\",provider=\"methods\"}"),
        11000.0
    );

    // Request size from an expression evaluated before the body, recorded on errors too.
    client.transcribe_mut(&[1; 2000]).unwrap();
    assert!(client.transcribe_mut(&[]).is_err());
    assert_eq!(client.calls, 2);
    assert_eq!(
        value(
            "conduit_audio_request_size_bytes_count{operation=\"transcription\",provider=\"methods\"}"
        ),
        2.0
    );
    assert_eq!(
        value(
            "conduit_audio_request_size_bytes_bucket{operation=\"transcription\",provider=\"methods\",le=\"1024\"}"
        ),
        1.0
    );

    assert_eq!(client.generic(1, "a").unwrap().to_string(), "1a");
    assert_eq!(client.generic_async("x").await.unwrap().to_string(), "x7");
    assert_eq!(client.into_name(), "methods");
    assert_eq!(requests("translation", "methods", "success"), 3.0);
}

#[tokio::test]
async fn costs_and_cache_hits_from_closures() {
    // Costs and cache lookups are per operation, exported from the start (0 before any).
    let cost_before = value("conduit_audio_cost_dollars{operation=\"tts\"}");
    let hits_before = value("conduit_audio_cache_lookups_total{operation=\"tts\",result=\"hit\"}");
    let misses_before =
        value("conduit_audio_cache_lookups_total{operation=\"tts\",result=\"miss\"}");
    let client = Client {
        name: "costs".to_owned(),
        calls: 0,
    };
    client.speak("a").await.unwrap();
    client.speak("cached").await.unwrap();
    client.speak("cached").await.unwrap();
    let cost = value("conduit_audio_cost_dollars{operation=\"tts\"}") - cost_before;
    let hits =
        value("conduit_audio_cache_lookups_total{operation=\"tts\",result=\"hit\"}") - hits_before;
    let misses = value("conduit_audio_cache_lookups_total{operation=\"tts\",result=\"miss\"}")
        - misses_before;
    // The test command runs each test in a process of its own (nextest), so these are
    // this test's calls alone: 3 calls at 0.25 dollars, 2 cache hits and 1 miss.
    assert_eq!(cost, 0.75);
    assert_eq!(hits, 2.0);
    assert_eq!(misses, 1.0);
}

#[tokio::test]
async fn dropped_futures_are_cancelled_and_the_gauge_returns() {
    let client = Client {
        name: "cancel".to_owned(),
        calls: 0,
    };
    let timed_out = tokio::time::timeout(Duration::from_millis(20), client.speak("slow")).await;
    assert!(timed_out.is_err());
    // Dropped while in flight, by a select losing the race.
    tokio::select! {
        _ = client.speak("slow") => unreachable!("the slow call cannot win"),
        _ = tokio::time::sleep(Duration::from_millis(20)) => {}
    }
    assert_eq!(requests("tts", "cancel", "cancelled"), 2.0);
    assert_eq!(requests("tts", "cancel", "success"), 0.0);
    // Cancelled calls have no duration.
    assert_eq!(
        value(
            "conduit_audio_request_duration_seconds_count{operation=\"tts\",provider=\"cancel\"}"
        ),
        0.0
    );
}

#[audio_metric(operation = "transcription", provider = "panics")]
fn panicking_sync(crash: bool) -> Result<(), PlainError> {
    if crash {
        panic!("decoder bug");
    }
    Ok(())
}

#[audio_metric(operation = "translation", provider = "panics-async")]
async fn panicking_async() -> Result<(), PlainError> {
    tokio::task::yield_now().await;
    panic!("async decoder bug");
}

#[tokio::test]
async fn panics_are_counted_and_still_propagate() {
    let caught = std::panic::catch_unwind(|| panicking_sync(true));
    assert!(caught.is_err(), "the panic must propagate");
    panicking_sync(false).unwrap();
    assert_eq!(requests("transcription", "panics", "panic"), 1.0);
    assert_eq!(requests("transcription", "panics", "success"), 1.0);

    let joined = tokio::spawn(panicking_async()).await;
    assert!(joined.unwrap_err().is_panic());
    assert_eq!(requests("translation", "panics-async", "panic"), 1.0);
    assert_eq!(
        value(
            "conduit_audio_request_duration_seconds_count{operation=\"translation\",provider=\"panics-async\"}"
        ),
        1.0
    );
}

struct Session {
    reason: DisconnectReason,
}

#[audio_metric(operation = "realtime", disconnect_reason = |s| s.reason)]
async fn realtime_session(
    provider: &str,
    reason: Option<DisconnectReason>,
) -> Result<Session, ProviderError> {
    match reason {
        Some(reason) => Ok(Session { reason }),
        None => Err(ProviderError::Down),
    }
}

#[tokio::test]
async fn realtime_functions_record_sessions() {
    realtime_session("rt", Some(DisconnectReason::ServerClose))
        .await
        .unwrap();
    realtime_session("rt", Some(DisconnectReason::ClientDisconnect))
        .await
        .unwrap();
    assert!(realtime_session("rt", None).await.is_err());
    let pending = realtime_session("rt", Some(DisconnectReason::Timeout));
    drop(pending); // never polled: never started, nothing recorded
    // A provider's sessions export every reason from its first session.
    let reason = |r: &str| {
        value(&format!(
            "conduit_audio_realtime_sessions_total{{provider=\"rt\",disconnect_reason=\"{r}\"}}"
        ))
    };
    assert_eq!(reason("server_close"), 1.0);
    assert_eq!(reason("client_disconnect"), 1.0);
    assert_eq!(reason("provider_error"), 1.0);
    assert_eq!(reason("timeout"), 0.0);
    assert_eq!(requests("realtime", "rt", "success"), 2.0);
    assert_eq!(requests("realtime", "rt", "provider_unavailable"), 1.0);
    assert_eq!(
        value("conduit_audio_realtime_duration_seconds_count{provider=\"rt\"}"),
        3.0
    );
}

#[async_trait::async_trait]
trait Transcriber {
    async fn transcribe(&self, audio: &[u8]) -> Result<String, ProviderError>;
}

struct AsyncTraitClient;

#[async_trait::async_trait]
impl Transcriber for AsyncTraitClient {
    #[audio_metric(operation = "transcription", provider = "async-trait", size = audio.len())]
    async fn transcribe(&self, audio: &[u8]) -> Result<String, ProviderError> {
        tokio::time::sleep(Duration::from_millis(30)).await;
        if audio.is_empty() {
            return Err(ProviderError::Timeout);
        }
        Ok("text".to_owned())
    }
}

trait NativeTranscriber {
    fn transcribe(
        &self,
        provider: &str,
    ) -> impl std::future::Future<Output = Result<String, ProviderError>> + Send;
}

struct NativeClient;

impl NativeTranscriber for NativeClient {
    #[audio_metric(operation = "transcription")]
    async fn transcribe(&self, provider: &str) -> Result<String, ProviderError> {
        Ok(provider.to_owned())
    }
}

#[tokio::test]
async fn async_trait_and_native_async_trait_methods() {
    let client: Box<dyn Transcriber + Send + Sync> = Box::new(AsyncTraitClient);
    client.transcribe(b"abc").await.unwrap();
    assert!(client.transcribe(b"").await.is_err());
    assert_eq!(requests("transcription", "async-trait", "success"), 1.0);
    assert_eq!(requests("transcription", "async-trait", "timeout"), 1.0);
    // The body's time is measured, not just the creation of the boxed future.
    let slow_calls = value(
        "conduit_audio_request_duration_seconds_bucket{operation=\"transcription\",provider=\"async-trait\",le=\"0.1\"}",
    );
    let sum = value(
        "conduit_audio_request_duration_seconds_sum{operation=\"transcription\",provider=\"async-trait\"}",
    );
    assert_eq!(slow_calls, 2.0);
    assert!(sum >= 0.06, "sum {sum}");

    assert_eq!(NativeClient.transcribe("native").await.unwrap(), "native");
    assert_eq!(requests("transcription", "native", "success"), 1.0);
}

#[tokio::test]
async fn the_active_gauge_returns_to_its_value_before_the_call() {
    let client = Client {
        name: "gauge".to_owned(),
        calls: 0,
    };
    // Each test runs in its own process (nextest): nothing else records tts here.
    let gauge = "conduit_audio_active_operations{operation=\"tts\"}";
    let before = value(gauge);
    let call = tokio::spawn(async move { client.speak("slow").await });
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while value(gauge) < before + 1.0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the call never started"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(value(gauge), before + 1.0);
    call.abort();
    assert!(call.await.unwrap_err().is_cancelled());
    assert_eq!(requests("tts", "gauge", "cancelled"), 1.0);
    // The guard ran on drop: the gauge is back where it was.
    assert_eq!(value(gauge), before);
}
