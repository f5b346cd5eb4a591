use conduit_metrics_runtime::audio_metric;

const OPERATION: &str = "tts";

#[audio_metric(operation = OPERATION, provider = "openai")]
fn speak() {}

fn main() {}
