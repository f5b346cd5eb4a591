//! The facade's families in the protobuf format. metrics-exporter-prometheus renders text
//! (its protobuf needs `protoc` at build time), so its text format 0.0.4 lines are read
//! back here: counters, gauges and untyped samples one `Metric` each; histograms and
//! summaries grouped by label set (less `le` or `quantile`) into one `Metric` each, in
//! the order their series first appear. A line that does not parse is left out, as a
//! text parser would reject it.

use super::facade_text::{FacadeFamily, unescape_text_help};
use super::protobuf_encoder::{MetricType, ProtobufWriter};
use super::wire;

/// Writes `family` as one `MetricFamily`.
pub(super) fn write_family(out: &mut ProtobufWriter, family: &FacadeFamily<'_>) {
    let kind = MetricType::from_text(family.kind);
    let help = family
        .lines
        .iter()
        .find_map(|line| line.strip_prefix("# HELP "))
        .and_then(|rest| rest.split_once(' '))
        .map(|(_, help)| unescape_text_help(help))
        .unwrap_or_default();
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

/// One sample line, read back.
struct Sample<'a> {
    name: &'a str,
    labels: Vec<(String, String)>,
    value: f64,
}

/// A histogram's or summary's series of one label set.
#[derive(Default)]
struct Grouped {
    labels: Vec<(String, String)>,
    /// (`le` or `quantile`, value).
    points: Vec<(f64, f64)>,
    sum: f64,
    count: f64,
}

fn group_series<'a>(name: &str, samples: impl Iterator<Item = Sample<'a>>) -> Vec<Grouped> {
    let mut groups: Vec<Grouped> = Vec::new();
    for mut sample in samples {
        let point = sample
            .labels
            .iter()
            .position(|(label, _)| label == "le" || label == "quantile")
            .map(|at| sample.labels.remove(at).1);
        let index = match groups.iter().position(|g| g.labels == sample.labels) {
            Some(index) => index,
            None => {
                groups.push(Grouped {
                    labels: sample.labels,
                    ..Grouped::default()
                });
                groups.len() - 1
            }
        };
        let group = &mut groups[index];
        match sample.name.strip_prefix(name) {
            Some("_sum") => group.sum = sample.value,
            Some("_count") => group.count = sample.value,
            _ => {
                if let Some(bound) = point.as_deref().and_then(parse_float) {
                    group.points.push((bound, sample.value));
                }
            }
        }
    }
    groups
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

/// Reads `name{label="value",...} value` (a timestamp after it is ignored).
fn parse_sample(line: &str) -> Option<Sample<'_>> {
    let name_end = line.find(['{', ' '])?;
    let name = &line[..name_end];
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(inner) = rest.strip_prefix('{') {
        let mut chars = inner.char_indices();
        let mut label = String::new();
        loop {
            let (at, ch) = chars.next()?;
            match ch {
                '}' => {
                    rest = &inner[at + 1..];
                    break;
                }
                ',' | ' ' => {}
                '=' => {
                    if chars.next()?.1 != '"' {
                        return None;
                    }
                    let mut value = String::new();
                    loop {
                        match chars.next()?.1 {
                            '"' => break,
                            '\\' => match chars.next()?.1 {
                                'n' => value.push('\n'),
                                other => value.push(other),
                            },
                            other => value.push(other),
                        }
                    }
                    labels.push((std::mem::take(&mut label), value));
                }
                other => label.push(other),
            }
        }
    }
    let value = parse_float(rest.split_whitespace().next()?)?;
    Some(Sample {
        name,
        labels,
        value,
    })
}

fn parse_float(text: &str) -> Option<f64> {
    match text {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        text => text.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_read_back_with_escaped_labels() {
        let sample = parse_sample(r#"a_total{x="1",y="q\"uo\\te\n"} 2.5"#).unwrap();
        assert_eq!(sample.name, "a_total");
        assert_eq!(
            sample.labels,
            [
                ("x".to_owned(), "1".to_owned()),
                ("y".to_owned(), "q\"uo\\te\n".to_owned())
            ]
        );
        assert_eq!(sample.value, 2.5);
        assert_eq!(parse_sample("up 1 1700000000").unwrap().value, 1.0);
        assert!(parse_sample(r#"bad{x="1} 2"#).is_none());
        assert!(parse_sample("novalue").is_none());
    }

    #[test]
    fn histogram_lines_group_by_label_set() {
        let lines = [
            r#"h_bucket{k="a",le="0.5"} 1"#,
            r#"h_bucket{k="a",le="+Inf"} 2"#,
            r#"h_sum{k="a"} 1.5"#,
            r#"h_count{k="a"} 2"#,
            r#"h_bucket{k="b",le="0.5"} 0"#,
            r#"h_count{k="b"} 0"#,
        ];
        let groups = group_series("h", lines.iter().filter_map(|l| parse_sample(l)));
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].points, [(0.5, 1.0), (f64::INFINITY, 2.0)]);
        assert_eq!((groups[0].sum, groups[0].count), (1.5, 2.0));
        assert_eq!(groups[1].labels, [("k".to_owned(), "b".to_owned())]);
    }
}
