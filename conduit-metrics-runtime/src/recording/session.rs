//! Realtime voice sessions: a guard that holds the `realtime` active gauge up while the
//! session lives, records per-turn latency, and on its end records the session's length
//! and one count by disconnect reason (`dropped` when it ends without one).

use std::time::Duration;

use super::turn::Turn;
use crate::clock::Timestamp;
use crate::labels::{DisconnectReason, Operation};
use crate::store::{ModelId, ProviderSeries, RealtimeCells, Registry, Striped, global};

/// A realtime session in progress.
///
/// ```
/// use std::time::Duration;
/// use conduit_metrics_runtime::{DisconnectReason, MetricsConfig};
/// use conduit_metrics_runtime::registry::Registry;
///
/// let registry = Registry::new(&MetricsConfig::default());
/// let session = registry.realtime_session("openai");
/// session.record_turn_latency(Duration::from_millis(180));
/// session.end(DisconnectReason::ClientDisconnect);
/// let text = registry.render();
/// assert!(text.contains(r#"conduit_audio_realtime_sessions_total{provider="openai",disconnect_reason="client_disconnect"} 1"#));
/// assert!(text.contains(r#"conduit_audio_realtime_latency_seconds_bucket{provider="openai",le="0.2"} 1"#));
/// ```
#[derive(Debug)]
#[must_use = "a session that is dropped at once is recorded as dropped"]
pub struct RealtimeSession<'r> {
    registry: &'r Registry,
    series: &'r ProviderSeries,
    cells: &'r Striped<RealtimeCells>,
    /// The model its turns carry (`unknown` until `with_model`, or while the label is off).
    model: ModelId,
    started: Timestamp,
    ended: bool,
}

impl<'r> RealtimeSession<'r> {
    fn start(registry: &'r Registry, provider: &str) -> Self {
        let series = registry.provider(provider);
        registry.operation(Operation::Realtime).local().enter();
        RealtimeSession {
            registry,
            series,
            cells: series.realtime(),
            model: ModelId::UNKNOWN,
            started: Timestamp::now(),
            ended: false,
        }
    }

    /// The model serving this session: its turns' stages and outcomes carry it as their
    /// `model` label when `ModelLabel` is on (otherwise it is ignored). The session's own
    /// families (sessions, duration, the whole turn's latency) stay per provider, as in
    /// the guide.
    ///
    /// ```
    /// use conduit_metrics_runtime::MetricsConfig;
    /// use conduit_metrics_runtime::registry::Registry;
    ///
    /// let config = MetricsConfig::builder().model_label(true).build().unwrap();
    /// let registry = Registry::new(&config);
    /// let session = registry.realtime_session("openai").with_model("gpt-4o-realtime");
    /// let mut turn = session.turn();
    /// turn.user_speech_ended();
    /// turn.agent_audio_started();
    /// turn.end();
    /// assert!(registry.render().contains(
    ///     r#"conduit_audio_turns_total{provider="openai",model="gpt-4o-realtime",outcome="answered"} 1"#
    /// ));
    /// ```
    pub fn with_model(mut self, model: &str) -> Self {
        self.model = self.registry.model(model);
        self
    }

    /// Starts a voice turn of this session: its marks time the stages of the turn, and it
    /// records them when dropped (see [`Turn`]).
    pub fn turn(&self) -> Turn<'_> {
        Turn::start(self.registry, self.series, self.model)
    }

    /// Records the latency of one turn in `conduit_audio_realtime_latency_seconds`.
    pub fn record_turn_latency(&self, latency: Duration) {
        record_latency_in(self.registry, self.cells, latency);
    }

    /// Ends the session with a reason.
    pub fn end(mut self, reason: DisconnectReason) {
        self.record_end(reason);
    }

    fn record_end(&mut self, reason: DisconnectReason) {
        self.ended = true;
        let cells = self.cells.local();
        cells.count_session(reason);
        cells.observe_session(self.started.elapsed_nanos());
        self.registry.operation(Operation::Realtime).local().leave();
    }
}

impl Drop for RealtimeSession<'_> {
    fn drop(&mut self) {
        if !self.ended {
            self.record_end(DisconnectReason::Dropped);
        }
    }
}

impl Registry {
    /// Starts a realtime session with `provider`.
    pub fn realtime_session(&self, provider: &str) -> RealtimeSession<'_> {
        RealtimeSession::start(self, provider)
    }

    /// Starts a voice turn for `provider` without a session guard (for sessions recorded
    /// by `#[audio_metric(operation = "realtime")]`); see [`Turn`].
    pub fn realtime_turn(&self, provider: &str) -> Turn<'_> {
        Turn::start(self, self.provider(provider), ModelId::UNKNOWN)
    }

    /// Records one turn's latency for `provider` without a session guard (for sessions
    /// recorded by `#[audio_metric(operation = "realtime")]`).
    pub fn record_realtime_latency(&self, provider: &str, latency: Duration) {
        record_latency_in(self, self.provider(provider).realtime(), latency);
    }
}

/// Records one realtime turn's latency on the [global](crate::registry::global) registry.
pub fn record_realtime_latency(provider: &str, latency: Duration) {
    global().record_realtime_latency(provider, latency)
}

/// Starts a voice turn for `provider` on the [global](crate::registry::global) registry,
/// for sessions recorded by `#[audio_metric(operation = "realtime")]` (a
/// [`RealtimeSession`] has [`turn`](RealtimeSession::turn)).
///
/// ```
/// let mut turn = conduit_metrics_runtime::realtime_turn("openai");
/// turn.user_speech_ended();
/// turn.agent_audio_started();
/// drop(turn); // answered
/// ```
pub fn realtime_turn(provider: &str) -> Turn<'static> {
    global().realtime_turn(provider)
}

/// Starts a realtime session on the [global](crate::registry::global) registry.
pub fn realtime_session(provider: &str) -> RealtimeSession<'static> {
    global().realtime_session(provider)
}

/// Observes a turn's latency, with the sampled span current now as its exemplar.
fn record_latency_in(registry: &Registry, cells: &Striped<RealtimeCells>, latency: Duration) {
    let nanos = duration_nanos(latency);
    cells
        .local()
        .observe_latency(nanos, registry.native_schema());
    #[cfg(feature = "opentelemetry")]
    if let Some(trace) = crate::trace::current_trace() {
        cells.record_latency_exemplar(trace, nanos);
    }
}

fn duration_nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}
