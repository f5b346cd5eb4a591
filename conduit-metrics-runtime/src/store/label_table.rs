//! A bounded label: a table from label value to its entry that readers search without
//! locks, with values past the bound folded into `other` and counted. The `provider`
//! label's table holds each provider's series; the `model` label's holds model names.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Mutex, OnceLock};

use crate::labels::{OVERFLOW_PROVIDER_LABEL, provider_label};
use crate::limits::MAX_PROVIDER_LABEL_BYTES;

/// What a table holds for each label value.
pub(crate) trait LabelEntry {
    /// The entry of a new value, the `ordinal`-th added (0 for the first); `None` for
    /// the `other` entry.
    fn new(label: Box<str>, ordinal: Option<usize>) -> Self;

    /// The label value.
    fn label(&self) -> &str;
}

/// Which label a table bounds: its hard limit and its one warning.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LabelKind {
    /// The largest bound the option accepts.
    pub(crate) hard_limit: usize,
    /// Logs the first folded value (the value, the bound).
    pub(crate) warn_folding: fn(&str, usize),
}

/// Where a label value resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    /// A slot of the index.
    Index(usize),
    /// The `other` entry that values beyond the bound fold into.
    Overflow,
}

/// The table. Entries are only ever added, so a reader that finds a filled slot can use
/// it without a lock; only adding a new value takes the mutex.
#[derive(Debug)]
pub(crate) struct LabelTable<E> {
    kind: LabelKind,
    /// Twice the hard limit rounded up to a power of two, so probes stay short.
    slots: Box<[OnceLock<E>]>,
    /// Slot numbers in insertion order (for rendering and window snapshots).
    order: Mutex<Vec<usize>>,
    len: AtomicUsize,
    max: AtomicUsize,
    overflow: E,
    folded: AtomicU64,
    fold_warned: AtomicBool,
}

impl<E: LabelEntry> LabelTable<E> {
    pub(crate) fn new(kind: LabelKind, max: usize) -> Self {
        let slots = (2 * kind.hard_limit).next_power_of_two();
        LabelTable {
            kind,
            slots: (0..slots).map(|_| OnceLock::new()).collect(),
            order: Mutex::new(Vec::new()),
            len: AtomicUsize::new(0),
            max: AtomicUsize::new(max.clamp(1, kind.hard_limit)),
            overflow: E::new(OVERFLOW_PROVIDER_LABEL.into(), None),
            folded: AtomicU64::new(0),
            fold_warned: AtomicBool::new(false),
        }
    }

    pub(crate) fn set_max(&self, max: usize) {
        self.max.store(max.clamp(1, self.kind.hard_limit), Relaxed);
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// The entry at a slot returned by [`resolve`](Self::resolve) (`other` for a slot
    /// that is empty, which `resolve` never returns).
    #[inline]
    pub(crate) fn entry(&self, slot: Slot) -> &E {
        match slot {
            Slot::Index(index) => self
                .slots
                .get(index)
                .and_then(OnceLock::get)
                .unwrap_or(&self.overflow),
            Slot::Overflow => &self.overflow,
        }
    }

    /// Whether `slot` currently holds the entry for `name` (call-site cache check).
    #[inline]
    pub(crate) fn holds(&self, slot: Slot, name: &str) -> bool {
        match slot {
            Slot::Index(index) => self
                .slots
                .get(index)
                .and_then(OnceLock::get)
                .is_some_and(|entry| entry.label() == name),
            // Folded values must go through resolve() so every folded call is counted.
            Slot::Overflow => name == OVERFLOW_PROVIDER_LABEL,
        }
    }

    /// Finds or adds the entry of a value. Values are cleaned as [`provider_label`]
    /// documents; past the bound new values resolve to `other` and are counted as
    /// folded.
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
        let start = hash(label) as usize & self.mask();
        if let Some(index) = self.find(label, start) {
            return Slot::Index(index);
        }
        // Checked before taking the lock, so a flood of new values never contends on it.
        if self.len.load(Relaxed) >= self.max.load(Relaxed) {
            return self.fold(label);
        }
        let Ok(mut order) = self.order.lock() else {
            return self.fold(label);
        };
        if let Some(index) = self.find(label, start) {
            return Slot::Index(index);
        }
        let len = self.len.load(Relaxed);
        if len >= self.max.load(Relaxed) {
            drop(order);
            return self.fold(label);
        }
        for probe in 0..self.slots.len() {
            let index = (start + probe) & self.mask();
            if self.slots[index].get().is_none() {
                let _ = self.slots[index].set(E::new(label.into(), Some(len)));
                order.push(index);
                self.len.store(len + 1, Relaxed);
                return Slot::Index(index);
            }
        }
        drop(order);
        self.fold(label)
    }

