//! Simulated AI audio providers, each client instrumented the way a user instruments a
//! real one: `#[audio_metric]` on every call, an error enum deriving `AudioStatus`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use conduit_metrics_runtime::audio_duration::{PcmFormat, audio_duration_secs};
use conduit_metrics_runtime::{AudioStatus, DisconnectReason, audio_metric};

use super::models::Models;
use super::sim::Rng;

/// What can go wrong with a provider, and the status each is counted under.
#[derive(Debug, AudioStatus)]
pub enum ProviderError {
    /// The provider did not answer within the client's timeout.
    #[audio_status("timeout")]
    Timeout,
    /// The provider throttled us.
    #[audio_status("rate_limited")]
    RateLimited,
    /// The provider is down.
    #[audio_status("provider_unavailable")]
    Unavailable,
    /// The audio or text was rejected.
    #[audio_status("invalid_request")]
    InvalidRequest(String),
    /// Anything else ("error").
    Internal(String),
    /// The HTTP client failed (a provider reached over HTTP): its status is the one the
    /// runtime gives `reqwest::Error` (a timeout, 429, 503, ...).
    #[audio_status(transparent)]
    Http(reqwest::Error),
}

impl From<reqwest::Error> for ProviderError {
    fn from(error: reqwest::Error) -> Self {
        ProviderError::Http(error)
    }
}

/// A failure the simulation (random, or forced by the caller) decides on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No answer within the client's timeout.
    Timeout,
    /// Throttled.
    RateLimited,
    /// Down.
    Unavailable,
    /// The input is rejected.
    InvalidRequest,
    /// Anything else.
    Internal,
}

impl Failure {
    /// The error a simulated (not HTTP) provider fails with.
    pub(super) fn error(self) -> ProviderError {
        match self {
            Failure::Timeout => ProviderError::Timeout,
            Failure::RateLimited => ProviderError::RateLimited,
            Failure::Unavailable => ProviderError::Unavailable,
            Failure::InvalidRequest => ProviderError::InvalidRequest("simulated".into()),
            Failure::Internal => ProviderError::Internal("upstream 500".into()),
        }
    }
}

impl std::fmt::Display for ProviderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProviderError::Timeout => f.write_str("the provider timed out"),
            ProviderError::RateLimited => f.write_str("the provider rate-limited the request"),
            ProviderError::Unavailable => f.write_str("the provider is unavailable"),
            ProviderError::InvalidRequest(why) => write!(f, "invalid request: {why}"),
            ProviderError::Internal(why) => write!(f, "provider error: {why}"),
            ProviderError::Http(error) => write!(f, "provider request failed: {error}"),
        }
    }
}

/// A failure or latency forced by the caller (the `X-Simulate-*` headers), so tests and
/// demos can produce each outcome on purpose.
#[derive(Debug, Clone, Default)]
pub struct Simulation {
    /// Fail this way instead of rolling the dice.
    pub failure: Option<Failure>,
    /// Take this long instead of a random latency (for a stream: before its first chunk,
    /// and between chunks).
    pub latency: Option<Duration>,
    /// For a stream: fail (as `failure` says, else `error`) after this many chunks.
    pub fail_after_chunks: Option<usize>,
}

impl Simulation {
    /// Parses `timeout`, `rate_limited`, `unavailable`, `invalid`, `error`.
    pub fn failure_from_name(name: &str) -> Option<Failure> {
        Some(match name {
            "timeout" => Failure::Timeout,
            "rate_limited" => Failure::RateLimited,
            "unavailable" | "provider_unavailable" => Failure::Unavailable,
            "invalid" | "invalid_request" => Failure::InvalidRequest,
            "error" => Failure::Internal,
            _ => return None,
        })
    }
}

/// How a simulated provider behaves.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Median latency of a call.
    pub median_latency: Duration,
    /// Spread of the latency (sigma of its log).
    pub latency_spread: f64,
    /// Chance of each failure mode per call.
    pub error_rate: f64,
    /// Chance of a timeout.
    pub timeout_rate: f64,
    /// Chance of a rate limit.
    pub rate_limit_rate: f64,
    /// Chance of being unavailable.
    pub unavailable_rate: f64,
    /// The client's own timeout.
    pub timeout: Duration,
    /// Dollars per second of audio transcribed or translated.
    pub price_per_audio_second: f64,
    /// Dollars per character synthesized.
    pub price_per_character: f64,
    /// Chance a health check fails.
    pub unhealthy_rate: f64,
    /// Median time to the first chunk of a streamed call.
    pub first_byte_median: Duration,
    /// Spread of the time to first chunk (sigma of its log).
    pub first_byte_spread: f64,
}

