use conduit_metrics_runtime::audio_metric;

struct AudioChunks;

#[audio_metric(operation = "tts", provider = "openai", stream)]
fn buffered() -> Result<Vec<u8>, std::io::Error> {
    Ok(Vec::new())
}

#[audio_metric(operation = "tts", provider = "openai", stream)]
fn named() -> AudioChunks {
    AudioChunks
}

#[audio_metric(operation = "tts", provider = "openai", stream)]
fn nothing() {}

#[audio_metric(operation = "tts", provider = "openai", stream)]
fn future_of_a_stream() -> impl std::future::Future<Output = futures_util::stream::Empty<Result<u8, ()>>> {
    async { futures_util::stream::empty() }
}

fn main() {}
