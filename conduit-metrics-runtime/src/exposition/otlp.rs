//! The audio families in an OTLP export: the `FamilyWriter` of [`OtlpWriter`], whose
//! encoding (`otlp_encoder`) says how families, sums, gauges and histograms look in OTLP.

use super::formatting::Value;
use super::otlp_encoder::OtlpWriter;
use super::writer::{FamilyWriter, HistogramSeries};
use crate::catalogue::Family;

impl FamilyWriter for OtlpWriter {
    fn header(&mut self, family: &Family) {
        self.family(family);
    }

    fn sample(&mut self, family: &Family, labels: &[(&str, &str)], value: Value) {
        self.sample_point(family, labels, value);
    }

    fn histogram(&mut self, family: &Family, labels: &[(&str, &str)], series: HistogramSeries<'_>) {
        self.histogram_point(family, labels, series);
    }

    fn serves_native(&self) -> bool {
        true
    }

    #[cfg(feature = "recorder")]
    fn facade_family(&mut self, family: &super::facade_text::FacadeFamily<'_>) {
        super::otlp_facade::write_family(self, family);
    }
}
