use conduit_metrics_runtime::AudioStatus;

#[derive(Debug, AudioStatus)]
enum ClientError {
    #[audio_status(transparent)]
    Closed,
    #[audio_status(transparent)]
    Both(std::io::Error, std::io::Error),
    #[audio_status(transparent)]
    Fine(std::io::Error),
}

fn main() {}
