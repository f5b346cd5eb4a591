// Every form of the contract's "The attribute" section compiles.
use conduit_metrics_runtime::{audio_metric, AudioStatus, DisconnectReason};

#[derive(Debug, AudioStatus)]
enum AudioError {
    #[audio_status("timeout")]
    Timeout,
    #[audio_status("provider_unavailable")]
    Down(u16),
    Other { message: String },
}

#[derive(Debug, AudioStatus)]
#[audio_status("rate_limited")]
struct Throttled;

struct Transcript { text: String, cost_usd: f64, from_cache: bool }
struct Speech { audio: Vec<u8> }
struct Summary { reason: DisconnectReason }
struct Request { provider: String, audio: Vec<u8> }
type TtsResult = Result<Speech, AudioError>;

// Free functions, async and plain, provider from a parameter named `provider`.
#[audio_metric(operation = "transcription")]
async fn free_async(provider: &str, audio: &[u8]) -> Result<Transcript, AudioError> {
    let _ = audio;
    Ok(Transcript { text: provider.to_owned(), cost_usd: 0.0, from_cache: false })
}

#[audio_metric(operation = "tts", size = text.len())]
fn free_sync(provider: String, text: &str) -> TtsResult {
    let _ = provider;
    Ok(Speech { audio: text.as_bytes().to_vec() })
}

// Provider from any AsRef<str> expression, e.g. a field of a request.
#[audio_metric(operation = "translation", provider = req.provider.as_str(), size = req.audio.len())]
async fn from_request(req: &Request) -> Result<(), Throttled> {
    Err(Throttled)
}

// impl Trait arguments and returns, generics, ? and early return.
#[audio_metric(operation = "translation", provider = "generic")]
fn generic<T: AsRef<str>>(input: T, extra: impl Into<String>) -> Result<impl std::fmt::Display, std::num::ParseIntError> {
    if input.as_ref().is_empty() {
        return Ok(0u32);
    }
    let value: u32 = input.as_ref().parse()?;
    let _ = extra.into();
    Ok(value)
}

#[audio_metric(operation = "tts", provider = "returns-impl")]
fn returns_impl() -> impl Iterator<Item = u8> {
    vec![1u8, 2].into_iter()
}

struct Client { name: String }

impl Client {
    fn name(&self) -> &str { &self.name }

    #[audio_metric(operation = "transcription", provider = self.name(),
        cost = |t| t.cost_usd, cache_hit = |t| t.from_cache)]
    async fn by_ref(&self, audio: &[u8]) -> Result<Transcript, AudioError> {
        if audio.is_empty() { return Err(AudioError::Timeout); }
        Ok(Transcript { text: String::new(), cost_usd: 0.01, from_cache: true })
    }

    #[audio_metric(operation = "tts", provider = self.name.clone(), size = |s| s.audio.len())]
    async fn by_mut(&mut self, text: &str) -> Result<Speech, AudioError> {
        self.name.push_str(text);
        Ok(Speech { audio: vec![] })
    }

    #[audio_metric(operation = "tts", provider = self.name)]
    fn by_value(self) -> Result<Speech, AudioError> {
        Err(AudioError::Down(503))
    }

    #[audio_metric(operation = "realtime", provider = &self.name, disconnect_reason = |s| s.reason)]
    async fn session<R: Send>(&self, _r: R) -> Result<Summary, AudioError> {
        Err(AudioError::Other { message: String::new() })
    }

    // `model`: any `AsRef<str>`, evaluated once before the body, realtime included.
    #[audio_metric(operation = "transcription", provider = self.name(), model = "whisper-1")]
    fn with_model(&self) -> Result<(), AudioError> {
        Ok(())
    }

    #[audio_metric(operation = "realtime", provider = &self.name, model = self.name.clone())]
    async fn session_with_model(&self) -> Result<Summary, AudioError> {
        Ok(Summary { reason: DisconnectReason::ServerClose })
    }

    #[audio_metric(operation = "transcription", provider = self.name())]
    async fn returns_impl_in_result(&self) -> Result<impl std::fmt::Debug, AudioError> {
        let n: u8 = 1;
        Ok(n)
    }
}

// Trait impls: with #[async_trait] (which rewrites the method before the attribute runs),
// a default method of an #[async_trait] trait, and native async fn in traits.
#[async_trait::async_trait]
trait Provider {
    fn name(&self) -> &str;
    async fn transcribe(&self, audio: &[u8]) -> Result<Transcript, AudioError>;

    #[audio_metric(operation = "tts", provider = self.name())]
    async fn speak(&self, text: &str) -> Result<Speech, AudioError> {
        Ok(Speech { audio: text.as_bytes().to_vec() })
    }
}

#[async_trait::async_trait]
impl Provider for Client {
    fn name(&self) -> &str { &self.name }

    #[audio_metric(operation = "transcription", provider = self.name(), cost = |t| t.cost_usd)]
    async fn transcribe(&self, audio: &[u8]) -> Result<Transcript, AudioError> {
        let first = audio.first().ok_or(AudioError::Timeout)?;
        Ok(Transcript { text: first.to_string(), cost_usd: 0.0, from_cache: false })
    }
}

trait Native {
    fn run(&self, provider: &str) -> impl std::future::Future<Output = Result<u8, AudioError>>;
}

impl Native for Client {
    #[audio_metric(operation = "translation")]
    async fn run(&self, provider: &str) -> Result<u8, AudioError> {
        Ok(provider.len() as u8)
    }
}

// A renamed runtime crate is reachable with `crate = path`.
mod renamed {
    pub use conduit_metrics_runtime as metrics_runtime;
}

#[audio_metric(operation = "tts", provider = "renamed", crate = renamed::metrics_runtime)]
fn with_crate_path() -> u8 { 1 }

#[derive(Debug, renamed::metrics_runtime::AudioStatus)]
#[audio_status(crate = "renamed::metrics_runtime")]
enum RenamedError {
    #[audio_status("timeout")]
    Slow,
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    runtime.block_on(async {
        let mut client = Client { name: "c".to_owned() };
        free_async("p", b"a").await.ok();
        free_sync("p".to_owned(), "hi").ok();
        from_request(&Request { provider: "p".into(), audio: vec![] }).await.ok();
        generic("12", "x").ok();
        returns_impl().count();
        client.by_ref(b"a").await.ok();
        client.by_mut("x").await.ok();
        client.session(1u8).await.ok();
        client.returns_impl_in_result().await.ok();
        client.with_model().ok();
        client.session_with_model().await.ok();
        Provider::transcribe(&client, b"a").await.ok();
        client.speak("hi").await.ok();
        Native::run(&client, "p").await.ok();
        with_crate_path();
        client.by_value().ok();
    });
    use conduit_metrics_runtime::AudioStatus as _;
    assert_eq!(RenamedError::Slow.audio_status(), conduit_metrics_runtime::Status::Timeout);
    let text = conduit_metrics_runtime::registry::global().render();
    assert!(text.contains("provider=\"renamed\""));
    assert!(text.contains("conduit_audio_realtime_sessions_total{provider=\"cx\",disconnect_reason=\"error\"} 1"));
}
