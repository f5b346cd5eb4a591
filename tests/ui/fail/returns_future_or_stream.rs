use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use conduit_metrics_runtime::audio_metric;
use futures_util::stream::{self, Stream};

/// A hand-written future: a named type the macro cannot wrap.
struct Synthesis;

impl Future for Synthesis {
    type Output = Result<Vec<u8>, std::io::Error>;
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(Ok(Vec::new()))
    }
}

#[audio_metric(operation = "tts", provider = "openai")]
fn synthesis() -> Synthesis {
    Synthesis
}

#[audio_metric(operation = "tts", provider = "openai")]
fn spawned() -> Result<tokio::task::JoinHandle<()>, std::io::Error> {
    Ok(tokio::spawn(async {}))
}

#[audio_metric(operation = "tts", provider = "openai")]
fn chunks() -> impl Stream<Item = Result<Vec<u8>, std::io::Error>> {
    stream::empty()
}

fn main() {}
