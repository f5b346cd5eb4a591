//! What a group of families is written to: [`FamilyWriter`], one implementation per wire
//! format. `audio` and `facade` say what is written (families, samples, histograms);
//! a writer says how it looks on the wire, so adding a family touches neither, and
//! adding a format touches only its writer.

use super::format::ExpositionFormat;
use super::formatting::{self, Value};
use crate::catalogue::Family;
use crate::store::{ExemplarSlot, HistogramSnapshot, NativeSnapshot};

/// One histogram series as read for a scrape.
pub(super) struct HistogramSeries<'a> {
    /// The classic buckets, sum and count.
    pub(super) snapshot: &'a HistogramSnapshot,
    /// The classic buckets' exemplar slots, if any traced observation came.
    pub(super) exemplars: Option<&'a [ExemplarSlot]>,
    /// The native buckets, for a writer that serves them and a series that has them.
    #[cfg_attr(not(feature = "protobuf"), allow(dead_code))]
    pub(super) native: Option<NativeSnapshot>,
}

/// Receives the families of a scrape in order: a family's header, then its series.
pub(super) trait FamilyWriter {
    /// Starts `family`: its metadata, before any of its series.
    fn header(&mut self, family: &Family);

    /// One counter or gauge series of the family last started.
    fn sample(&mut self, family: &Family, labels: &[(&str, &str)], value: Value);

    /// One histogram series of the family last started.
    fn histogram(&mut self, family: &Family, labels: &[(&str, &str)], series: HistogramSeries<'_>);

    /// Whether the format carries native buckets (so whether they are worth reading).
    fn serves_native(&self) -> bool {
        false
    }

    /// One family of the facade, as metrics-exporter-prometheus rendered it (text format
    /// 0.0.4 lines from `# HELP` to the last sample).
    #[cfg(feature = "recorder")]
    fn facade_family(&mut self, family: &super::facade_text::FacadeFamily<'_>);
}

/// The text formats: Prometheus 0.0.4 and OpenMetrics 1.0.
pub(super) struct TextWriter {
    out: String,
    format: ExpositionFormat,
}

impl TextWriter {
    pub(super) fn new(format: ExpositionFormat) -> Self {
        TextWriter {
            out: String::with_capacity(16 * 1024),
            format,
        }
    }

    /// The text written so far.
    pub(super) fn into_string(self) -> String {
        self.out
    }

    /// Appends raw text (OpenMetrics' `# EOF`).
    pub(super) fn push_str(&mut self, text: &str) {
        self.out.push_str(text);
    }
}

impl FamilyWriter for TextWriter {
    fn header(&mut self, family: &Family) {
        formatting::header(&mut self.out, self.format, family);
    }

    fn sample(&mut self, family: &Family, labels: &[(&str, &str)], value: Value) {
        formatting::sample(&mut self.out, family.name, "", labels, value);
    }

    fn histogram(&mut self, family: &Family, labels: &[(&str, &str)], series: HistogramSeries<'_>) {
        formatting::histogram(
            &mut self.out,
            self.format,
            family,
            labels,
            series.snapshot,
            series.exemplars,
        );
    }

    #[cfg(feature = "recorder")]
    fn facade_family(&mut self, family: &super::facade_text::FacadeFamily<'_>) {
        family.write_text(&mut self.out, self.format);
    }
}
