// Every form of the contract's "Streaming calls" section compiles, and plain functions
// that return futures.
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use conduit_metrics_runtime::{audio_metric, AudioStatus};
use futures_util::stream::{self, BoxStream, LocalBoxStream, Stream, StreamExt};

#[derive(Debug, AudioStatus)]
enum TtsError {
    #[audio_status("rate_limited")]
    Throttled,
}

struct Chunk { pcm: Vec<u8> }

// impl Stream from a plain fn and an async fn; size, audio_seconds and characters.
#[audio_metric(operation = "tts", stream, size = |c| c.pcm.len(), characters = text.chars().count())]
fn plain(provider: &str, text: &str) -> impl Stream<Item = Result<Chunk, TtsError>> + use<> {
    stream::iter(vec![Ok(Chunk { pcm: Vec::new() }), Err(TtsError::Throttled)])
}

#[audio_metric(operation = "tts", stream, model = String::from("tts-1-hd"), characters = text.len())]
fn with_model(provider: &str, text: &str) -> impl Stream<Item = Result<Chunk, TtsError>> + use<> {
    stream::iter(vec![Ok(Chunk { pcm: Vec::new() })])
}

#[audio_metric(operation = "tts", stream, audio_seconds = |c| Duration::from_millis(c.pcm.len() as u64))]
async fn in_async(provider: &str) -> Result<impl Stream<Item = Result<Chunk, TtsError>> + Send + use<>, TtsError> {
    Ok(stream::empty())
}

// Boxed streams, alone and in a Result; early return and `?` in the body.
#[audio_metric(operation = "transcription", stream)]
async fn boxed(provider: String, fail: bool) -> Result<BoxStream<'static, Result<String, TtsError>>, TtsError> {
    if fail {
        return Err(TtsError::Throttled);
    }
    let first: Result<String, TtsError> = Ok("hi".to_owned());
    let first = first?;
    Ok(stream::iter(vec![Ok(first)]).boxed())
}

#[audio_metric(operation = "transcription", stream)]
fn local(provider: &str) -> LocalBoxStream<'static, Result<String, TtsError>> {
    stream::empty().boxed_local()
}

struct Voice { name: String, text: String }

impl Voice {
    // A stream that borrows self.
    #[audio_metric(operation = "tts", provider = self.name.as_str(), stream, size = |c| c.len())]
    fn words<'a>(&'a self) -> impl Stream<Item = Result<&'a str, TtsError>> + 'a {
        stream::iter(self.text.split(' ').map(Ok))
    }

    #[audio_metric(operation = "tts", provider = self.name.as_str(), stream)]
    fn pinned(&self) -> Pin<Box<dyn Stream<Item = Result<u8, std::io::Error>> + Send>> {
        Box::pin(stream::iter(vec![Ok(1u8)]))
    }
}

// With #[async_trait], a trait method returning a boxed stream.
#[async_trait::async_trait]
trait Synthesizer {
    async fn synthesize(&self, text: String) -> Result<BoxStream<'static, Result<Chunk, TtsError>>, TtsError>;
}

#[async_trait::async_trait]
impl Synthesizer for Voice {
    #[audio_metric(operation = "tts", provider = self.name.as_str(), stream, characters = text.len())]
    async fn synthesize(&self, text: String) -> Result<BoxStream<'static, Result<Chunk, TtsError>>, TtsError> {
        Ok(stream::empty().boxed())
    }
}

// Plain functions that return futures: impl Future borrowing an argument, and a boxed
// future built another way than #[async_trait]'s body.
#[audio_metric(operation = "translation", cost = |t| t.len() as f64)]
fn later<'a>(provider: &'a str, text: &'a str) -> impl Future<Output = Result<String, TtsError>> + 'a {
    async move { Ok(text.to_owned()) }
}

#[audio_metric(operation = "translation")]
fn boxed_later(provider: &str) -> Pin<Box<dyn Future<Output = Result<u8, TtsError>> + Send>> {
    let future = async { Ok(1) };
    Box::pin(future)
}

fn main() {
    let _ = (plain("p", "t"), in_async("p"), boxed("p".into(), false), local("p"));
    let voice = Voice { name: "v".into(), text: "a b".into() };
    let _ = (voice.words(), voice.pinned(), voice.synthesize("t".into()));
    let _ = (later("p", "t"), boxed_later("p"), with_model("p", "t"));
}
