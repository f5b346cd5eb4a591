//! The `provider` label: a table from provider name to its series that readers search
//! without locks, bounded by `MaxProviders` with later names folded into `other`.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Mutex, OnceLock};

use super::cells::{CallCells, RealtimeCells};
use super::stripes::Striped;
use crate::labels::{OVERFLOW_PROVIDER_LABEL, Operation, provider_label};
use crate::limits::{MAX_PROVIDER_LABEL_BYTES, MAX_PROVIDERS_LIMIT};

/// Everything recorded for one provider label value. Per-operation cells are allocated
/// on first use, since most providers serve one or two operations.
#[derive(Debug)]
pub(crate) struct ProviderSeries {
    label: Box<str>,
    calls: [OnceLock<Striped<CallCells>>; Operation::COUNT],
    realtime: OnceLock<Striped<RealtimeCells>>,
    health_passed: AtomicU64,
    health_failed: AtomicU64,
}

impl ProviderSeries {
    fn new(label: Box<str>) -> Self {
        ProviderSeries {
            label,
            calls: std::array::from_fn(|_| OnceLock::new()),
            realtime: OnceLock::new(),
            health_passed: AtomicU64::new(0),
            health_failed: AtomicU64::new(0),
        }
    }

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

    /// The cells of one operation, created on first use.
    #[inline]
    pub(crate) fn calls(&self, operation: Operation) -> &Striped<CallCells> {
        self.calls[operation.index()].get_or_init(Striped::new)
    }

    /// The cells of one operation if it was ever used.
    pub(crate) fn calls_if_used(&self, operation: Operation) -> Option<&Striped<CallCells>> {
        self.calls[operation.index()].get()
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
}

/// Slots of the open-addressing index: twice the largest bound, so probes stay short.
const SLOTS: usize = (2 * MAX_PROVIDERS_LIMIT).next_power_of_two();

/// Where a provider name resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    /// A slot of the index.
    Index(usize),
    /// The `other` series that names beyond the bound fold into.
    Overflow,
}

/// The provider table. Entries are only ever added, so a reader that finds a filled slot
/// can use it without a lock; only adding a new name takes the mutex.
#[derive(Debug)]
pub(crate) struct ProviderTable {
    slots: Box<[OnceLock<ProviderSeries>]>,
    /// Slot numbers in insertion order (for rendering and window snapshots).
    order: Mutex<Vec<usize>>,
    len: AtomicUsize,
    max_providers: AtomicUsize,
    overflow: ProviderSeries,
    folded_calls: AtomicU64,
    fold_warned: AtomicBool,
}

impl ProviderTable {
    pub(crate) fn new(max_providers: usize) -> Self {
        ProviderTable {
            slots: (0..SLOTS).map(|_| OnceLock::new()).collect(),
            order: Mutex::new(Vec::new()),
            len: AtomicUsize::new(0),
            max_providers: AtomicUsize::new(max_providers.clamp(1, MAX_PROVIDERS_LIMIT)),
            overflow: ProviderSeries::new(OVERFLOW_PROVIDER_LABEL.into()),
            folded_calls: AtomicU64::new(0),
            fold_warned: AtomicBool::new(false),
        }
    }

    pub(crate) fn set_max_providers(&self, max: usize) {
        self.max_providers
            .store(max.clamp(1, MAX_PROVIDERS_LIMIT), Relaxed);
    }

    /// The series at a slot returned by [`resolve`](Self::resolve) (`other` for a slot
    /// that is empty, which `resolve` never returns).
    #[inline]
    pub(crate) fn series(&self, slot: Slot) -> &ProviderSeries {
        match slot {
            Slot::Index(index) => self
                .slots
                .get(index)
                .and_then(OnceLock::get)
                .unwrap_or(&self.overflow),
            Slot::Overflow => &self.overflow,
        }
    }

    /// Whether `slot` currently holds the series for `name` (call-site cache check).
    #[inline]
    pub(crate) fn holds(&self, slot: Slot, name: &str) -> bool {
        match slot {
            Slot::Index(index) => self
                .slots
                .get(index)
                .and_then(OnceLock::get)
                .is_some_and(|series| &*series.label == name),
            // Folded names must go through resolve() so every folded call is counted.
            Slot::Overflow => name == OVERFLOW_PROVIDER_LABEL,
        }
    }

    /// Finds or adds the series of a provider name. Names are cleaned as
    /// [`provider_label`] documents; past `MaxProviders` new names resolve to `other`
    /// and are counted as folded.
    pub(crate) fn resolve(&self, name: &str) -> Slot {
        if is_clean_label(name) {
            self.resolve_label(name)
        } else {
            self.resolve_label(&provider_label(name))
        }
    }

