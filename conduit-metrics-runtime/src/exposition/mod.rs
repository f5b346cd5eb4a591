//! Exposition: the whole body of a scrape (`scrape`), made of the audio families
//! (`audio`) and the facade's metrics appended after them without a name the audio
//! families or another facade metric already use (`facade`), in the Prometheus text
//! format 0.0.4 or OpenMetrics 1.0 (`format`), through a writer per wire format
//! (`writer`), line by line (`formatting`).

mod audio;
#[cfg(feature = "recorder")]
mod facade;
mod format;
mod formatting;
mod scrape;
mod writer;

pub use format::ExpositionFormat;
pub(crate) use scrape::{FacadeSource, ScrapeSource};
