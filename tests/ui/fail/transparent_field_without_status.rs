use conduit_metrics_runtime::AudioStatus;

#[derive(Debug)]
struct Opaque;

#[derive(Debug, AudioStatus)]
enum ClientError {
    #[audio_status(transparent)]
    Inner(Opaque),
}

fn main() {}
