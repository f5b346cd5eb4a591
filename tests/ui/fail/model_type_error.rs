use conduit_metrics_runtime::audio_metric;

struct Model { version: u32 }

struct Client { model: Model }

impl Client {
    #[audio_metric(operation = "transcription", provider = "openai", model = self.model.version)]
    fn transcribe(&self) -> Result<(), ()> {
        Ok(())
    }
}

fn main() {}
