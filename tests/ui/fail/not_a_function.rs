use conduit_metrics_runtime::audio_metric;

#[audio_metric(operation = "tts", provider = "openai")]
struct Client;

fn main() {}