/// A transcription result.
#[derive(Debug, Clone)]
pub struct Transcript {
    /// The text.
    pub text: String,
    /// What the call cost.
    pub cost_usd: f64,
}

/// Synthesized speech.
#[derive(Debug, Clone)]
pub struct Speech {
    /// WAV bytes.
    pub audio: Vec<u8>,
    /// What the call cost (0 when served from the cache).
    pub cost_usd: f64,
    /// Whether the response cache answered.
    pub from_cache: bool,
}

/// How a realtime session ended.
#[derive(Debug, Clone)]
pub struct SessionSummary {
    /// Why it ended.
    pub reason: DisconnectReason,
    /// Turns answered.
    pub turns: u32,
    /// What the session cost.
    pub cost_usd: f64,
}

/// Bytes of 16 kHz 16-bit mono PCM per second: the raw audio the demo synthesizes.
pub const BYTES_PER_AUDIO_SECOND: usize = 32_000;
/// The layout of the raw PCM chunks streamed speech is sent in.
pub const SPEECH_PCM: PcmFormat = PcmFormat::new(16_000, 1, 16);
const TTS_CACHE_ENTRIES: usize = 1024;

/// One simulated provider client.
pub struct SimulatedProvider {
    name: &'static str,
    models: Models,
    profile: Profile,
    latency_scale: f64,
    rng: Mutex<Rng>,
    tts_cache: Mutex<HashMap<(String, String), Vec<u8>>>,
    /// Speech is synthesized over HTTP by this API, when the provider has one.
    api: Option<HttpApi>,
    /// An outage ordered through the admin API: every call fails this way and every
    /// health check fails, until it is lifted.
    outage: Mutex<Option<Failure>>,
}

/// A provider's HTTP API and the client that calls it.
struct HttpApi {
    base: String,
    client: reqwest::Client,
    timeout: Duration,
}

/// The shortest client timeout, so tests that scale latencies to zero still give an
/// answer time to arrive.
const MIN_CLIENT_TIMEOUT: Duration = Duration::from_millis(250);

impl std::fmt::Debug for SimulatedProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimulatedProvider")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The provider label is the client's name, so `provider` parameters can be passed as is.
impl AsRef<str> for SimulatedProvider {
    fn as_ref(&self) -> &str {
        self.name
    }
}

impl SimulatedProvider {
    /// A provider with a profile; `latency_scale` multiplies every latency (0: instant).
    pub fn new(name: &'static str, profile: Profile, latency_scale: f64, seed: u64) -> Self {
        SimulatedProvider {
            name,
            models: Models::of(name),
            profile,
            latency_scale,
            rng: Mutex::new(Rng::new(seed)),
            tts_cache: Mutex::new(HashMap::new()),
            api: None,
            outage: Mutex::new(None),
        }
    }

    /// This provider, synthesizing speech through its HTTP API at `addr` with `reqwest`.
    pub fn over_http(mut self, addr: std::net::SocketAddr) -> Result<Self, reqwest::Error> {
        let timeout = self
            .profile
            .timeout
            .mul_f64(self.latency_scale)
            .max(MIN_CLIENT_TIMEOUT);
        let client = reqwest::Client::builder().timeout(timeout).build()?;
        self.api = Some(HttpApi {
            base: format!("http://{addr}"),
            client,
            timeout,
        });
        Ok(self)
    }

    /// The provider's name (its `provider` label).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The models this provider serves.
    pub fn models(&self) -> &Models {
        &self.models
    }

    /// Starts an outage (every call fails with `failure`, health checks fail), or ends it
    /// with `None`.
    pub fn set_outage(&self, failure: Option<Failure>) {
        *self.outage.lock().unwrap_or_else(|p| p.into_inner()) = failure;
    }

