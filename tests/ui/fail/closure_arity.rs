use conduit_metrics_runtime::audio_metric;

struct Speech { from_cache: bool }

#[audio_metric(operation = "tts", provider = "openai", cache_hit = |s, extra| s.from_cache)]
fn speak() -> Result<Speech, ()> {
    Ok(Speech { from_cache: true })
}

fn main() {}
