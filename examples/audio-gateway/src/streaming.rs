//! Streamed calls of the simulated providers: speech synthesized in chunks, and
//! transcripts returned as partial results, each instrumented with
//! `#[audio_metric(stream)]` the way a user instruments a real streaming client.

use std::time::Duration;

use bytes::Bytes;
use conduit_metrics_runtime::audio_duration::{audio_duration_secs, pcm_duration_secs};
use conduit_metrics_runtime::{UnknownDuration, audio_metric};
use futures_util::Stream;
use futures_util::stream;

use super::providers::{
    BYTES_PER_AUDIO_SECOND, Failure, ProviderError, SPEECH_PCM, SimulatedProvider, Simulation,
};

/// Bytes of one streamed speech chunk: 100 ms of 16 kHz 16-bit mono PCM.
pub const SPEECH_CHUNK_BYTES: usize = BYTES_PER_AUDIO_SECOND / 10;

/// One chunk of streamed speech.
#[derive(Debug, Clone)]
pub struct SpeechChunk {
    /// Raw PCM.
    pub pcm: Bytes,
    /// Dollars: the whole synthesis is billed on the first chunk, as providers report
    /// usage once.
    pub cost_usd: f64,
}

/// One partial result of a streamed transcription.
#[derive(Debug, Clone)]
pub struct Partial {
    /// Text added by this partial.
    pub delta: String,
    /// Seconds of audio this partial covers (unknown when the upload's duration could
    /// not be read).
    pub audio_seconds: Result<f64, UnknownDuration>,
    /// Dollars for those seconds.
    pub cost_usd: f64,
}

/// How a simulated stream unfolds: when its first item comes, how far apart the rest
/// are, and whether it fails midway.
#[derive(Debug, Clone, Copy)]
struct StreamPlan {
    first_after: Duration,
    interval: Duration,
    fail_at: Option<(usize, Failure)>,
}

/// A stream of `count` items made by `item(index)`, paced by `plan`; at the failing index
/// it yields the failure and ends.
fn paced<T, F>(
    plan: StreamPlan,
    count: usize,
    item: F,
) -> impl Stream<Item = Result<T, ProviderError>> + Send + use<T, F>
where
    T: Send + 'static,
    F: Fn(usize) -> T + Send + 'static,
{
    stream::unfold((0usize, false), move |(index, ended)| {
        let wait = if index == 0 {
            plan.first_after
        } else {
            plan.interval
        };
        let outcome = match plan.fail_at {
            _ if ended || index >= count => None,
            Some((at, failure)) if at == index => Some(Err(failure.error())),
            _ => Some(Ok(item(index))),
        };
        async move {
            let outcome = outcome?;
            tokio::time::sleep(wait).await;
            let ended = outcome.is_err();
            Some((outcome, (index + 1, ended)))
        }
    })
}

impl SimulatedProvider {
    /// Plans a stream: a failure forced or rolled without `fail_after_chunks` happens
    /// before the stream exists (the provider refused the connection).
    async fn plan_stream(&self, simulation: &Simulation) -> Result<StreamPlan, ProviderError> {
        let (_, rolled) = self.roll();
        let first_after = simulation.latency.unwrap_or_else(|| self.roll_first_byte());
        // Synthesis and recognition run at about 3x real time.
        let interval = simulation
            .latency
            .unwrap_or_else(|| self.scaled(Duration::from_millis(30)));
        if let (Some(after), None) = (simulation.fail_after_chunks, self.outage()) {
            let failure = simulation.failure.unwrap_or(Failure::Internal);
            return Ok(StreamPlan {
                first_after,
                interval,
                fail_at: Some((after, failure)),
            });
        }
        match self.failure(simulation, rolled) {
            Some(Failure::Timeout) => {
                tokio::time::sleep(self.scaled(self.profile().timeout)).await;
                Err(ProviderError::Timeout)
            }
            Some(failure) => Err(failure.error()),
            None => Ok(StreamPlan {
                first_after,
                interval,
                fail_at: None,
            }),
        }
    }

    /// Text to speech, streamed in 100 ms chunks as it is synthesized.
    #[audio_metric(
        operation = "tts",
        provider = self.name(),
        model = model,
        stream,
        characters = text.chars().count(),
        size = |chunk| chunk.pcm.len(),
        audio_seconds = |chunk| pcm_duration_secs(&chunk.pcm, SPEECH_PCM),
        cost = |chunk| chunk.cost_usd,
    )]
    pub async fn speak_streaming(
        &self,
        text: &str,
        model: &str,
        simulation: &Simulation,
    ) -> Result<impl Stream<Item = Result<SpeechChunk, ProviderError>> + Send + use<>, ProviderError>
    {
        if text.trim().is_empty() || text.len() > 4096 {
            return Err(ProviderError::InvalidRequest(
                "input must be 1 to 4096 bytes".into(),
            ));
        }
        let plan = self.plan_stream(simulation).await?;
        let audio_bytes = text.len() * BYTES_PER_AUDIO_SECOND / 15;
        let chunks = audio_bytes.div_ceil(SPEECH_CHUNK_BYTES).max(1);
        let cost = text.chars().count() as f64 * self.profile().price_per_character;
        let silence = Bytes::from(vec![0u8; SPEECH_CHUNK_BYTES]);
        Ok(paced(plan, chunks, move |index| SpeechChunk {
            pcm: silence.clone(),
            cost_usd: if index == 0 { cost } else { 0.0 },
        }))
    }

    /// Speech to text, streamed as one partial transcript per second of audio (at most
    /// 30 partials).
    #[audio_metric(
        operation = "transcription",
        provider = self.name(),
        model = model,
        stream,
        size = audio.len(),
        audio_seconds = |partial| partial.audio_seconds,
        cost = |partial| partial.cost_usd,
    )]
    pub async fn transcribe_streaming(
        &self,
        audio: &[u8],
        model: &str,
        simulation: &Simulation,
    ) -> Result<impl Stream<Item = Result<Partial, ProviderError>> + Send + use<>, ProviderError>
    {
        if audio.is_empty() {
            return Err(ProviderError::InvalidRequest("empty audio".into()));
        }
        let plan = self.plan_stream(simulation).await?;
        // One partial a second of the upload's real duration; one partial, with its
        // duration unknown, for a file whose length cannot be read.
        let seconds = audio_duration_secs(audio).map_err(|error| error.reason());
        let partials = match seconds {
            Ok(seconds) => (seconds.ceil() as usize).clamp(1, 30),
            Err(_) => 1,
        };
        let per_partial = seconds.map(|seconds| seconds / partials as f64);
        let price = self.profile().price_per_audio_second;
        let name = self.name();
        Ok(paced(plan, partials, move |index| Partial {
            delta: format!("[{name} segment {}] ", index + 1),
            audio_seconds: per_partial,
            cost_usd: per_partial.unwrap_or(0.0) * price,
        }))
    }
}
