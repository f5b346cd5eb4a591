//! The store: where recorded values live. Atomic cells striped per CPU (`cells`, their
//! histograms in `histogram`, `stripes`), the exemplar of each histogram bucket (`exemplars`), the native buckets of
//! the latency histograms (`native`, indexed by `native_index`, read by
//! `native_snapshot`), the lock-free provider
//! table that bounds the `provider` label (`providers`), the time-stamped window of the ratio gauges (`window`), and the
//! [`Registry`] that holds them all (`registry`). Nothing here knows how values are
//! recorded or written out.

mod cells;
mod exemplars;
mod histogram;
mod label_table;
mod models;
mod native;
mod native_index;
mod native_snapshot;
mod providers;
mod registry;
mod stripes;
mod window;

pub(crate) use cells::{CallCells, OperationCells, RealtimeCells, TurnCells};
pub(crate) use exemplars::{Exemplar, ExemplarSlot};
pub(crate) use histogram::HistogramSnapshot;
pub(crate) use label_table::Slot;
pub(crate) use models::{ModelId, ModelSlot};
#[cfg(any(feature = "protobuf", feature = "otlp"))]
pub(crate) use native::ZERO_THRESHOLD;
pub(crate) use native_snapshot::NativeSnapshot;
pub(crate) use providers::ProviderSeries;
pub(crate) use registry::StoreBounds;
pub use registry::{Registry, global};
pub(crate) use stripes::{Striped, current_stripe};
pub(crate) use window::Ratios;
