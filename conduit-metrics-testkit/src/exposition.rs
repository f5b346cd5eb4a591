//! A strict parser of the Prometheus text exposition format 0.0.4, independent of the
//! runtime's writer: it rejects anything the format does not allow (bad names, unknown
//! escapes, duplicate series, broken histograms) and returns label values unescaped.

use std::collections::{BTreeMap, HashSet};

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl Sample {
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn valid_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn parse_value(text: &str) -> Result<f64, String> {
    match text {
        "+Inf" | "Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ => text
            .parse::<f64>()
            .map_err(|_| format!("bad value `{text}`")),
    }
}

/// Parses a whole exposition; `Err` names the first problem and its line.
pub fn parse(text: &str) -> Result<Vec<Sample>, String> {
    let mut samples = Vec::new();
    let mut typed: BTreeMap<String, String> = BTreeMap::new();
    let mut seen_series = HashSet::new();
    for (number, line) in text.lines().enumerate() {
        let at = |problem: String| format!("line {}: {problem}: {line:?}", number + 1);
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, doc) = rest.split_once(' ').unwrap_or((rest, ""));
            if !valid_metric_name(name) {
                return Err(at("bad metric name in HELP".into()));
            }
            let mut chars = doc.chars();
            while let Some(c) = chars.next() {
                if c == '\\' && !matches!(chars.next(), Some('\\' | 'n')) {
                    return Err(at("bad escape in HELP".into()));
                }
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest
                .split_once(' ')
                .ok_or_else(|| at("TYPE without type".into()))?;
            if !valid_metric_name(name) {
                return Err(at("bad metric name in TYPE".into()));
            }
            if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                return Err(at(format!("unknown type {kind}")));
            }
            if typed.insert(name.to_owned(), kind.to_owned()).is_some() {
                return Err(at("second TYPE for one family".into()));
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let sample = parse_sample(line).map_err(at)?;
        let key = format!("{}{:?}", sample.name, sample.labels);
        if !seen_series.insert(key) {
            return Err(at("duplicate series".into()));
        }
        samples.push(sample);
    }
    check_histograms(&samples, &typed)?;
    Ok(samples)
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line.find(['{', ' ']).ok_or("no value")?;
    let name = &line[..name_end];
    if !valid_metric_name(name) {
        return Err(format!("bad metric name `{name}`"));
    }
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(after_brace) = rest.strip_prefix('{') {
        rest = after_brace;
        loop {
            if let Some(after) = rest.strip_prefix('}') {
                rest = after;
                break;
            }
            let eq = rest.find('=').ok_or("label without =")?;
            let label = &rest[..eq];
            if !valid_label_name(label) {
                return Err(format!("bad label name `{label}`"));
            }
            let mut chars = rest[eq + 1..]
                .strip_prefix('"')
                .ok_or("label value without quote")?
                .char_indices();
            let mut value = String::new();
            let consumed = loop {
                match chars.next() {
                    None => return Err("unterminated label value".into()),
                    Some((i, '"')) => break i + 1,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, '\\')) => value.push('\\'),
                        Some((_, '"')) => value.push('"'),
                        Some((_, 'n')) => value.push('\n'),
                        other => return Err(format!("bad escape {other:?} in label value")),
                    },
                    Some((_, c)) => value.push(c),
                }
            };
            if labels.iter().any(|(l, _)| l == label) {
                return Err(format!("label `{label}` twice"));
            }
            labels.push((label.to_owned(), value));
            rest = &rest[eq + 2 + consumed..];
            if let Some(after) = rest.strip_prefix(',') {
                rest = after;
            } else if !rest.starts_with('}') {
                return Err("expected , or } after a label".into());
            }
        }
    }
    let rest = rest.strip_prefix(' ').ok_or("no space before the value")?;
    let mut parts = rest.split(' ');
    let value = parse_value(parts.next().ok_or("no value")?)?;
    if let Some(timestamp) = parts.next() {
        timestamp.parse::<i64>().map_err(|_| "bad timestamp")?;
    }
    if parts.next().is_some() {
        return Err("trailing text".into());
    }
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// Histogram buckets are cumulative, end with `+Inf`, and `+Inf` equals `_count`.
fn check_histograms(samples: &[Sample], typed: &BTreeMap<String, String>) -> Result<(), String> {
    for (family, _) in typed
        .iter()
        .filter(|(_, kind)| kind.as_str() == "histogram")
    {
        let bucket_name = format!("{family}_bucket");
        let mut series: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
        for sample in samples.iter().filter(|s| s.name == bucket_name) {
            let le = sample.label("le").ok_or("bucket without le")?;
            let others: Vec<_> = sample.labels.iter().filter(|(n, _)| n != "le").collect();
            series
                .entry(format!("{others:?}"))
                .or_default()
                .push((parse_value(le)?, sample.value));
        }
        for (labels, buckets) in series {
            if !buckets
                .windows(2)
                .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1)
            {
                return Err(format!("{family}{labels}: buckets not cumulative"));
            }
            let (last_le, last_count) = *buckets.last().ok_or("no buckets")?;
            if last_le != f64::INFINITY {
                return Err(format!("{family}{labels}: no +Inf bucket"));
            }
            let count = samples
                .iter()
                .find(|s| {
                    s.name == format!("{family}_count")
                        && format!("{:?}", s.labels.iter().collect::<Vec<_>>()) == labels
                })
                .ok_or(format!("{family}{labels}: no _count"))?;
            if count.value != last_count {
                return Err(format!(
                    "{family}{labels}: +Inf bucket {last_count} != _count {}",
                    count.value
                ));
            }
        }
    }
    Ok(())
}
