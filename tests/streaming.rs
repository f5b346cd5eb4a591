//! `#[audio_metric(stream)]`, `audio_seconds`, `characters`, and plain functions that
//! return futures: every row of the contract's "Streaming calls" table, with exact deltas.
//! Each test uses its own provider names, so tests can share the global registry.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

mod common;

use common::{
    global_first_use_sample, global_requests as requests, global_sample as sample,
    global_value as value, pair_series as series,
};
use conduit_metrics_runtime::{AudioStatus, audio_metric};
use futures_util::stream::{self, BoxStream, Stream, StreamExt};

fn first_byte_count(operation: &str, provider: &str) -> f64 {
    global_first_use_sample(
        "conduit_audio_time_to_first_byte_seconds",
        &series(
            "conduit_audio_time_to_first_byte_seconds_count",
            operation,
            provider,
        ),
    )
}

/// Completed calls of a pair: the duration histogram exists from the pair's first call.
fn duration_count(operation: &str, provider: &str) -> f64 {
    value(&series(
        "conduit_audio_request_duration_seconds_count",
        operation,
        provider,
    ))
}

fn active(operation: &str) -> f64 {
    value(&format!(
        "conduit_audio_active_operations{{operation=\"{operation}\"}}"
    ))
}

#[derive(Debug, AudioStatus)]
enum SynthesisError {
    #[audio_status("rate_limited")]
    RateLimited,
    #[audio_status("timeout")]
    Timeout,
}

/// One chunk of synthesized audio: 16-bit mono PCM at 24 kHz.
struct Chunk {
    pcm: Vec<u8>,
}

impl Chunk {
    fn of_millis(millis: usize) -> Chunk {
        Chunk {
            pcm: vec![0; millis * 48],
        }
    }

    fn seconds(&self) -> f64 {
        self.pcm.len() as f64 / 48_000.0
    }
}

/// A stream of `items` with a pause before the first.
fn paced(
    first_after: Duration,
    items: Vec<Result<Chunk, SynthesisError>>,
) -> impl Stream<Item = Result<Chunk, SynthesisError>> {
    stream::once(async move {
        tokio::time::sleep(first_after).await;
        stream::iter(items)
    })
    .flatten()
}

#[audio_metric(
    operation = "tts",
    stream,
    size = |chunk| chunk.pcm.len(),
    audio_seconds = |chunk| chunk.seconds(),
    characters = text.chars().count()
)]
async fn synthesize(
    provider: &str,
    text: &str,
    first_after: Duration,
    items: Vec<Result<Chunk, SynthesisError>>,
) -> impl Stream<Item = Result<Chunk, SynthesisError>> + use<> {
    paced(first_after, items)
}

#[tokio::test]
async fn a_full_stream_is_one_successful_call_with_its_first_byte_sizes_and_seconds() {
    let items = vec![
        Ok(Chunk::of_millis(100)),
        Ok(Chunk::of_millis(250)),
        Ok(Chunk::of_millis(150)),
    ];
    let stream = synthesize(
        "stream-full",
        "héllo wörld",
        Duration::from_millis(120),
        items,
    )
    .await;
    // Created, not yet polled: in flight, nothing counted.
    assert_eq!(requests("tts", "stream-full", "success"), 0.0);
    let chunks: Vec<_> = stream.collect().await;
    assert_eq!(chunks.len(), 3);
    assert_eq!(requests("tts", "stream-full", "success"), 1.0);
    assert_eq!(first_byte_count("tts", "stream-full"), 1.0);
    // The first chunk came after at least 120 ms: above the 0.1 bucket. (A busy machine
    // may delay it more, so no upper bound is asserted.)
    let bucket = |le: &str| {
        value(&format!(
            "conduit_audio_time_to_first_byte_seconds_bucket{{operation=\"tts\",provider=\"stream-full\",le=\"{le}\"}}"
        ))
    };
    assert_eq!(bucket("0.1"), 0.0);
    assert_eq!(bucket("+Inf"), 1.0);
    let first_byte = value(&series(
        "conduit_audio_time_to_first_byte_seconds_sum",
        "tts",
        "stream-full",
    ));
    let whole = value(&series(
        "conduit_audio_request_duration_seconds_sum",
        "tts",
        "stream-full",
    ));
    assert!(
        first_byte >= 0.12 && first_byte <= whole,
        "{first_byte} {whole}"
    );
    assert_eq!(duration_count("tts", "stream-full"), 1.0);
    // One size observation: the sum of the chunks (500 ms of PCM).
    assert_eq!(
        value(&series(
            "conduit_audio_request_size_bytes_sum",
            "tts",
            "stream-full"
        )),
        24_000.0
    );
    assert_eq!(
        value(&series(
            "conduit_audio_request_size_bytes_count",
            "tts",
            "stream-full"
        )),
        1.0
    );
    assert_eq!(
        value(&series(
            "conduit_audio_audio_seconds_total",
            "tts",
            "stream-full"
        )),
        0.5
    );
    // "héllo wörld" is 11 characters (13 bytes).
    assert_eq!(
        value(&series(
            "conduit_audio_characters_total",
            "tts",
            "stream-full"
        )),
        11.0
    );
}

