use conduit_metrics_runtime::AudioStatus;

#[derive(AudioStatus)]
enum ProviderError {
    #[audio_status("time_out")]
    Timeout,
    #[audio_status("success")]
    Fine,
    #[audio_status(rate_limited)]
    Throttled,
}

fn main() {}