    /// The outage in force, if any.
    pub fn outage(&self) -> Option<Failure> {
        *self.outage.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The failure a call meets: an outage first, then a forced one, then the dice.
    pub(super) fn failure(
        &self,
        simulation: &Simulation,
        rolled: Option<Failure>,
    ) -> Option<Failure> {
        self.outage().or(simulation.failure).or(rolled)
    }

    /// The profile.
    pub(super) fn profile(&self) -> &Profile {
        &self.profile
    }

    /// A duration as this provider's latency scale makes it.
    pub(super) fn scaled(&self, duration: Duration) -> Duration {
        duration.mul_f64(self.latency_scale)
    }

    /// A random time to first chunk from the provider's distribution, scaled.
    pub(super) fn roll_first_byte(&self) -> Duration {
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        let first_byte = rng.latency(
            self.profile.first_byte_median,
            self.profile.first_byte_spread,
        );
        self.scaled(first_byte)
    }

    pub(super) fn roll(&self) -> (Duration, Option<Failure>) {
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        let latency = rng.latency(self.profile.median_latency, self.profile.latency_spread);
        let dice = rng.unit();
        let p = &self.profile;
        let failure = [
            (p.timeout_rate, Failure::Timeout),
            (p.rate_limit_rate, Failure::RateLimited),
            (p.unavailable_rate, Failure::Unavailable),
            (p.error_rate, Failure::Internal),
        ]
        .into_iter()
        .scan(0.0, |threshold, (rate, error)| {
            *threshold += rate;
            Some((*threshold, error))
        })
        .find(|(threshold, _)| dice < *threshold)
        .map(|(_, error)| error);
        (latency.mul_f64(self.latency_scale), failure)
    }

    /// Waits like a real call would, then fails or not, as simulated or forced.
    async fn call(&self, simulation: &Simulation) -> Result<(), ProviderError> {
        let (latency, failure) = self.roll();
        let latency = simulation.latency.unwrap_or(latency);
        let failure = self.failure(simulation, failure);
        if failure == Some(Failure::Timeout) {
            // A timeout takes the client's whole timeout (scaled) before failing.
            tokio::time::sleep(self.profile.timeout.mul_f64(self.latency_scale)).await;
            return Err(ProviderError::Timeout);
        }
        let answered =
            tokio::time::timeout(self.profile.timeout, tokio::time::sleep(latency)).await;
        if answered.is_err() {
            return Err(ProviderError::Timeout);
        }
        failure.map_or(Ok(()), |failure| Err(failure.error()))
    }

    /// Synthesizes over the provider's HTTP API. The simulation picks the outcome and
    /// the API enacts it; a timeout is a real one: the API answers after the client's
    /// timeout has passed.
    async fn synthesize_over_http(
        &self,
        api: &HttpApi,
        text: &str,
        voice: &str,
        simulation: &Simulation,
    ) -> Result<Vec<u8>, ProviderError> {
        let (latency, failure) = self.roll();
        let latency = simulation.latency.unwrap_or(latency);
        let (outcome, latency) = match self.failure(simulation, failure) {
            None => ("ok", latency),
            Some(Failure::Timeout) => ("ok", api.timeout + Duration::from_millis(500)),
            Some(Failure::RateLimited) => ("rate_limited", latency),
            Some(Failure::Unavailable) => ("unavailable", latency),
            Some(Failure::InvalidRequest) => ("invalid", latency),
            Some(Failure::Internal) => ("error", latency),
        };
        let response = api
            .client
            .post(format!("{}/v1/text-to-speech/{voice}", api.base))
            .header("X-Upstream-Outcome", outcome)
            .header("X-Upstream-Latency-Ms", latency.as_millis().to_string())
            .header("Content-Type", "application/json")
            .body(serde_json::json!({ "text": text }).to_string())
            .send()
            .await?
            .error_for_status()?;
        Ok(response.bytes().await?.to_vec())
    }

    /// Speech to text, by `model` (one of [`models`](Self::models)).
    #[audio_metric(
        operation = "transcription",
        provider = self.name,
        model = model,
        size = audio.len(),
        // The uploaded file's own duration (its container's), not a guess from its size: a
        // payload it cannot read adds nothing and counts in audio_seconds_unknown_total.
        audio_seconds = audio_duration_secs(audio),
        cost = |t| t.cost_usd,
    )]
    pub async fn transcribe(
        &self,
        audio: &[u8],
        model: &str,
        simulation: &Simulation,
    ) -> Result<Transcript, ProviderError> {
        self.listen(audio, simulation, "transcript", 1.0).await
    }

    /// Speech to English text (priced 20% above transcription).
    #[audio_metric(
        operation = "translation",
        provider = self.name,
        model = model,
        size = audio.len(),
        // The uploaded file's own duration (its container's), not a guess from its size: a
        // payload it cannot read adds nothing and counts in audio_seconds_unknown_total.
        audio_seconds = audio_duration_secs(audio),
        cost = |t| t.cost_usd,
    )]
    pub async fn translate(
        &self,
        audio: &[u8],
        model: &str,
        simulation: &Simulation,
    ) -> Result<Transcript, ProviderError> {
        self.listen(audio, simulation, "English translation", 1.2)
            .await
    }

    /// The work shared by transcription and translation (instrumented by the callers).
    async fn listen(
        &self,
        audio: &[u8],
        simulation: &Simulation,
        what: &str,
        price_factor: f64,
    ) -> Result<Transcript, ProviderError> {
        if audio.is_empty() {
            return Err(ProviderError::InvalidRequest("empty audio".into()));
        }
        self.call(simulation).await?;
        // The simulated provider does not decode, so it answers whatever it is sent; it
        // bills (and says) the file's duration when the container states one.
        let (text, seconds) = match audio_duration_secs(audio) {
            Ok(seconds) => (format!("{what} of {seconds:.2}s of audio"), seconds),
            Err(error) => (format!("{what} of audio of unknown length ({error})"), 0.0),
        };
        Ok(Transcript {
            text: format!("[{} {text}]", self.name),
            cost_usd: seconds * self.profile.price_per_audio_second * price_factor,
        })
    }

    /// Text to speech, with a response cache for repeated text and voice.
    #[audio_metric(
        operation = "tts",
        provider = self.name,
        model = model,
        characters = text.chars().count(),
        size = |speech| speech.audio.len(),
        audio_seconds = |speech| audio_duration_secs(&speech.audio),
        cost = |speech| speech.cost_usd,
        cache_hit = |speech| speech.from_cache,
    )]
    pub async fn speak(
        &self,
        text: &str,
        voice: &str,
        model: &str,
        simulation: &Simulation,
    ) -> Result<Speech, ProviderError> {
        if text.trim().is_empty() || text.len() > 4096 {
            return Err(ProviderError::InvalidRequest(
                "input must be 1 to 4096 bytes".into(),
            ));
        }
        let key = (voice.to_owned(), text.to_owned());
        let cached = self
            .tts_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned();
        if let (Some(audio), None) = (cached, self.failure(simulation, None)) {
            return Ok(Speech {
                audio,
                cost_usd: 0.0,
                from_cache: true,
            });
        }
        let audio = match &self.api {
            Some(api) => {
                self.synthesize_over_http(api, text, voice, simulation)
                    .await?
            }
            None => {
                self.call(simulation).await?;
                wav_of_silence(text.len() * BYTES_PER_AUDIO_SECOND / 15)
            }
        };
        let mut cache = self.tts_cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= TTS_CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(key, audio.clone());
        Ok(Speech {
            audio,
            cost_usd: text.chars().count() as f64 * self.profile.price_per_character,
            from_cache: false,
        })
    }

    /// One realtime turn: answers a user utterance through a simulated voice pipeline,
    /// marking `turn` at each stage (the caller marks the speech end and the first audio
    /// out): the end-of-turn decision, the final transcript, the response model's first
    /// output (the provider's own latency and failures), the first synthesized audio.
    pub async fn respond_turn(
        &self,
        utterance: &str,
        simulation: &Simulation,
        turn: &mut conduit_metrics_runtime::Turn<'_>,
    ) -> Result<String, ProviderError> {
        self.pause(Duration::from_millis(200)).await;
        turn.end_of_turn();
        self.pause(Duration::from_millis(150)).await;
        turn.transcript_final();
        self.call(simulation).await?;
        turn.response_started();
        self.pause(Duration::from_millis(120)).await;
        Ok(format!("{} heard: {utterance}", self.name))
    }

    /// How long the agent's reply plays before the next turn can start (scaled).
    pub fn playback(&self) -> Duration {
        self.scaled(Duration::from_millis(400))
    }

    /// Sleeps for a random stage time around `median` (scaled).
    async fn pause(&self, median: Duration) {
        let pause = {
            let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
            rng.latency(self.scaled(median), 0.4)
        };
        tokio::time::sleep(pause).await;
    }

    /// A health check as a provider's status endpoint would answer it.
    pub async fn health(&self) -> bool {
        let unhealthy = {
            let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
            rng.unit() < self.profile.unhealthy_rate
        };
        tokio::time::sleep(Duration::from_millis(5)).await;
        !unhealthy && self.outage().is_none()
    }

    /// Price of a realtime turn.
    pub fn turn_price(&self) -> f64 {
        self.profile.price_per_character * 40.0
    }
}