#[tokio::test]
async fn the_first_err_item_sets_the_status_and_items_keep_flowing() {
    let items = vec![
        Ok(Chunk::of_millis(100)),
        Err(SynthesisError::RateLimited),
        Ok(Chunk::of_millis(100)),
        Err(SynthesisError::Timeout),
    ];
    let chunks: Vec<_> = synthesize("stream-midway", "hi", Duration::ZERO, items)
        .await
        .collect()
        .await;
    assert_eq!(chunks.len(), 4, "every item reaches the caller");
    assert_eq!(requests("tts", "stream-midway", "rate_limited"), 1.0);
    assert_eq!(requests("tts", "stream-midway", "timeout"), 0.0);
    assert_eq!(requests("tts", "stream-midway", "success"), 0.0);
    assert_eq!(first_byte_count("tts", "stream-midway"), 1.0);
    assert_eq!(duration_count("tts", "stream-midway"), 1.0);
    assert_eq!(
        value(&series(
            "conduit_audio_audio_seconds_total",
            "tts",
            "stream-midway"
        )),
        0.2
    );
}

#[tokio::test]
async fn a_consumer_that_stops_at_the_first_error_records_the_error_not_a_cancel() {
    let items = vec![
        Ok(Chunk::of_millis(100)),
        Err(SynthesisError::Timeout),
        Ok(Chunk::of_millis(100)),
    ];
    let stream = synthesize("stream-question-mark", "hi", Duration::ZERO, items).await;
    // What `while let Some(chunk) = stream.next().await { chunk?; }` does.
    let consume = async {
        let mut stream = std::pin::pin!(stream);
        while let Some(chunk) = stream.next().await {
            chunk?;
        }
        Ok::<(), SynthesisError>(())
    };
    assert!(consume.await.is_err());
    assert_eq!(requests("tts", "stream-question-mark", "timeout"), 1.0);
    assert_eq!(requests("tts", "stream-question-mark", "cancelled"), 0.0);
    assert_eq!(duration_count("tts", "stream-question-mark"), 1.0);
}

#[tokio::test]
async fn a_first_item_that_is_an_error_still_marks_the_first_byte() {
    let items = vec![Err(SynthesisError::Timeout)];
    let chunks: Vec<_> = synthesize("stream-err-first", "hi", Duration::ZERO, items)
        .await
        .collect()
        .await;
    assert_eq!(chunks.len(), 1);
    assert_eq!(requests("tts", "stream-err-first", "timeout"), 1.0);
    assert_eq!(first_byte_count("tts", "stream-err-first"), 1.0);
}

