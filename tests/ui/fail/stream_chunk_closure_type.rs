use conduit_metrics_runtime::audio_metric;
use futures_util::stream::{self, Stream};

// A per-chunk closure that returns a byte count where audio seconds are expected.
#[audio_metric(operation = "tts", provider = "openai", stream, audio_seconds = |chunk| chunk.len())]
fn seconds_of_the_wrong_type() -> impl Stream<Item = Result<Vec<u8>, std::io::Error>> {
    stream::empty()
}

// A per-chunk closure over the wrong chunk type.
#[audio_metric(operation = "tts", provider = "openai", stream, size = |chunk: &String| chunk.len())]
fn size_of_the_wrong_chunk() -> impl Stream<Item = Result<Vec<u8>, std::io::Error>> {
    stream::empty()
}

fn main() {}
