//! The whole body of a scrape: the audio families, then the facade's families when our
//! recorder serves them, then OpenMetrics' `# EOF`, written here and nowhere else. The
//! endpoint, the router, pushes and `render()` all come through [`write_scrape`].

use super::audio::write_audio_families;
#[cfg(feature = "recorder")]
pub(crate) use super::facade::FacadeSource;
use super::format::ExpositionFormat;
#[cfg(feature = "protobuf")]
use super::protobuf_encoder::ProtobufWriter;
use super::writer::{FamilyWriter, TextWriter};
use crate::store::Registry;

/// The line that ends an OpenMetrics exposition.
const OPENMETRICS_EOF: &str = "# EOF\n";

/// Without the `recorder` feature nothing serves the facade, which the type says.
#[cfg(not(feature = "recorder"))]
pub(crate) enum FacadeSource {}

#[cfg(not(feature = "recorder"))]
impl FacadeSource {
    fn write_into<W: FamilyWriter>(&self, _: &mut W) {
        match *self {}
    }

    fn run_upkeep(&self) {
        match *self {}
    }
}

/// The body of one scrape of `registry` (and `facade`) in `format`. Without the
/// `protobuf` feature, a protobuf scrape gets the text format (`from_accept` never asks
/// for it then).
pub(crate) fn write_scrape(
    registry: &Registry,
    facade: Option<&FacadeSource>,
    format: ExpositionFormat,
) -> Vec<u8> {
    #[cfg(feature = "protobuf")]
    if format == ExpositionFormat::Protobuf {
        let mut out = ProtobufWriter::new();
        write_families(registry, facade, &mut out);
        return out.into_bytes();
    }
    write_text_scrape(registry, facade, format).into_bytes()
}

/// One OTLP export of `registry` (and `facade`), taken at `now_unix_nanos`.
#[cfg(feature = "otlp")]
pub(crate) fn write_otlp(
    registry: &Registry,
    facade: Option<&FacadeSource>,
    source: &super::otlp_encoder::OtlpSource,
    now_unix_nanos: u64,
) -> Vec<u8> {
    let mut out = super::otlp_encoder::OtlpWriter::new(source, now_unix_nanos);
    write_families(registry, facade, &mut out);
    out.into_bytes()
}

/// The body of one scrape in a text format (the text format 0.0.4 for `Protobuf`).
fn write_text_scrape(
    registry: &Registry,
    facade: Option<&FacadeSource>,
    format: ExpositionFormat,
) -> String {
    let format = match format {
        ExpositionFormat::OpenMetrics => ExpositionFormat::OpenMetrics,
        _ => ExpositionFormat::Text,
    };
    let mut out = TextWriter::new(format);
    write_families(registry, facade, &mut out);
    if format == ExpositionFormat::OpenMetrics {
        out.push_str(OPENMETRICS_EOF);
    }
    out.into_string()
}

/// The audio families, then the facade's.
fn write_families<W: FamilyWriter>(
    registry: &Registry,
    facade: Option<&FacadeSource>,
    out: &mut W,
) {
    write_audio_families(registry, out);
    if let Some(facade) = facade {
        facade.write_into(out);
    }
}

/// What a scrape reads: the registry, followed, when our recorder serves the facade, by
/// everything recorded through it: process CPU, memory, threads and file descriptors
/// (`metrics-process`), and the application's own metrics, less any family whose name
/// would collide.
pub(crate) struct ScrapeSource {
    registry: &'static Registry,
    facade: Option<FacadeSource>,
}

impl ScrapeSource {
    pub(crate) fn new(registry: &'static Registry, facade: Option<FacadeSource>) -> Self {
        ScrapeSource { registry, facade }
    }

    /// The registry the scrape reads.
    pub(crate) fn registry(&self) -> &'static Registry {
        self.registry
    }

    /// The body of a scrape now, in `format`.
    pub(crate) fn render(&self, format: ExpositionFormat) -> Vec<u8> {
        write_scrape(self.registry, self.facade.as_ref(), format)
    }

    /// The body of a scrape now, in a text format (the text format 0.0.4 for
    /// `Protobuf`, a binary format).
    pub(crate) fn render_text(&self, format: ExpositionFormat) -> String {
        write_text_scrape(self.registry, self.facade.as_ref(), format)
    }

    /// The whole registry as one OTLP `ExportMetricsServiceRequest`, now.
    #[cfg(feature = "otlp")]
    pub(crate) fn render_otlp(&self, source: &super::otlp_encoder::OtlpSource) -> Vec<u8> {
        write_otlp(
            self.registry,
            self.facade.as_ref(),
            source,
            unix_nanos_now(),
        )
    }

    /// Drains the facade's buffered histogram samples.
    pub(crate) fn run_upkeep(&self) {
        if let Some(facade) = &self.facade {
            facade.run_upkeep();
        }
    }
}

/// Now, in nanoseconds since the Unix epoch.
#[cfg(feature = "otlp")]
pub(crate) fn unix_nanos_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
        })
}

impl Registry {
    /// The exposition text of the audio families (Prometheus text format 0.0.4).
    pub fn render(&self) -> String {
        self.render_format(ExpositionFormat::Text)
    }

    /// The exposition of the audio families in a text `format`; OpenMetrics ends with
    /// `# EOF`. The protobuf format is binary: [`render_bytes`](Self::render_bytes)
    /// renders it (given `Protobuf`, this renders the text format 0.0.4).
    pub fn render_format(&self, format: ExpositionFormat) -> String {
        write_text_scrape(self, None, format)
    }

    /// The audio families as one OTLP `ExportMetricsServiceRequest` (protobuf, not
    /// compressed), with `service.name` = `service_name` and the cumulative values
    /// starting at `start_unix_nanos`: what [`install`](crate::install) sends to
    /// `OtlpEndpoint`, for an application that sends it itself.
    ///
    /// ```
    /// use conduit_metrics_runtime::{MetricsConfig, Operation, Status};
    /// use conduit_metrics_runtime::registry::Registry;
    ///
    /// let registry = Registry::new(&MetricsConfig::default());
    /// registry.start_call(Operation::Tts, "openai").finish(Status::Success);
    /// let request = registry.render_otlp("audio-gateway", 0);
    /// // Counters lose `_total`: a receiver adds it back to a monotonic sum.
    /// assert!(request.windows(22).any(|w| w == b"conduit_audio_requests"));
    /// ```
    #[cfg(feature = "otlp")]
    pub fn render_otlp(&self, service_name: &str, start_unix_nanos: u64) -> Vec<u8> {
        let source = super::otlp_encoder::OtlpSource {
            resource: vec![("service.name".to_owned(), service_name.to_owned())],
            start_unix_nanos,
        };
        write_otlp(self, None, &source, unix_nanos_now())
    }

    /// The exposition of the audio families in any `format`, as the endpoint sends it.
    ///
    /// ```
    /// use conduit_metrics_runtime::{MetricsConfig, Operation, Status};
    /// use conduit_metrics_runtime::registry::Registry;
    /// use conduit_metrics_runtime::serving::ExpositionFormat;
    ///
    /// let registry = Registry::new(&MetricsConfig::default());
    /// registry.start_call(Operation::Tts, "openai").finish(Status::Success);
    /// let body = registry.render_bytes(ExpositionFormat::Protobuf);
    /// // Length-delimited MetricFamily messages; the first is conduit_audio_requests_total.
    /// assert!(body.windows(28).any(|w| w == b"conduit_audio_requests_total"));
    /// ```
    pub fn render_bytes(&self, format: ExpositionFormat) -> Vec<u8> {
        write_scrape(self, None, format)
    }
}
