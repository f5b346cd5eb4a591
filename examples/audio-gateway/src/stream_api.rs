//! The HTTP answers of streamed calls: speech as a chunked body of raw PCM, sent as the
//! provider synthesizes it, and transcription as Server-Sent Events of partial
//! transcripts, in the shape of OpenAI's streamed transcription.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::json;

use super::providers::{ProviderError, SimulatedProvider, Simulation};
use super::request::ApiError;

/// `POST /v1/audio/speech` with `"stream": true`. An error before the first chunk is an
/// error answer; one midway can only cut the body short, as with any chunked response.
pub(super) async fn speech(
    provider: Arc<SimulatedProvider>,
    input: String,
    model: &'static str,
    simulation: Simulation,
) -> Result<Response, ApiError> {
    let chunks = provider
        .speak_streaming(&input, model, &simulation)
        .await
        .map_err(|error| ApiError::from_provider(provider.name(), &error))?;
    let body = chunks.map(|chunk| match chunk {
        Ok(chunk) => Ok(chunk.pcm),
        Err(error) => Err(std::io::Error::other(error.to_string())),
    });
    let mut response = Response::new(Body::from_stream(body));
    let headers = response.headers_mut();
    // 16 kHz 16-bit mono little-endian PCM, as OpenAI's `response_format=pcm`.
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/pcm"));
    headers.insert("x-provider", HeaderValue::from_static(provider.name()));
    Ok(response)
}

/// One Server-Sent Event.
fn event(data: serde_json::Value) -> Bytes {
    Bytes::from(format!("data: {data}\n\n"))
}

/// `POST /v1/audio/transcriptions` with `stream=true`: a `transcript.text.delta` event per
/// partial, then `transcript.text.done` with the whole text; an error midway is an
/// `error` event that ends the stream.
pub(super) async fn transcription(
    provider: Arc<SimulatedProvider>,
    audio: Bytes,
    model: &'static str,
    simulation: Simulation,
) -> Result<Response, ApiError> {
    let partials = provider
        .transcribe_streaming(&audio, model, &simulation)
        .await
        .map_err(|error| ApiError::from_provider(provider.name(), &error))?;
    let name = provider.name();
    let events = partials
        .map(Some)
        .chain(futures_util::stream::once(async { None }))
        .scan((String::new(), false), move |(text, failed), partial| {
            let event = match (partial, *failed) {
                (_, true) => None,
                (Some(Ok(partial)), false) => {
                    text.push_str(&partial.delta);
                    Some(event(
                        json!({ "type": "transcript.text.delta", "delta": partial.delta }),
                    ))
                }
                (Some(Err(error)), false) => {
                    *failed = true;
                    Some(error_event(name, &error))
                }
                (None, false) => Some(event(
                    json!({ "type": "transcript.text.done", "text": text.trim_end() }),
                )),
            };
            std::future::ready(event.map(Ok::<_, std::convert::Infallible>))
        });
    let mut response = Response::new(Body::from_stream(events));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-provider", HeaderValue::from_static(name));
    Ok(response)
}

fn error_event(provider: &'static str, error: &ProviderError) -> Bytes {
    event(json!({
        "type": "error",
        "error": { "message": error.to_string(), "provider": provider },
    }))
}