    fn find(&self, label: &str, start: usize) -> Option<usize> {
        for probe in 0..self.slots.len() {
            let index = (start + probe) & self.mask();
            match self.slots[index].get() {
                None => return None,
                Some(entry) if entry.label() == label => return Some(index),
                Some(_) => {}
            }
        }
        None
    }

    fn fold(&self, label: &str) -> Slot {
        self.folded.fetch_add(1, Relaxed);
        if !self.fold_warned.swap(true, Relaxed) {
            (self.kind.warn_folding)(label, self.max.load(Relaxed));
        }
        Slot::Overflow
    }

    /// Calls folded into `other` so far.
    pub(crate) fn folded(&self) -> u64 {
        self.folded.load(Relaxed)
    }

    /// Every entry, `other` first, then in insertion order. The position in this list
    /// is stable, which the window snapshots rely on.
    pub(crate) fn all(&self) -> Vec<&E> {
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

    struct Name(Box<str>);

    impl LabelEntry for Name {
        fn new(label: Box<str>, _: Option<usize>) -> Self {
            Name(label)
        }
        fn label(&self) -> &str {
            &self.0
        }
    }

    const KIND: LabelKind = LabelKind {
        hard_limit: 1024,
        warn_folding: |_, _| {},
    };

    #[test]
    fn same_name_same_slot_and_folding_past_the_bound() {
        let table = LabelTable::<Name>::new(KIND, 2);
        let a = table.resolve("openai");
        assert_eq!(table.resolve("openai"), a);
        let b = table.resolve("deepgram");
        assert_ne!(a, b);
        assert_eq!(table.resolve("elevenlabs"), Slot::Overflow);
        assert_eq!(table.resolve("azure"), Slot::Overflow);
        assert_eq!(table.folded(), 2);
        // Known names still resolve after the bound is reached.
        assert_eq!(table.resolve("deepgram"), b);
        // A value literally named "other" shares the overflow entry but is not folded.
        assert_eq!(table.resolve("other"), Slot::Overflow);
        assert_eq!(table.folded(), 2);
        let labels: Vec<_> = table.all().iter().map(|s| s.label().to_string()).collect();
        assert_eq!(labels, ["other", "openai", "deepgram"]);
    }

    #[test]
    fn dirty_names_resolve_to_their_clean_label() {
        let table = LabelTable::<Name>::new(KIND, 8);
        let slot = table.resolve("a\tb");
        assert_eq!(table.resolve("a\u{FFFD}b"), slot);
        assert_eq!(table.resolve(""), table.resolve("unknown"));
        let long = "p".repeat(200);
        assert_eq!(table.resolve(&long), table.resolve(&"p".repeat(64)));
    }

    #[test]
    fn the_hard_limit_fills_without_probing_forever() {
        let table = LabelTable::<Name>::new(KIND, KIND.hard_limit);
        for i in 0..KIND.hard_limit + 10 {
            table.resolve(&format!("provider-{i}"));
        }
        assert_eq!(table.all().len(), KIND.hard_limit + 1);
        assert_eq!(table.folded(), 10);
        assert!(table.holds(table.resolve("provider-7"), "provider-7"));
    }
}
