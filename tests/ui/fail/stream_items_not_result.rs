use conduit_metrics_runtime::audio_metric;
use futures_util::stream::{self, Stream};

#[audio_metric(operation = "tts", provider = "openai", stream)]
fn chunks() -> impl Stream<Item = Vec<u8>> {
    stream::empty()
}

fn main() {}