    fn resolve_label(&self, label: &str) -> Slot {
        if label == OVERFLOW_PROVIDER_LABEL {
            return Slot::Overflow;
        }
        let start = hash(label) as usize & (SLOTS - 1);
        if let Some(index) = self.find(label, start) {
            return Slot::Index(index);
        }
        // Checked before taking the lock, so a flood of new names never contends on it.
        if self.len.load(Relaxed) >= self.max_providers.load(Relaxed) {
            return self.fold(label);
        }
        let Ok(mut order) = self.order.lock() else {
            return self.fold(label);
        };
        if let Some(index) = self.find(label, start) {
            return Slot::Index(index);
        }
        if self.len.load(Relaxed) >= self.max_providers.load(Relaxed) {
            drop(order);
            return self.fold(label);
        }
        for probe in 0..SLOTS {
            let index = (start + probe) & (SLOTS - 1);
            if self.slots[index].get().is_none() {
                let _ = self.slots[index].set(ProviderSeries::new(label.into()));
                order.push(index);
                self.len.fetch_add(1, Relaxed);
                return Slot::Index(index);
            }
        }
        drop(order);
        self.fold(label)
    }

    fn find(&self, label: &str, start: usize) -> Option<usize> {
        for probe in 0..SLOTS {
            let index = (start + probe) & (SLOTS - 1);
            match self.slots[index].get() {
                None => return None,
                Some(series) if &*series.label == label => return Some(index),
                Some(_) => {}
            }
        }
        None
    }

    fn fold(&self, label: &str) -> Slot {
        self.folded_calls.fetch_add(1, Relaxed);
        if !self.fold_warned.swap(true, Relaxed) {
            tracing::warn!(
                provider = label,
                max_providers = self.max_providers.load(Relaxed),
                "conduit-metrics: more distinct providers than MaxProviders; further new providers are recorded as provider=\"other\" (see conduit_audio_provider_labels_folded_total)"
            );
        }
        Slot::Overflow
    }

    /// Calls folded into `other` so far.
    pub(crate) fn folded_calls(&self) -> u64 {
        self.folded_calls.load(Relaxed)
    }

    /// Every series, `other` first, then in insertion order. The position in this list
    /// is stable, which the window snapshots rely on.
    pub(crate) fn all(&self) -> Vec<&ProviderSeries> {
        let order = match self.order.lock() {
            Ok(order) => order.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        std::iter::once(&self.overflow)
            .chain(
                order
                    .into_iter()
                    .filter_map(|index| self.slots[index].get()),
            )
            .collect()
    }
}

/// Whether a name can be used as its label as it is (the common case: no allocation).
fn is_clean_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_PROVIDER_LABEL_BYTES
        && !name.chars().any(|c| c.is_control() && c != '\n')
}

/// A fast non-cryptographic hash of short names (a multiply-rotate over 8-byte words).
/// Collisions only lengthen a probe; the bound on entries bounds the damage.
fn hash(text: &str) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut state = text.len() as u64;
    let mut chunks = text.as_bytes().chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        state = (state.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
    }
    let mut tail = [0u8; 8];
    tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    state = (state.rotate_left(5) ^ u64::from_le_bytes(tail)).wrapping_mul(K);
    state ^ (state >> 29)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_name_same_slot_and_folding_past_the_bound() {
        let table = ProviderTable::new(2);
        let a = table.resolve("openai");
        assert_eq!(table.resolve("openai"), a);
        let b = table.resolve("deepgram");
        assert_ne!(a, b);
        assert_eq!(table.resolve("elevenlabs"), Slot::Overflow);
        assert_eq!(table.resolve("azure"), Slot::Overflow);
        assert_eq!(table.folded_calls(), 2);
        // Known names still resolve after the bound is reached.
        assert_eq!(table.resolve("deepgram"), b);
        // A provider literally named "other" shares the overflow series but is not folded.
        assert_eq!(table.resolve("other"), Slot::Overflow);
        assert_eq!(table.folded_calls(), 2);
        let labels: Vec<_> = table.all().iter().map(|s| s.label.to_string()).collect();
        assert_eq!(labels, ["other", "openai", "deepgram"]);
    }

    #[test]
    fn dirty_names_resolve_to_their_clean_label() {
        let table = ProviderTable::new(8);
        let slot = table.resolve("a\tb");
        assert_eq!(table.resolve("a\u{FFFD}b"), slot);
        assert_eq!(table.resolve(""), table.resolve("unknown"));
        let long = "p".repeat(200);
        assert_eq!(table.resolve(&long), table.resolve(&"p".repeat(64)));
    }

    #[test]
    fn the_hard_limit_fills_without_probing_forever() {
        let table = ProviderTable::new(MAX_PROVIDERS_LIMIT);
        for i in 0..MAX_PROVIDERS_LIMIT + 10 {
            table.resolve(&format!("provider-{i}"));
        }
        assert_eq!(table.all().len(), MAX_PROVIDERS_LIMIT + 1);
        assert_eq!(table.folded_calls(), 10);
        assert!(table.holds(table.resolve("provider-7"), "provider-7"));
    }
}
