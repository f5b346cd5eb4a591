//! The facade's families in an OTLP export, read back from metrics-exporter-prometheus'
//! text (`facade_samples`): counters as monotonic sums, gauges and untyped samples as
//! gauges, histograms with their own bounds, summaries as summaries.

use super::facade_samples::{group_series, parse_sample};
use super::facade_text::FacadeFamily;
use super::otlp_encoder::OtlpWriter;

/// Writes `family` as one `Metric`.
pub(super) fn write_family(out: &mut OtlpWriter, family: &FacadeFamily<'_>) {
    let help = family.help();
    out.start_facade_family(family.name, &help, family.kind);
    let samples = family.samples().filter_map(|line| parse_sample(line));
    match family.kind {
        "histogram" | "summary" => {
            for group in group_series(family.name, samples) {
                let labels: Vec<(&str, &str)> = group
                    .labels
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                    .collect();
                if family.kind == "histogram" {
                    out.facade_histogram(&labels, &group.points, group.sum, group.count);
                } else {
                    out.facade_summary(&labels, &group.points, group.sum, group.count);
                }
            }
        }
        kind => {
            for sample in samples {
                let labels: Vec<(&str, &str)> = sample
                    .labels
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                    .collect();
                out.facade_number(kind, &labels, sample.value);
            }
        }
    }
}