/// A WAV file (16 kHz, 16-bit mono) of `data_bytes` bytes of silence.
pub fn wav_of_silence(data_bytes: usize) -> Vec<u8> {
    let data_bytes = data_bytes.min(50 * 1024 * 1024) as u32 & !1;
    let mut wav = Vec::with_capacity(44 + data_bytes as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_bytes).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&16_000u32.to_le_bytes());
    wav.extend_from_slice(&32_000u32.to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_bytes.to_le_bytes());
    wav.resize(44 + data_bytes as usize, 0);
    wav
}

/// The providers of the demo: distinct latencies, failure modes and prices. Without
/// `random_failures` they fail only when a request forces it.
pub fn default_providers(latency_scale: f64, random_failures: bool) -> Vec<SimulatedProvider> {
    let providers = demo_providers(latency_scale);
    if random_failures {
        return providers;
    }
    providers
        .into_iter()
        .map(|provider| {
            let profile = Profile {
                error_rate: 0.0,
                timeout_rate: 0.0,
                rate_limit_rate: 0.0,
                unavailable_rate: 0.0,
                unhealthy_rate: 0.0,
                ..provider.profile
            };
            SimulatedProvider::new(provider.name, profile, latency_scale, 0)
        })
        .collect()
}

/// The provider that is reached over HTTP when the gateway runs its simulated API.
pub const HTTP_PROVIDER: &str = "elevenlabs";

