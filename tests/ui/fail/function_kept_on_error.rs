use conduit_metrics_runtime::audio_metric;

// The attribute has a mistake; the function is still emitted unchanged next to the error,
// so the call in `main` resolves and the only error is the mistake itself.
#[audio_metric(operation = "tss", provider = "openai")]
fn synthesize(text: &str) -> Result<usize, ()> {
    Ok(text.len())
}

fn main() {
    let _ = synthesize("hello");
}
