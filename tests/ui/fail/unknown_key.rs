use conduit_metrics_runtime::audio_metric;

#[audio_metric(operation = "tts", provider = "openai", sise = 10)]
fn speak() {}

fn main() {}
