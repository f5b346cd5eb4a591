//! Exposition: the whole body of a scrape (`scrape`), made of the audio families
//! (`audio`) and the facade's metrics appended after them without a name the audio
//! families or another facade metric already use (`facade`, on the families that
//! `facade_text` splits the facade's text into), in the Prometheus text format 0.0.4,
//! OpenMetrics 1.0 or the Prometheus protobuf format (`format`), through a writer per
//! wire format (`writer`): the text formats line by line (`formatting`), the protobuf
//! format as `MetricFamily` messages (`protobuf`, encoded by `protobuf_encoder` on the
//! primitives of `wire`; the facade's text read back by `facade_samples` and written by
//! `facade_protobuf`).

mod audio;
#[cfg(feature = "recorder")]
mod facade;
#[cfg(all(feature = "recorder", feature = "protobuf"))]
mod facade_protobuf;
#[cfg(all(feature = "recorder", any(feature = "protobuf", feature = "otlp")))]
mod facade_samples;
#[cfg(feature = "recorder")]
mod facade_text;
mod format;
mod formatting;
#[cfg(feature = "otlp")]
mod otlp;
#[cfg(feature = "otlp")]
mod otlp_encoder;
#[cfg(all(feature = "recorder", feature = "otlp"))]
mod otlp_facade;
#[cfg(feature = "protobuf")]
mod protobuf;
#[cfg(feature = "protobuf")]
mod protobuf_encoder;
mod scrape;
mod series;
#[cfg(any(feature = "protobuf", feature = "otlp"))]
mod wire;
mod writer;

pub use format::{ExpositionFormat, PROTOBUF_CONTENT_TYPE};
#[cfg(feature = "otlp")]
pub(crate) use otlp_encoder::OtlpSource;
#[cfg(feature = "otlp")]
pub(crate) use scrape::unix_nanos_now;
pub(crate) use scrape::{FacadeSource, ScrapeSource};
