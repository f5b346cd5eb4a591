//! Exposition: the audio families in the Prometheus text format (`text`), and the
//! facade's metrics appended after them without a name the audio families or another
//! facade metric already use (`facade`).

mod facade;
mod text;

pub(crate) use facade::FacadeFilter;
