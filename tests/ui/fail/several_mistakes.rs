use conduit_metrics_runtime::audio_metric;

#[audio_metric(operation = "tss", provder = "openai", cost = 0.5)]
fn speak() -> Result<(), ()> {
    Ok(())
}

fn main() {}
