//! The line writers of the text formats: metadata (`header`), samples, histogram series
//! with their exemplars, and the escaping of label values and help text. What is written
//! is decided elsewhere (`audio`, `facade`); how a line looks is decided here.

use std::fmt::Write as _;

use super::format::ExpositionFormat;
use crate::catalogue::Family;
use crate::store::{Exemplar, ExemplarSlot, HistogramSnapshot};

/// Writes a family's metadata lines. OpenMetrics names a counter family without its
/// `_total` (its samples keep it) and gives units; the guide's `conduit_audio_cost_dollars`,
/// a counter without `_total`, is `unknown` there, so its samples keep the name PromQL
/// knows instead of gaining a `_total`.
pub(super) fn header(out: &mut String, format: ExpositionFormat, family: &Family) {
    let (name, kind) = match format {
        ExpositionFormat::OpenMetrics => openmetrics_family(family.name, family.kind.as_str()),
        _ => (family.name, family.kind.as_str()),
    };
    out.push_str("# HELP ");
    out.push_str(name);
    out.push(' ');
    push_escaped_help(out, family.help, format);
    out.push_str("\n# TYPE ");
    out.push_str(name);
    out.push(' ');
    out.push_str(kind);
    out.push('\n');
    if format == ExpositionFormat::OpenMetrics {
        if let Some(unit) = unit_of(name) {
            out.push_str("# UNIT ");
            out.push_str(name);
            out.push(' ');
            out.push_str(unit);
            out.push('\n');
        }
    }
}

/// The name and type OpenMetrics metadata gives a family of text format 0.0.4: a counter
/// is named without `_total` (its samples keep it), or is `unknown` when its name lacks
/// `_total`, so its samples keep their name; `untyped` is `unknown`.
pub(super) fn openmetrics_family<'a>(name: &'a str, kind: &'a str) -> (&'a str, &'a str) {
    match kind {
        "counter" => match name.strip_suffix("_total") {
            Some(stem) => (stem, "counter"),
            None => (name, "unknown"),
        },
        "untyped" => (name, "unknown"),
        kind => (name, kind),
    }
}

/// The OpenMetrics unit a family name ends in, if it is one we declare.
pub(super) fn unit_of(name: &str) -> Option<&'static str> {
    ["seconds", "bytes"].into_iter().find(|unit| {
        name.strip_suffix(unit)
            .is_some_and(|stem| stem.ends_with('_'))
    })
}

/// Escapes `# HELP` text: backslash and newline in both formats, and the double quote in
/// OpenMetrics.
pub(super) fn push_escaped_help(out: &mut String, help: &str, format: ExpositionFormat) {
    for ch in help.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if format == ExpositionFormat::OpenMetrics => out.push_str("\\\""),
            ch => out.push(ch),
        }
    }
}

/// A sample's value, written without a float round trip for the integer kinds.
pub(super) enum Value {
    Int(u64),
    Signed(i64),
    Float(f64),
}

/// Writes `name{suffix}{labels} value`.
pub(super) fn sample(
    out: &mut String,
    name: &str,
    suffix: &str,
    labels: &[(&str, &str)],
    value: Value,
) {
    out.push_str(name);
    out.push_str(suffix);
    if !labels.is_empty() {
        out.push('{');
        push_labels(out, labels);
        out.push('}');
    }
    out.push(' ');
    push_value(out, value);
    out.push('\n');
}

fn push_labels(out: &mut String, labels: &[(&str, &str)]) {
    for (i, (label, label_value)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(label);
        out.push_str("=\"");
        push_escaped_label_value(out, label_value);
        out.push('"');
    }
}

fn push_value(out: &mut String, value: Value) {
    match value {
        Value::Int(v) => {
            let _ = write!(out, "{v}");
        }
        Value::Signed(v) => {
            let _ = write!(out, "{v}");
        }
        Value::Float(v) => push_float(out, v),
    }
}

/// Writes a histogram series; in OpenMetrics, each bucket with an exemplar carries it.
pub(super) fn histogram(
    out: &mut String,
    format: ExpositionFormat,
    family: &Family,
    labels: &[(&str, &str)],
    snapshot: &HistogramSnapshot,
    exemplars: Option<&[ExemplarSlot]>,
) {
    let mut cumulative = 0u64;
    let bounds = family.buckets.iter().map(Some).chain(std::iter::once(None));
    for (index, (bound, count)) in bounds.zip(snapshot.buckets()).enumerate() {
        cumulative += count;
        out.push_str(family.name);
        out.push_str("_bucket{");
        push_labels(out, labels);
        if !labels.is_empty() {
            out.push(',');
        }
        out.push_str("le=\"");
        match bound {
            Some(bound) => push_float(out, *bound),
            None => out.push_str("+Inf"),
        }
        out.push_str("\"} ");
        push_value(out, Value::Int(cumulative));
        let exemplar = match format {
            ExpositionFormat::OpenMetrics => exemplars
                .and_then(|slots| slots.get(index))
                .and_then(ExemplarSlot::read),
            _ => None,
        };
        if let Some(exemplar) = exemplar {
            push_exemplar(out, &exemplar);
        }
        out.push('\n');
    }
    sample(
        out,
        family.name,
        "_sum",
        labels,
        Value::Float(snapshot.sum()),
    );
    sample(out, family.name, "_count", labels, Value::Int(cumulative));
}

/// ` # {trace_id="..",span_id=".."} value timestamp`, OpenMetrics' exemplar syntax.
fn push_exemplar(out: &mut String, exemplar: &Exemplar) {
    let _ = write!(
        out,
        " # {{trace_id=\"{:032x}\",span_id=\"{:016x}\"}} ",
        exemplar.trace.trace_id, exemplar.trace.span_id
    );
    push_float(out, exemplar.value);
    // Milliseconds: what Prometheus stores.
    let _ = write!(out, " {:.3}", exemplar.timestamp);
}

/// Escapes a label value as the text format requires: backslash, double quote, newline.
fn push_escaped_label_value(out: &mut String, value: &str) {
    for ch in value.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            ch => out.push(ch),
        }
    }
}

/// Writes a float the way Prometheus parses it (`+Inf`, `-Inf`, `NaN`, plain decimals).
fn push_float(out: &mut String, value: f64) {
    if value.is_nan() {
        out.push_str("NaN");
    } else if value.is_infinite() {
        out.push_str(if value > 0.0 { "+Inf" } else { "-Inf" });
    } else {
        let _ = write!(out, "{value}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_and_escapes() {
        let mut out = String::new();
        for v in [0.1, 1.0, 1024.0, 10485760.0, f64::INFINITY, f64::NAN, 1e-7] {
            push_float(&mut out, v);
            out.push(' ');
        }
        assert_eq!(out, "0.1 1 1024 10485760 +Inf NaN 0.0000001 ");
        let mut out = String::new();
        push_escaped_label_value(&mut out, "a\"b\\c\nd");
        assert_eq!(out, r#"a\"b\\c\nd"#);
    }
}
