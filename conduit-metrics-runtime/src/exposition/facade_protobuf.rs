//! The facade's families in the protobuf format. metrics-exporter-prometheus renders text
//! (its protobuf needs `protoc` at build time), so its text format 0.0.4 lines are read
//! back (`facade_samples`): counters, gauges and untyped samples one `Metric` each;
//! histograms and summaries grouped by label set (less `le` or `quantile`) into one
//! `Metric` each, in the order their series first appear.

use super::facade_samples::{Grouped, group_series, parse_sample};
use super::facade_text::FacadeFamily;
use super::protobuf_encoder::{MetricType, ProtobufWriter};
use super::wire;

/// Writes `family` as one `MetricFamily`.
pub(super) fn write_family(out: &mut ProtobufWriter, family: &FacadeFamily<'_>) {
    let kind = MetricType::from_text(family.kind);
    let help = family.help();
    out.start_family(family.name, &help, kind);
    let samples = family.samples().filter_map(|line| parse_sample(line));
    match kind {
        MetricType::Histogram | MetricType::Summary => {
            for group in group_series(family.name, samples) {
                write_grouped(out, kind, &group);
            }
        }
        _ => {
            for sample in samples {
                let labels: Vec<(&str, &str)> = sample
                    .labels
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                    .collect();
                out.value(&labels, sample.value);
            }
        }
    }
}

fn write_grouped(out: &mut ProtobufWriter, kind: MetricType, group: &Grouped) {
    let labels: Vec<(&str, &str)> = group
        .labels
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let metric = out.begin_metric(&labels);
    let body = out.body();
    wire::uint64(body, 1, group.count as u64);
    wire::double(body, 2, group.sum);
    for &(point, value) in &group.points {
        if kind == MetricType::Histogram && point.is_infinite() {
            continue; // The count is the +Inf bucket.
        }
        let entry = wire::begin(body, 3);
        if kind == MetricType::Histogram {
            wire::uint64(body, 1, value as u64);
            wire::double(body, 2, point);
        } else {
            wire::double(body, 1, point);
            wire::double(body, 2, value);
        }
        wire::end(body, entry);
    }
    out.end_metric(metric);
}
