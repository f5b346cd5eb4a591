//! Exposition: the audio families in the Prometheus text format (`text`), and the
//! facade's metrics appended after them without a name the audio families or another
//! facade metric already use (`facade`).

#[cfg(feature = "recorder")]
mod facade;
mod text;

#[cfg(feature = "recorder")]
pub(crate) use facade::FacadeFilter;
