//! Recording one call: start it (the active gauge goes up), finish it with an outcome
//! (counter, duration, size, cost, audio seconds, cache hit; the gauge goes down). The
//! returned guard finishes the call as `cancelled` when dropped unfinished, or `panic`
//! when dropped by unwinding, so every call is counted once whatever happens to it.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use super::costs::{record_audio_seconds_in, record_cost_in, record_unknown_audio_seconds_in};

use super::outcome::CallOutcome;
use crate::clock::Timestamp;
use crate::labels::{Operation, Status};
use crate::store::{
    CallCells, ModelSlot, ProviderSeries, RealtimeCells, Registry, Slot, Striped, current_stripe,
    global,
};
#[cfg(feature = "opentelemetry")]
use crate::trace::{TraceRef, current_trace};

/// A call in flight. Finish it with [`finish`](Self::finish) or
/// [`finish_with`](Self::finish_with); dropping it unfinished records `cancelled` (or
/// `panic` while unwinding).
///
/// ```
/// use conduit_metrics_runtime::{MetricsConfig, Operation, Status};
/// use conduit_metrics_runtime::registry::Registry;
///
/// let registry = Registry::new(&MetricsConfig::default());
/// let call = registry.start_call(Operation::Transcription, "deepgram");
/// drop(call); // e.g. the request future was dropped
/// assert!(registry.render().contains(
///     r#"conduit_audio_requests_total{operation="transcription",provider="deepgram",status="cancelled"} 1"#
/// ));
/// ```
#[derive(Debug)]
#[must_use = "a call that is dropped at once is recorded as cancelled"]
pub struct ActiveCall<'r> {
    registry: &'r Registry,
    /// The (operation, provider, model) cells the call records into.
    cells: &'r Striped<CallCells>,
    /// Set when the call is a whole realtime session.
    session: Option<&'r Striped<RealtimeCells>>,
    operation: Operation,
    /// The stripe chosen at the start; the end writes to it too, so a call reads the
    /// CPU number once.
    stripe: usize,
    started: Timestamp,
    finished: bool,
    first_byte_seen: bool,
    /// The sampled span current at the start, for exemplars.
    #[cfg(feature = "opentelemetry")]
    trace: Option<TraceRef>,
}

impl<'r> ActiveCall<'r> {
    #[inline]
    fn start(
        registry: &'r Registry,
        cells: &'r Striped<CallCells>,
        session: Option<&'r Striped<RealtimeCells>>,
        operation: Operation,
    ) -> Self {
        let stripe = current_stripe();
        registry.operation(operation).at(stripe).enter();
        ActiveCall {
            registry,
            cells,
            session,
            operation,
            stripe,
            started: Timestamp::now(),
            finished: false,
            first_byte_seen: false,
            #[cfg(feature = "opentelemetry")]
            trace: current_trace(),
        }
    }

    /// Adds `characters` sent to the call (text to synthesize) to
    /// `conduit_audio_characters_total`, at once: they count whatever the outcome.
    #[inline]
    pub fn add_characters(&self, characters: u64) {
        self.cells.at(self.stripe).add_characters(characters);
    }

    /// Records the time from the call's start to now in
    /// `conduit_audio_time_to_first_byte_seconds`, the first time it is called; later
    /// calls do nothing. A streamed call calls it at its first item.
    #[inline]
    pub fn mark_first_byte(&mut self) {
        if !self.first_byte_seen {
            self.first_byte_seen = true;
            let elapsed = self.started.elapsed_nanos();
            let native = self.registry.native_schema();
            self.cells
                .at(self.stripe)
                .observe_first_byte(elapsed, native);
            #[cfg(feature = "opentelemetry")]
            if let Some(trace) = self.trace {
                self.cells.record_first_byte_exemplar(trace, elapsed);
            }
        }
    }

    /// Finishes the call with a status only.
    #[inline]
    pub fn finish(self, status: Status) {
        self.finish_with(CallOutcome::new(status));
    }

    /// Finishes the call with a full outcome.
    #[inline]
    pub fn finish_with(mut self, outcome: CallOutcome) {
        self.record(outcome);
    }

