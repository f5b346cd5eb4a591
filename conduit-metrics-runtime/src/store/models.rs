//! The optional `model` label: model names in a [`LabelTable`] bounded by `MaxModels`
//! (later names fold into `other`), each with a small dense number, and [`ModelSlots`],
//! the per-model cells of one provider's series indexed by that number. `unknown` (a call
//! that gave no model, or every call while the label is off) is number 0 and lives
//! inline, so a registry without models pays one pointer a series for the feature.

use std::sync::OnceLock;

use super::label_table::{LabelEntry, LabelKind, LabelTable, Slot};
use crate::labels::EMPTY_PROVIDER_LABEL;
use crate::limits::MAX_MODELS_LIMIT;

/// The number of a model label value: 0 `unknown`, 1 `other`, then 2, 3, .. in the order
/// the names were first seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ModelId(u16);

impl ModelId {
    /// No model given.
    pub(crate) const UNKNOWN: ModelId = ModelId(0);
    /// Names past `MaxModels`.
    pub(crate) const OTHER: ModelId = ModelId(1);

    fn of_ordinal(ordinal: usize) -> ModelId {
        // The table holds at most MAX_MODELS_LIMIT names, far below u16::MAX.
        ModelId(u16::try_from(ordinal + 2).unwrap_or(u16::MAX))
    }
}

/// One model name of the table.
#[derive(Debug)]
pub(crate) struct ModelName {
    label: Box<str>,
    id: ModelId,
}

impl LabelEntry for ModelName {
    fn new(label: Box<str>, ordinal: Option<usize>) -> Self {
        let id = ordinal.map_or(ModelId::OTHER, ModelId::of_ordinal);
        ModelName { label, id }
    }

    fn label(&self) -> &str {
        &self.label
    }
}

/// Where a model name resolved to: `unknown`, or a slot of the table (`other` included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ModelSlot {
    Unknown,
    Named(Slot),
}

const MODELS: LabelKind = LabelKind {
    hard_limit: MAX_MODELS_LIMIT,
    warn_folding: |model, max_models| {
        tracing::warn!(
            model,
            max_models,
            "conduit-metrics: more distinct models than MaxModels; further new models are recorded as model=\"other\" (see conduit_audio_model_labels_folded_total)"
        );
    },
};

/// The `model` label's table.
#[derive(Debug)]
pub(crate) struct ModelTable {
    names: LabelTable<ModelName>,
}

impl ModelTable {
    pub(crate) fn new(max_models: usize) -> Self {
        ModelTable {
            names: LabelTable::new(MODELS, max_models),
        }
    }

    pub(crate) fn set_max(&self, max_models: usize) {
        self.names.set_max(max_models);
    }

    /// Finds or adds a model name (cleaned as provider names are; empty is `unknown`).
    #[inline]
    pub(crate) fn resolve(&self, name: &str) -> ModelSlot {
        if name.is_empty() || name == EMPTY_PROVIDER_LABEL {
            ModelSlot::Unknown
        } else {
            ModelSlot::Named(self.names.resolve(name))
        }
    }

    /// Whether `slot` currently holds `name` (a call site's cache check).
    #[inline]
    pub(crate) fn holds(&self, slot: ModelSlot, name: &str) -> bool {
        match slot {
            ModelSlot::Unknown => name.is_empty() || name == EMPTY_PROVIDER_LABEL,
            ModelSlot::Named(slot) => self.names.holds(slot, name),
        }
    }

    /// The number of a resolved name.
    #[inline]
    pub(crate) fn id(&self, slot: ModelSlot) -> ModelId {
        match slot {
            ModelSlot::Unknown => ModelId::UNKNOWN,
            ModelSlot::Named(slot) => self.names.entry(slot).id,
        }
    }

    /// Calls whose model was folded into `other` so far.
    pub(crate) fn folded(&self) -> u64 {
        self.names.folded()
    }

    /// Every model label value with its number, sorted by label (`other` and `unknown`
    /// included).
    pub(crate) fn labels(&self) -> Vec<(&str, ModelId)> {
        let mut labels: Vec<(&str, ModelId)> = self
            .names
            .all()
            .into_iter()
            .map(|name| (&*name.label, name.id))
            .chain([(EMPTY_PROVIDER_LABEL, ModelId::UNKNOWN)])
            .collect();
        labels.sort();
        labels
    }
}

/// Slots a chunk of [`ModelSlots`] holds.
const CHUNK: usize = 16;
/// Chunks for `other` and every named model.
const CHUNKS: usize = (MAX_MODELS_LIMIT + 1).div_ceil(CHUNK);

type Chunk<T> = [OnceLock<T>; CHUNK];

/// The chunks of the named models, each allocated when its first model appears.
type Chunks<T> = [OnceLock<Box<Chunk<T>>>; CHUNKS];

