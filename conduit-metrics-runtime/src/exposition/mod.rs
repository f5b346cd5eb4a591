//! Exposition: the audio families in the Prometheus text format 0.0.4 or OpenMetrics
//! 1.0 (`text`, `format`), and the facade's metrics appended after them without a name
//! the audio families or another facade metric already use (`facade`).

#[cfg(feature = "recorder")]
mod facade;
mod format;
mod text;

#[cfg(feature = "recorder")]
pub(crate) use facade::FacadeFilter;
pub use format::ExpositionFormat;
pub(crate) use text::OPENMETRICS_EOF;