    #[inline]
    fn record(&mut self, outcome: CallOutcome) {
        self.finished = true;
        let elapsed = self.started.elapsed_nanos();
        let cells = self.cells.at(self.stripe);
        cells.count(outcome.status);
        if outcome.status.is_completed() {
            cells.observe_duration(elapsed, self.registry.native_schema());
            #[cfg(feature = "opentelemetry")]
            if let Some(trace) = self.trace {
                self.cells.record_duration_exemplar(trace, elapsed);
            }
        }
        if let Some(bytes) = outcome.size {
            cells.observe_size(bytes);
        }
        let operation = self.registry.operation(self.operation).at(self.stripe);
        operation.leave();
        if let Some(dollars) = outcome.cost {
            record_cost_in(self.registry, operation, self.operation, dollars);
        }
        if let Some(seconds) = outcome.audio_seconds {
            record_audio_seconds_in(self.registry, cells, operation, self.operation, seconds);
        }
        if let Some(reason) = outcome.audio_seconds_unknown {
            record_unknown_audio_seconds_in(self.registry, operation, self.operation, reason);
        }
        if let Some(hit) = outcome.cache_hit {
            operation.count_lookup(hit);
        }
        if let Some(session) = self.session {
            let session = session.at(self.stripe);
            session.count_session(outcome.effective_disconnect_reason());
            session.observe_session(elapsed);
        }
    }
}

impl Drop for ActiveCall<'_> {
    fn drop(&mut self) {
        if !self.finished {
            let status = if std::thread::panicking() {
                Status::Panic
            } else {
                Status::Cancelled
            };
            self.record(CallOutcome::new(status));
        }
    }
}

impl Registry {
    /// Starts a call of `operation` for `provider` (resolving the provider name each
    /// time; [`CallSite`] caches it).
    #[inline]
    pub fn start_call(&self, operation: Operation, provider: &str) -> ActiveCall<'_> {
        let series = self.provider(provider);
        ActiveCall::start(self, series.calls(operation), None, operation)
    }

    /// Starts a call of `operation` for `provider` served by `model`: with `ModelLabel`
    /// on, its per-call families carry `model`; off, this is
    /// [`start_call`](Self::start_call).
    ///
    /// ```
    /// use conduit_metrics_runtime::{MetricsConfig, Operation, Status};
    /// use conduit_metrics_runtime::registry::Registry;
    ///
    /// let config = MetricsConfig::builder().model_label(true).build().unwrap();
    /// let registry = Registry::new(&config);
    /// let call = registry.start_call_with_model(Operation::Transcription, "openai", "whisper-1");
    /// call.finish(Status::Success);
    /// assert!(registry.render().contains(
    ///     r#"conduit_audio_requests_total{operation="transcription",provider="openai",model="whisper-1",status="success"} 1"#
    /// ));
    /// ```
    #[inline]
    pub fn start_call_with_model(
        &self,
        operation: Operation,
        provider: &str,
        model: &str,
    ) -> ActiveCall<'_> {
        let series = self.provider(provider);
        let cells = series.model_calls(operation, self.model(model));
        ActiveCall::start(self, cells, None, operation)
    }
}

/// Starts a call on the [global](crate::registry::global) registry.
///
/// ```
/// use conduit_metrics_runtime::{Operation, Status, start_call};
/// let call = start_call(Operation::Tts, "elevenlabs");
/// // ... synthesize ...
/// call.finish(Status::Success);
/// ```
#[inline]
pub fn start_call(operation: Operation, provider: &str) -> ActiveCall<'static> {
    global().start_call(operation, provider)
}

/// Starts a call served by `model` on the [global](crate::registry::global) registry
/// (see [`Registry::start_call_with_model`]).
#[inline]
pub fn start_call_with_model(
    operation: Operation,
    provider: &str,
    model: &str,
) -> ActiveCall<'static> {
    global().start_call_with_model(operation, provider, model)
}

/// One instrumented place in the code: its operation, and the provider it saw last, so a
/// call with the same provider as the previous one finds its series with one comparison
/// instead of a table lookup. `#[audio_metric]` puts one in a `static` per function.
///
/// ```
/// use conduit_metrics_runtime::{CallSite, Operation, Status};
///
/// static SITE: CallSite = CallSite::new(Operation::Transcription);
///
/// fn transcribe(provider: &str) -> Result<String, ()> {
///     let call = SITE.start(provider);
///     let result = Ok("hello".to_owned());
///     call.finish(Status::Success);
///     result
/// }
/// # transcribe("openai").unwrap();
/// ```
#[derive(Debug)]
pub struct CallSite {
    operation: Operation,
    /// The provider slot of the last call, encoded by `encode_slot`.
    last_slot: AtomicUsize,
    /// The model slot of the last call that gave a model, encoded by `encode_model`.
    last_model: AtomicUsize,
}

