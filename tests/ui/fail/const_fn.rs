use conduit_metrics_runtime::audio_metric;

#[audio_metric(operation = "tts", provider = "openai")]
const fn speak() -> u8 {
    1
}

fn main() {}
