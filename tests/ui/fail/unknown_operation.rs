use conduit_metrics_runtime::audio_metric;

#[audio_metric(operation = "transcribe", provider = "openai")]
fn transcribe() {}

fn main() {}
