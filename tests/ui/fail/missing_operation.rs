use conduit_metrics_runtime::audio_metric;

#[audio_metric(provider = "openai")]
fn transcribe() {}

fn main() {}
