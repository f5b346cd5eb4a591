use conduit_metrics_runtime::{audio_metric, status_in_chain};

#[audio_metric(operation = "tts", provider = "openai", status = |e| status_in_chain::<std::io::Error>(e))]
fn synthesize(text: &str) -> Result<usize, std::fmt::Error> {
    Err(std::fmt::Error)
}

fn main() {}