#[tokio::test]
async fn a_stream_dropped_early_is_cancelled_and_keeps_its_first_byte() {
    let before = active("tts");
    let items = (0..10).map(|_| Ok(Chunk::of_millis(20))).collect();
    let mut stream = Box::pin(synthesize("stream-dropped", "hi", Duration::ZERO, items).await);
    assert_eq!(active("tts"), before + 1.0, "the stream is in flight");
    assert!(stream.next().await.is_some());
    drop(stream);
    assert_eq!(active("tts"), before);
    assert_eq!(requests("tts", "stream-dropped", "cancelled"), 1.0);
    assert_eq!(requests("tts", "stream-dropped", "success"), 0.0);
    assert_eq!(first_byte_count("tts", "stream-dropped"), 1.0);
    // Cancelled calls observe no duration, and the partial size is not a size.
    assert_eq!(duration_count("tts", "stream-dropped"), 0.0);
    assert_eq!(
        sample(&series(
            "conduit_audio_request_size_bytes_count",
            "tts",
            "stream-dropped"
        )),
        None
    );

    // Dropped before its first item: cancelled, no first byte.
    drop(synthesize("stream-never-polled", "hi", Duration::ZERO, Vec::new()).await);
    assert_eq!(requests("tts", "stream-never-polled", "cancelled"), 1.0);
    assert_eq!(first_byte_count("tts", "stream-never-polled"), 0.0);
    // The characters were sent whatever happened next.
    assert_eq!(
        value(&series(
            "conduit_audio_characters_total",
            "tts",
            "stream-never-polled"
        )),
        2.0
    );
}

/// Yields one chunk, then panics in `poll_next`.
struct PanicsOnSecondPoll(u8);

impl Stream for PanicsOnSecondPoll {
    type Item = Result<Chunk, SynthesisError>;

    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0 += 1;
        if self.0 > 1 {
            panic!("decoder bug");
        }
        Poll::Ready(Some(Ok(Chunk::of_millis(10))))
    }
}

#[audio_metric(operation = "tts", stream)]
fn synthesize_panicking(provider: &str) -> impl Stream<Item = Result<Chunk, SynthesisError>> {
    PanicsOnSecondPoll(0)
}

#[tokio::test]
async fn a_panic_in_poll_next_is_counted_as_panic_and_still_propagates() {
    let before = active("tts");
    let mut stream = synthesize_panicking("stream-panic");
    assert!(stream.next().await.is_some());
    let caught = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let waker = std::task::Waker::noop();
        let mut context = Context::from_waker(waker);
        let _ = Pin::new(&mut stream).poll_next(&mut context);
    }));
    assert!(caught.is_err(), "the panic propagates to the caller");
    // Counted at the panic, not later when the stream is dropped.
    assert_eq!(requests("tts", "stream-panic", "panic"), 1.0);
    assert_eq!(active("tts"), before);
    drop(stream);
    assert_eq!(requests("tts", "stream-panic", "panic"), 1.0);
    assert_eq!(requests("tts", "stream-panic", "cancelled"), 0.0);
}

#[derive(Debug, AudioStatus)]
enum ConnectError {
    #[audio_status("provider_unavailable")]
    Unreachable,
}

#[audio_metric(operation = "transcription", stream, size = audio.len())]
async fn transcribe_streaming(
    provider: &str,
    audio: &[u8],
    connect: bool,
) -> Result<BoxStream<'static, Result<String, ConnectError>>, ConnectError> {
    if !connect {
        return Err(ConnectError::Unreachable);
    }
    Ok(stream::iter(vec![Ok("hel".to_owned()), Ok("hello".to_owned())]).boxed())
}

#[tokio::test]
async fn an_err_before_the_stream_exists_ends_the_call_with_its_status() {
    let audio = vec![0u8; 2048];
    let failed = transcribe_streaming("stream-connect", &audio, false).await;
    assert!(failed.is_err());
    assert_eq!(
        requests("transcription", "stream-connect", "provider_unavailable"),
        1.0
    );
    assert_eq!(first_byte_count("transcription", "stream-connect"), 0.0);
    // A boxed stream in a Result, with the request size given before the body.
    let partials: Vec<_> = transcribe_streaming("stream-connect", &audio, true)
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(partials.len(), 2);
    assert_eq!(requests("transcription", "stream-connect", "success"), 1.0);
    assert_eq!(first_byte_count("transcription", "stream-connect"), 1.0);
    assert_eq!(
        value(&series(
            "conduit_audio_request_size_bytes_sum",
            "transcription",
            "stream-connect"
        )),
        // The failed call's request size and the streamed one's.
        4096.0
    );
}

