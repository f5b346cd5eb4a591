use conduit_metrics_runtime::audio_metric;

#[audio_metric(operation = "tts", provider = "openai", status = |_| conduit_metrics_runtime::Status::Timeout)]
fn synthesize(text: &str) -> usize {
    text.len()
}

fn main() {}
