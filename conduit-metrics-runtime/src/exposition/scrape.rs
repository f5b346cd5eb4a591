//! The whole body of a scrape: the audio families, then the facade's families when our
//! recorder serves them, then OpenMetrics' `# EOF`, written here and nowhere else. The
//! endpoint, the router, pushes and `render()` all come through [`write_scrape`].

use super::audio::write_audio_families;
#[cfg(feature = "recorder")]
pub(crate) use super::facade::FacadeSource;
use super::format::ExpositionFormat;
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

/// The body of one scrape of `registry` (and `facade`) in `format`.
pub(crate) fn write_scrape(
    registry: &Registry,
    facade: Option<&FacadeSource>,
    format: ExpositionFormat,
) -> String {
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
    pub(crate) fn render(&self, format: ExpositionFormat) -> String {
        write_scrape(self.registry, self.facade.as_ref(), format)
    }

    /// Drains the facade's buffered histogram samples.
    pub(crate) fn run_upkeep(&self) {
        if let Some(facade) = &self.facade {
            facade.run_upkeep();
        }
    }
}

impl Registry {
    /// The exposition text of the audio families (Prometheus text format 0.0.4).
    pub fn render(&self) -> String {
        self.render_format(ExpositionFormat::Text)
    }

    /// The exposition of the audio families in `format`; OpenMetrics ends with `# EOF`.
    pub fn render_format(&self, format: ExpositionFormat) -> String {
        write_scrape(self, None, format)
    }
}
