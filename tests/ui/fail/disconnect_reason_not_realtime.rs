use conduit_metrics_runtime::{audio_metric, DisconnectReason};

struct Done { reason: DisconnectReason }

#[audio_metric(operation = "tts", provider = "openai", disconnect_reason = |d| d.reason)]
fn speak() -> Result<Done, ()> {
    Ok(Done { reason: DisconnectReason::ServerClose })
}

fn main() {}
