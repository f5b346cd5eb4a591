//! `audio_seconds = audio_duration_secs(&audio)` in the attribute: a payload it can read
//! adds its real duration, one it cannot is still a recorded call that adds no seconds and
//! counts once in `conduit_audio_audio_seconds_unknown_total{operation,reason}`, and a
//! stream's chunks may give a `Result` too. Each test uses its own provider names, so
//! tests can share the global registry.

mod common;

use common::{global_requests as requests, global_sample, global_value as value};
use conduit_metrics_runtime::audio_duration::{AudioDurationError, audio_duration_secs};
use conduit_metrics_runtime::{UnknownDuration, audio_metric};

/// A WAV header over `seconds` of 24 kHz, 16-bit stereo silence.
fn wav(seconds: u32) -> Vec<u8> {
    let data = 24_000 * 4 * seconds;
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(36 + data).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt \x10\0\0\0\x01\0\x02\0");
    out.extend_from_slice(&24_000u32.to_le_bytes());
    out.extend_from_slice(&96_000u32.to_le_bytes());
    out.extend_from_slice(b"\x04\0\x10\0data");
    out.extend_from_slice(&data.to_le_bytes());
    out.resize(out.len() + data as usize, 0);
    out
}

#[audio_metric(operation = "transcription", audio_seconds = audio_duration_secs(audio))]
async fn transcribe(provider: &str, audio: &[u8]) -> Result<usize, std::io::Error> {
    Ok(audio.len())
}

fn seconds_of(operation: &str, provider: &str) -> Option<f64> {
    global_sample(&format!(
        "conduit_audio_audio_seconds_total{{operation=\"{operation}\",provider=\"{provider}\"}}"
    ))
}

fn unknown(operation: &str, reason: &str) -> f64 {
    value(&format!(
        "conduit_audio_audio_seconds_unknown_total{{operation=\"{operation}\",reason=\"{reason}\"}}"
    ))
}

#[tokio::test]
async fn a_readable_upload_adds_its_duration_and_an_unreadable_one_is_counted() {
    transcribe("dur-wav", &wav(3)).await.unwrap();
    assert_eq!(seconds_of("transcription", "dur-wav"), Some(3.0));
    assert_eq!(requests("transcription", "dur-wav", "success"), 1.0);

    transcribe("dur-json", b"{\"text\": \"not audio\"}")
        .await
        .unwrap();
    transcribe("dur-json", b"RIFF\x10\0\0\0WAVEfmt ")
        .await
        .unwrap();
    // Both calls are recorded; neither adds audio seconds.
    assert_eq!(requests("transcription", "dur-json", "success"), 2.0);
    assert_eq!(seconds_of("transcription", "dur-json"), None);
    assert_eq!(unknown("transcription", "unknown_format"), 1.0);
    assert_eq!(unknown("transcription", "malformed"), 1.0);
    assert_eq!(unknown("transcription", "unsupported"), 0.0);
}

/// A stream whose chunks say their own duration, one of them unreadable.
#[audio_metric(
    operation = "translation",
    stream,
    audio_seconds = |chunk| *chunk
)]
fn translate_stream(
    provider: &str,
    chunks: Vec<Result<f64, UnknownDuration>>,
) -> impl futures_core::Stream<Item = Result<Result<f64, UnknownDuration>, std::io::Error>> {
    futures_util::stream::iter(chunks.into_iter().map(Ok))
}

#[tokio::test]
async fn a_stream_adds_the_chunks_it_can_read_and_counts_itself_once() {
    use futures_util::StreamExt;
    let chunks = vec![
        Ok(1.5),
        Err(UnknownDuration::Unsupported),
        Ok(0.5),
        Err(UnknownDuration::Unsupported),
    ];
    let items: Vec<_> = translate_stream("dur-stream", chunks).collect().await;
    assert_eq!(items.len(), 4);
    assert_eq!(seconds_of("translation", "dur-stream"), Some(2.0));
    assert_eq!(unknown("translation", "unsupported"), 1.0);
    assert_eq!(requests("translation", "dur-stream", "success"), 1.0);
}

#[test]
fn an_error_names_its_reason() {
    let error = audio_duration_secs(b"").unwrap_err();
    assert_eq!(error, AudioDurationError::Empty);
    assert_eq!(
        UnknownDuration::from(&error),
        UnknownDuration::UnknownFormat
    );
    assert_eq!(error.reason().as_str(), "unknown_format");
}
