use conduit_metrics_runtime::audio_metric;
use futures_util::stream::{self, Stream};

#[audio_metric(operation = "realtime", provider = "openai", stream)]
fn session() -> impl Stream<Item = Result<Vec<u8>, std::io::Error>> {
    stream::empty()
}

#[audio_metric(operation = "tts", provider = "openai", stream = true)]
fn flag_with_a_value() -> impl Stream<Item = Result<Vec<u8>, std::io::Error>> {
    stream::empty()
}

#[audio_metric(operation = "tts", provider = "openai", characters = |text| text.len())]
fn characters_closure(text: &str) -> Result<(), std::io::Error> {
    let _ = text;
    Ok(())
}

fn main() {}