fn demo_providers(latency_scale: f64) -> Vec<SimulatedProvider> {
    let profile = |median_ms: u64, spread: f64, timeout_s: u64| Profile {
        first_byte_median: Duration::from_millis(median_ms * 2 / 3),
        first_byte_spread: spread * 0.8,
        median_latency: Duration::from_millis(median_ms),
        latency_spread: spread,
        error_rate: 0.01,
        timeout_rate: 0.0,
        rate_limit_rate: 0.0,
        unavailable_rate: 0.0,
        timeout: Duration::from_secs(timeout_s),
        price_per_audio_second: 0.0001,
        price_per_character: 0.000015,
        unhealthy_rate: 0.0,
    };
    vec![
        // Fast and reliable, pricier.
        SimulatedProvider::new(
            "openai",
            Profile {
                price_per_audio_second: 0.0001,
                first_byte_median: Duration::from_millis(280),
                ..profile(350, 0.4, 30)
            },
            latency_scale,
            1,
        ),
        // Very fast transcription, times out now and then.
        SimulatedProvider::new(
            "deepgram",
            Profile {
                timeout_rate: 0.03,
                price_per_audio_second: 0.000072,
                first_byte_median: Duration::from_millis(110),
                ..profile(180, 0.3, 10)
            },
            latency_scale,
            2,
        ),
        // High-quality voices, strict rate limits.
        SimulatedProvider::new(
            "elevenlabs",
            Profile {
                rate_limit_rate: 0.06,
                price_per_character: 0.00003,
                first_byte_median: Duration::from_millis(190),
                ..profile(600, 0.5, 30)
            },
            latency_scale,
            3,
        ),
        // Slow, sometimes down; its health checks flap.
        SimulatedProvider::new(
            "azure",
            Profile {
                unavailable_rate: 0.04,
                unhealthy_rate: 0.08,
                first_byte_median: Duration::from_millis(650),
                first_byte_spread: 0.6,
                ..profile(900, 0.6, 20)
            },
            latency_scale,
            4,
        ),
    ]
}
