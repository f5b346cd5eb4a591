use conduit_metrics_runtime::audio_metric;

struct Speech { cost_usd: f64 }

#[audio_metric(operation = "tts", provider = "openai", cost = |s| s.cost_usd)]
fn speak() -> Speech {
    Speech { cost_usd: 0.1 }
}

fn main() {}