struct Voice {
    name: String,
}

impl Voice {
    /// A method with a `Pin<Box<dyn Stream>>` return, a `status` closure, and a cost
    /// per chunk. `String` has no `AudioStatus`: without the closure an `Err` item would
    /// count as `error`.
    #[audio_metric(
        operation = "tts",
        provider = self.name,
        stream,
        cost = |chunk| chunk.pcm.len() as f64 * 1e-6,
        cache_hit = |_chunk| true,
        status = |error| if error.contains("quota") {
            conduit_metrics_runtime::Status::RateLimited
        } else {
            conduit_metrics_runtime::Status::InvalidRequest
        }
    )]
    fn speak(&self, chunks: usize) -> Pin<Box<dyn Stream<Item = Result<Chunk, String>> + Send>> {
        self.speak_failing(chunks, None)
    }

    /// `chunks` chunks, then `error` as an `Err` item if given.
    fn speak_failing(
        &self,
        chunks: usize,
        error: Option<&str>,
    ) -> Pin<Box<dyn Stream<Item = Result<Chunk, String>> + Send>> {
        let items = (0..chunks)
            .map(|_| Ok::<_, String>(Chunk::of_millis(10)))
            .chain(error.map(|error| Err(error.to_owned())));
        Box::pin(stream::iter(items.collect::<Vec<_>>()))
    }

    #[audio_metric(
        operation = "tts",
        provider = self.name,
        stream,
        status = |error| if error.contains("quota") {
            conduit_metrics_runtime::Status::RateLimited
        } else {
            conduit_metrics_runtime::Status::InvalidRequest
        }
    )]
    fn speak_then_fail(
        &self,
        error: &str,
    ) -> Pin<Box<dyn Stream<Item = Result<Chunk, String>> + Send>> {
        self.speak_failing(2, Some(error))
    }
}

#[tokio::test]
async fn the_status_closure_classifies_the_err_items_of_a_stream() {
    let voice = Voice {
        name: "stream-status-closure".into(),
    };
    let items: Vec<_> = voice.speak_then_fail("quota exceeded").collect().await;
    assert_eq!(items.len(), 3);
    assert!(items[2].is_err());
    let other: Vec<_> = voice.speak_then_fail("bad voice").collect().await;
    assert_eq!(other.len(), 3);
    // The closure ran on each stream's `Err` item: not the `error` a `String` would get.
    let count = |status: &str| requests("tts", "stream-status-closure", status);
    assert_eq!(count("rate_limited"), 1.0);
    assert_eq!(count("invalid_request"), 1.0);
    assert_eq!(count("error"), 0.0);
    assert_eq!(count("success"), 0.0);
}

#[tokio::test]
async fn a_boxed_stream_method_sums_cost_and_takes_the_cache_result_of_its_first_chunk() {
    let voice = Voice {
        name: "stream-method".into(),
    };
    let tts_hits_before =
        value("conduit_audio_cache_lookups_total{operation=\"tts\",result=\"hit\"}");
    let cost_before = value("conduit_audio_cost_dollars{operation=\"tts\"}");
    let chunks: Vec<_> = voice.speak(4).collect().await;
    assert_eq!(chunks.len(), 4);
    assert_eq!(requests("tts", "stream-method", "success"), 1.0);
    // One lookup for the stream, not one per chunk.
    assert_eq!(
        value("conduit_audio_cache_lookups_total{operation=\"tts\",result=\"hit\"}"),
        tts_hits_before + 1.0
    );
    // 4 chunks of 480 bytes at a micro-dollar per byte.
    let cost = value("conduit_audio_cost_dollars{operation=\"tts\"}") - cost_before;
    assert!((cost - 0.00192).abs() < 1e-9, "{cost}");
}

#[audio_metric(operation = "tts", audio_seconds = |speech| speech.seconds(), characters = text.len())]
async fn synthesize_whole(provider: &str, text: &str) -> Result<Chunk, SynthesisError> {
    Ok(Chunk::of_millis(text.len() * 60))
}

