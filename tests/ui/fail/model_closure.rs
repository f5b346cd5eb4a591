use conduit_metrics_runtime::audio_metric;

struct Transcript { model: String }

#[audio_metric(operation = "transcription", provider = "openai", model = |t| t.model.as_str())]
fn transcribe() -> Result<Transcript, ()> {
    Ok(Transcript { model: "whisper-1".to_owned() })
}

fn main() {}
