use conduit_metrics_runtime::audio_metric;

trait Provider {
    #[audio_metric(operation = "tts", provider = "openai")]
    fn speak(&self) -> Result<(), ()>;
}

fn main() {}
