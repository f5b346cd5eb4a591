//! The `provider` label: each provider's series, in a [`LabelTable`] bounded by
//! `MaxProviders` with later names folded into `other`.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::cells::{CallCells, RealtimeCells, TurnCells};
use super::label_table::{LabelEntry, LabelKind, LabelTable};
use super::models::{ModelId, ModelSlots};
use super::stripes::Striped;
use crate::labels::Operation;
use crate::limits::MAX_PROVIDERS_LIMIT;

/// Everything recorded for one provider label value. Per-operation cells are allocated
/// on first use, since most providers serve one or two operations.
#[derive(Debug)]
pub(crate) struct ProviderSeries {
    label: Box<str>,
    /// Per operation, per model (only `unknown` while the model label is off).
    calls: [ModelSlots<Striped<CallCells>>; Operation::COUNT],
    realtime: OnceLock<Striped<RealtimeCells>>,
    /// Per model, allocated at the model's first voice turn.
    turns: ModelSlots<Striped<TurnCells>>,
    health_passed: AtomicU64,
    health_failed: AtomicU64,
}

impl LabelEntry for ProviderSeries {
    fn new(label: Box<str>, _ordinal: Option<usize>) -> Self {
        ProviderSeries {
            label,
            calls: std::array::from_fn(|_| ModelSlots::default()),
            realtime: OnceLock::new(),
            turns: ModelSlots::default(),
            health_passed: AtomicU64::new(0),
            health_failed: AtomicU64::new(0),
        }
    }

    fn label(&self) -> &str {
        &self.label
    }
}

impl ProviderSeries {
    /// The label value.
    pub(crate) fn label(&self) -> &str {
        &self.label
    }

    /// Counts one health check as passed or failed.
    pub(crate) fn count_health_check(&self, healthy: bool) {
        if healthy {
            self.health_passed.fetch_add(1, Relaxed);
        } else {
            self.health_failed.fetch_add(1, Relaxed);
        }
    }

    /// Health checks so far: (passed, failed).
    pub(crate) fn health_checks(&self) -> (u64, u64) {
        (
            self.health_passed.load(Relaxed),
            self.health_failed.load(Relaxed),
        )
    }

    /// The cells of one operation without a model, created on first use.
    #[inline]
    pub(crate) fn calls(&self, operation: Operation) -> &Striped<CallCells> {
        self.calls[operation.index()].unknown_or_init(Striped::new)
    }

    /// The cells of one operation and model, created on first use.
    #[inline]
    pub(crate) fn model_calls(&self, operation: Operation, model: ModelId) -> &Striped<CallCells> {
        self.calls[operation.index()].get_or_init(model, Striped::new)
    }

    /// The cells of one operation for every model that used it (`unknown` first).
    pub(crate) fn calls_by_model(
        &self,
        operation: Operation,
    ) -> impl Iterator<Item = (ModelId, &Striped<CallCells>)> {
        self.calls[operation.index()].iter()
    }

    /// The cells of one operation and model, if it was ever used.
    pub(crate) fn model_calls_if_used(
        &self,
        operation: Operation,
        model: ModelId,
    ) -> Option<&Striped<CallCells>> {
        self.calls[operation.index()].get(model)
    }

    /// The realtime cells, created on first use.
    #[inline]
    pub(crate) fn realtime(&self) -> &Striped<RealtimeCells> {
        self.realtime.get_or_init(Striped::new)
    }

    /// The realtime cells if a session or turn was ever recorded.
    pub(crate) fn realtime_if_used(&self) -> Option<&Striped<RealtimeCells>> {
        self.realtime.get()
    }

    /// The voice-turn cells of a model, created at its first turn.
    #[inline]
    pub(crate) fn turns(&self, model: ModelId) -> &Striped<TurnCells> {
        self.turns.get_or_init(model, Striped::new)
    }

    /// The voice-turn cells of a model if it ever had a turn.
    pub(crate) fn turns_if_used(&self, model: ModelId) -> Option<&Striped<TurnCells>> {
        self.turns.get(model)
    }
}

/// The `provider` label's table.
pub(crate) type ProviderTable = LabelTable<ProviderSeries>;

/// The bound of the `provider` label.
pub(crate) const PROVIDERS: LabelKind = LabelKind {
    hard_limit: MAX_PROVIDERS_LIMIT,
    warn_folding: |provider, max_providers| {
        tracing::warn!(
            provider,
            max_providers,
            "conduit-metrics: more distinct providers than MaxProviders; further new providers are recorded as provider=\"other\" (see conduit_audio_provider_labels_folded_total)"
        );
    },
};