#[audio_metric(operation = "transcription", audio_seconds = Duration::from_millis(audio.len() as u64 / 32))]
fn transcribe_known_length(provider: &str, audio: &[u8]) -> Result<String, SynthesisError> {
    Err(SynthesisError::Timeout)
}

#[tokio::test]
async fn audio_seconds_from_the_ok_value_or_before_the_body() {
    synthesize_whole("seconds-whole", "12345").await.unwrap();
    assert_eq!(
        value(&series(
            "conduit_audio_audio_seconds_total",
            "tts",
            "seconds-whole"
        )),
        0.3
    );
    assert_eq!(
        value(&series(
            "conduit_audio_characters_total",
            "tts",
            "seconds-whole"
        )),
        5.0
    );
    // 16 kHz 16-bit audio: 32 bytes a millisecond. Known before the body, counted for
    // a completed call whatever its status (the real-time factor divides by it).
    assert!(transcribe_known_length("seconds-before", &[0; 64_000]).is_err());
    assert_eq!(
        value(&series(
            "conduit_audio_audio_seconds_total",
            "transcription",
            "seconds-before"
        )),
        2.0
    );
}

#[audio_metric(operation = "tts", audio_seconds = |_speech| f64::NAN)]
fn synthesize_nan(provider: &str) -> Result<(), SynthesisError> {
    Ok(())
}

#[test]
fn an_audio_duration_that_is_not_finite_is_rejected_and_counted() {
    let before = value("conduit_audio_audio_seconds_rejected_total{operation=\"tts\"}");
    synthesize_nan("seconds-nan").unwrap();
    assert_eq!(
        value("conduit_audio_audio_seconds_rejected_total{operation=\"tts\"}"),
        before + 1.0
    );
    assert_eq!(
        sample(&series(
            "conduit_audio_audio_seconds_total",
            "tts",
            "seconds-nan"
        )),
        None
    );
    assert_eq!(requests("tts", "seconds-nan", "success"), 1.0);
}

// A plain `fn` that returns a future is timed until the future completes.

#[audio_metric(operation = "translation")]
fn translate_later(
    provider: &str,
    fail: bool,
) -> impl Future<Output = Result<String, SynthesisError>> + use<> {
    async move {
        tokio::time::sleep(Duration::from_millis(150)).await;
        if fail {
            Err(SynthesisError::RateLimited)
        } else {
            Ok("hola".to_owned())
        }
    }
}

#[audio_metric(operation = "translation")]
fn translate_boxed<'a>(
    provider: &'a str,
) -> futures_util::future::BoxFuture<'a, Result<String, SynthesisError>> {
    Box::pin(async move {
        tokio::time::sleep(Duration::from_millis(120)).await;
        Err(SynthesisError::Timeout)
    })
}

#[tokio::test]
async fn a_returned_future_is_timed_until_it_completes_with_its_real_status() {
    let before = active("translation");
    let future = translate_later("future-plain", false);
    assert_eq!(active("translation"), before + 1.0);
    assert_eq!(requests("translation", "future-plain", "success"), 0.0);
    assert_eq!(future.await.unwrap(), "hola");
    assert_eq!(requests("translation", "future-plain", "success"), 1.0);
    assert_eq!(active("translation"), before);
    // Timed over the future's run: 150 ms lands above the 0.1 bucket.
    let bucket = value(
        "conduit_audio_request_duration_seconds_bucket{operation=\"translation\",provider=\"future-plain\",le=\"0.1\"}",
    );
    assert_eq!(bucket, 0.0);

    assert!(translate_later("future-plain", true).await.is_err());
    assert_eq!(requests("translation", "future-plain", "rate_limited"), 1.0);

    assert!(translate_boxed("future-boxed").await.is_err());
    assert_eq!(requests("translation", "future-boxed", "timeout"), 1.0);

    drop(translate_later("future-dropped", false));
    assert_eq!(requests("translation", "future-dropped", "cancelled"), 1.0);
    assert_eq!(requests("translation", "future-dropped", "success"), 0.0);
}
