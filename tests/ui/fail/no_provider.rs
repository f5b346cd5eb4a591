use conduit_metrics_runtime::audio_metric;

#[audio_metric(operation = "tts")]
fn speak(vendor: &str) -> Result<(), ()> {
    let _ = vendor;
    Ok(())
}

fn main() {}