/// A value per model number, each created on first use: `unknown` inline, the others in
/// chunks of 16 allocated as models appear, so a provider with two models holds one
/// chunk, not room for every possible model.
#[derive(Debug)]
pub(crate) struct ModelSlots<T> {
    unknown: OnceLock<T>,
    named: OnceLock<Box<Chunks<T>>>,
}

impl<T> Default for ModelSlots<T> {
    fn default() -> Self {
        ModelSlots {
            unknown: OnceLock::new(),
            named: OnceLock::new(),
        }
    }
}

impl<T> ModelSlots<T> {
    /// The `unknown` value (every value while the label is off), created on first use.
    #[inline]
    pub(crate) fn unknown_or_init(&self, init: impl FnOnce() -> T) -> &T {
        self.unknown.get_or_init(init)
    }

    /// The value of a model, created on first use.
    #[inline]
    pub(crate) fn get_or_init(&self, model: ModelId, init: impl FnOnce() -> T) -> &T {
        let Some(index) = usize::from(model.0).checked_sub(1) else {
            return self.unknown.get_or_init(init);
        };
        // Ids come from a table bounded by MAX_MODELS_LIMIT; clamp rather than panic.
        let index = index.min(CHUNKS * CHUNK - 1);
        let chunks = self
            .named
            .get_or_init(|| Box::new(std::array::from_fn(|_| OnceLock::new())));
        let chunk = chunks[index / CHUNK]
            .get_or_init(|| Box::new(std::array::from_fn(|_| OnceLock::new())));
        chunk[index % CHUNK].get_or_init(init)
    }

    /// Every value created, with its model number (`unknown` first).
    pub(crate) fn iter(&self) -> impl Iterator<Item = (ModelId, &T)> {
        let named = self.named.get().into_iter().flat_map(|chunks| {
            chunks.iter().enumerate().flat_map(|(chunk_index, chunk)| {
                chunk.get().into_iter().flat_map(move |chunk| {
                    chunk.iter().enumerate().filter_map(move |(offset, value)| {
                        let id = chunk_index * CHUNK + offset + 1;
                        Some((ModelId(u16::try_from(id).ok()?), value.get()?))
                    })
                })
            })
        });
        self.unknown
            .get()
            .map(|value| (ModelId::UNKNOWN, value))
            .into_iter()
            .chain(named)
    }

    /// The value of a model, if it was ever created.
    pub(crate) fn get(&self, model: ModelId) -> Option<&T> {
        let Some(index) = usize::from(model.0).checked_sub(1) else {
            return self.unknown.get();
        };
        let chunk = self.named.get()?.get(index / CHUNK)?.get()?;
        chunk[index % CHUNK].get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_other_and_named_models_have_fixed_or_dense_numbers() {
        let table = ModelTable::new(2);
        assert_eq!(table.id(table.resolve("")), ModelId::UNKNOWN);
        assert_eq!(table.id(table.resolve("unknown")), ModelId::UNKNOWN);
        let whisper = table.resolve("whisper-1");
        assert_eq!(table.id(whisper), ModelId(2));
        assert_eq!(table.id(table.resolve("gpt-4o-transcribe")), ModelId(3));
        // Past the bound: other, counted; `unknown` never counts toward it.
        assert_eq!(table.id(table.resolve("tts-1")), ModelId::OTHER);
        assert_eq!(table.id(table.resolve("")), ModelId::UNKNOWN);
        assert_eq!(table.folded(), 1);
        assert!(table.holds(whisper, "whisper-1"));
        assert!(!table.holds(whisper, "whisper-2"));
        let labels: Vec<_> = table.labels().into_iter().map(|(l, _)| l).collect();
        assert_eq!(
            labels,
            ["gpt-4o-transcribe", "other", "unknown", "whisper-1"]
        );
    }

    #[test]
    fn slots_are_created_per_model_and_read_back() {
        let slots = ModelSlots::<u32>::default();
        assert_eq!(slots.get(ModelId::UNKNOWN), None);
        assert_eq!(*slots.get_or_init(ModelId::UNKNOWN, || 7), 7);
        assert_eq!(*slots.get_or_init(ModelId(40), || 40), 40);
        assert_eq!(*slots.get_or_init(ModelId(40), || 0), 40);
        assert_eq!(slots.get(ModelId(40)), Some(&40));
        assert_eq!(slots.get(ModelId(41)), None);
        assert_eq!(slots.get(ModelId::OTHER), None);
        let last = ModelId::of_ordinal(MAX_MODELS_LIMIT - 1);
        assert_eq!(*slots.get_or_init(last, || 9), 9);
        let all: Vec<_> = slots.iter().map(|(id, value)| (id, *value)).collect();
        assert_eq!(all, [(ModelId::UNKNOWN, 7), (ModelId(40), 40), (last, 9)]);
    }
}
