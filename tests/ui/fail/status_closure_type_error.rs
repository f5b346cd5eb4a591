use conduit_metrics_runtime::audio_metric;

#[audio_metric(operation = "tts", provider = "openai", status = |e| e.len())]
fn synthesize(text: &str) -> Result<usize, String> {
    Err(text.to_owned())
}

fn main() {}
