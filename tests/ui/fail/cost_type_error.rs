use conduit_metrics_runtime::audio_metric;

struct Speech { cents: u32 }

#[audio_metric(operation = "tts", provider = "openai", cost = |s| s.cents)]
fn speak() -> Result<Speech, ()> {
    Ok(Speech { cents: 3 })
}

fn main() {}