const NO_SLOT: usize = usize::MAX;
const OVERFLOW_SLOT: usize = usize::MAX - 1;
const UNKNOWN_MODEL_SLOT: usize = usize::MAX - 2;

fn encode_slot(slot: Slot) -> usize {
    match slot {
        Slot::Index(index) => index,
        Slot::Overflow => OVERFLOW_SLOT,
    }
}

fn decode_slot(encoded: usize) -> Option<Slot> {
    match encoded {
        NO_SLOT | UNKNOWN_MODEL_SLOT => None,
        OVERFLOW_SLOT => Some(Slot::Overflow),
        index => Some(Slot::Index(index)),
    }
}

fn encode_model(slot: ModelSlot) -> usize {
    match slot {
        ModelSlot::Unknown => UNKNOWN_MODEL_SLOT,
        ModelSlot::Named(slot) => encode_slot(slot),
    }
}

fn decode_model(encoded: usize) -> Option<ModelSlot> {
    match encoded {
        UNKNOWN_MODEL_SLOT => Some(ModelSlot::Unknown),
        other => decode_slot(other).map(ModelSlot::Named),
    }
}

impl CallSite {
    /// A call site for `operation`.
    pub const fn new(operation: Operation) -> Self {
        CallSite {
            operation,
            last_slot: AtomicUsize::new(NO_SLOT),
            last_model: AtomicUsize::new(NO_SLOT),
        }
    }

    /// The operation of this site.
    pub const fn operation(&self) -> Operation {
        self.operation
    }

    /// Starts a call on the global registry.
    #[inline]
    pub fn start(&self, provider: &str) -> ActiveCall<'static> {
        let registry = global();
        let series = registry.series_at(self.slot_for(registry, provider));
        ActiveCall::start(registry, series.calls(self.operation), None, self.operation)
    }

    /// Starts a call served by `model` on the global registry: when `ModelLabel` is on,
    /// its per-call families carry `model` (the site keeps the last model's slot, as it
    /// keeps the provider's); when off, this is [`start`](Self::start).
    #[inline]
    pub fn start_with_model(&self, provider: &str, model: &str) -> ActiveCall<'static> {
        let registry = global();
        let series = registry.series_at(self.slot_for(registry, provider));
        let cells = self.model_cells(registry, series, model);
        ActiveCall::start(registry, cells, None, self.operation)
    }

    /// Starts a call that is a whole realtime session: besides the call families it
    /// records `conduit_audio_realtime_sessions_total` (by the outcome's
    /// [disconnect reason](CallOutcome::effective_disconnect_reason)) and
    /// `conduit_audio_realtime_duration_seconds` when it ends. The active gauge counts it
    /// once.
    #[inline]
    pub fn start_session(&self, provider: &str) -> ActiveCall<'static> {
        let registry = global();
        let series = registry.series_at(self.slot_for(registry, provider));
        let cells = series.calls(self.operation);
        let session = Some(series.realtime());
        ActiveCall::start(registry, cells, session, self.operation)
    }

    /// [`start_session`](Self::start_session) served by `model` (see
    /// [`start_with_model`](Self::start_with_model)).
    #[inline]
    pub fn start_session_with_model(&self, provider: &str, model: &str) -> ActiveCall<'static> {
        let registry = global();
        let series = registry.series_at(self.slot_for(registry, provider));
        let cells = self.model_cells(registry, series, model);
        let session = Some(series.realtime());
        ActiveCall::start(registry, cells, session, self.operation)
    }

    /// The cells of this site's operation for `model`, through the site's model cache.
    #[inline]
    fn model_cells<'r>(
        &self,
        registry: &Registry,
        series: &'r ProviderSeries,
        model: &str,
    ) -> &'r Striped<CallCells> {
        if !registry.model_label() {
            return series.calls(self.operation);
        }
        let slot = match decode_model(self.last_model.load(Relaxed)) {
            Some(slot) if registry.holds_model(slot, model) => slot,
            _ => {
                let slot = registry.resolve_model(model);
                self.last_model.store(encode_model(slot), Relaxed);
                slot
            }
        };
        series.model_calls(self.operation, registry.model_id(slot))
    }

    #[inline]
    fn slot_for(&self, registry: &Registry, provider: &str) -> Slot {
        let cached = decode_slot(self.last_slot.load(Relaxed));
        if let Some(slot) = cached {
            if registry.holds(slot, provider) {
                return slot;
            }
        }
        let slot = registry.resolve(provider);
        self.last_slot.store(encode_slot(slot), Relaxed);
        slot
    }
}
