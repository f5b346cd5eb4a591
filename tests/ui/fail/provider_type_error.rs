use conduit_metrics_runtime::audio_metric;

struct Client { id: u32 }

impl Client {
    #[audio_metric(operation = "tts", provider = self.id)]
    fn speak(&self) -> Result<(), ()> {
        Ok(())
    }
}

fn main() {}
