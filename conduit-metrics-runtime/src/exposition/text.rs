//! Writes the registry in the Prometheus text exposition format 0.0.4 or in OpenMetrics
//! 1.0, whose differences are in the metadata lines (`header`) and the end (`# EOF`).
//!
//! Every family of the catalogue gets its `# HELP` and `# TYPE` lines even before it has
//! series, so a scrape always shows the whole catalogue. Series are sorted by provider
//! label so consecutive scrapes are easy to diff.

use std::fmt::Write as _;

use super::format::ExpositionFormat;
use crate::catalogue::{self, Family};
use crate::labels::{DisconnectReason, Operation, Status};
use crate::store::{
    CallCells, Exemplar, ExemplarSlot, HistogramSnapshot, ProviderSeries, Registry, Striped,
};

impl Registry {
    /// The exposition text of the audio families (Prometheus text format 0.0.4).
    pub fn render(&self) -> String {
        self.render_format(ExpositionFormat::Text)
    }

    /// The exposition of the audio families in `format`; OpenMetrics ends with `# EOF`.
    pub fn render_format(&self, format: ExpositionFormat) -> String {
        let mut out = String::with_capacity(16 * 1024);
        self.write_families(&mut out, format);
        if format == ExpositionFormat::OpenMetrics {
            out.push_str(OPENMETRICS_EOF);
        }
        out
    }

    /// Appends the audio families in `format` to `out`, without OpenMetrics' `# EOF`
    /// (whoever writes the last family adds it).
    pub(crate) fn write_families(&self, out: &mut String, format: ExpositionFormat) {
        write_registry(self, out, format);
    }
}

/// The line that ends an OpenMetrics exposition.
pub(crate) const OPENMETRICS_EOF: &str = "# EOF\n";

/// Appends the exposition of `registry` to `out`.
fn write_registry(registry: &Registry, out: &mut String, format: ExpositionFormat) {
    let all = registry.provider_series();
    // (series, position in `all`) sorted by label; positions index the window ratios.
    let mut providers: Vec<(&ProviderSeries, usize)> = all.iter().copied().zip(0..).collect();
    providers.sort_by(|a, b| a.0.label().cmp(b.0.label()));
    let ratios = registry.ratios();

    header(out, format, &catalogue::REQUESTS_TOTAL);
    for (series, _) in &providers {
        for &operation in Operation::ALL {
            let Some(calls) = series.calls_if_used(operation) else {
                continue;
            };
            for &status in Status::ALL {
                let count = calls.requests(status);
                sample(
                    out,
                    catalogue::REQUESTS_TOTAL.name,
                    "",
                    &[
                        ("operation", operation.as_str()),
                        ("provider", series.label()),
                        ("status", status.as_str()),
                    ],
                    Value::Int(count),
                );
            }
        }
    }

    header(out, format, &catalogue::REQUEST_DURATION_SECONDS);
    for (labels, calls) in used_calls(&providers) {
        histogram(
            out,
            format,
            &catalogue::REQUEST_DURATION_SECONDS,
            &labels,
            &calls.duration(),
            calls.duration_exemplars(),
        );
    }

    header(out, format, &catalogue::REQUEST_SIZE_BYTES);
    for (labels, calls) in used_calls(&providers) {
        let snapshot = calls.size();
        if snapshot.count() > 0 {
            histogram(
                out,
                format,
                &catalogue::REQUEST_SIZE_BYTES,
                &labels,
                &snapshot,
                None,
            );
        }
    }

    header(out, format, &catalogue::CACHE_HIT_RATIO);
    for &operation in Operation::ALL {
        if let Some(ratio) = ratios.cache_hit_ratio(operation) {
            sample(
                out,
                catalogue::CACHE_HIT_RATIO.name,
                "",
                &[("operation", operation.as_str())],
                Value::Float(ratio),
            );
        }
    }

    for family in [
        &catalogue::PROVIDER_ERROR_RATE,
        &catalogue::PROVIDER_UPTIME_RATIO,
    ] {
        header(out, format, family);
        for (series, position) in &providers {
            let ratio = if family == &catalogue::PROVIDER_ERROR_RATE {
                ratios.error_rate(*position)
            } else {
                ratios.uptime(*position)
            };
            if let Some(ratio) = ratio {
                sample(
                    out,
                    family.name,
                    "",
                    &[("provider", series.label())],
                    Value::Float(ratio),
                );
            }
        }
    }

    header(out, format, &catalogue::ACTIVE_OPERATIONS);
    for &operation in Operation::ALL {
        let active = registry.operation(operation).active();
        sample(
            out,
            catalogue::ACTIVE_OPERATIONS.name,
            "",
            &[("operation", operation.as_str())],
            Value::Signed(active),
        );
    }
    for (resource, count) in registry.resources() {
        sample(
            out,
            catalogue::ACTIVE_OPERATIONS.name,
            "",
            &[("resource", &resource)],
            Value::Signed(count),
        );
    }

    header(out, format, &catalogue::REALTIME_SESSIONS_TOTAL);
    for (series, _) in &providers {
        if let Some(realtime) = series.realtime_if_used() {
            for &reason in DisconnectReason::ALL {
                let count = realtime.sessions(reason);
                sample(
                    out,
                    catalogue::REALTIME_SESSIONS_TOTAL.name,
                    "",
                    &[
                        ("provider", series.label()),
                        ("disconnect_reason", reason.as_str()),
                    ],
                    Value::Int(count),
                );
            }
        }
    }

    for (family, latency) in [
        (&catalogue::REALTIME_DURATION_SECONDS, false),
        (&catalogue::REALTIME_LATENCY_SECONDS, true),
    ] {
        header(out, format, family);
        for (series, _) in &providers {
            if let Some(realtime) = series.realtime_if_used() {
                let (snapshot, exemplars) = if latency {
                    (realtime.latency(), realtime.latency_exemplars())
                } else {
                    (realtime.duration(), None)
                };
                histogram(
                    out,
                    format,
                    family,
                    &[("provider", series.label())],
                    &snapshot,
                    exemplars,
                );
            }
        }
    }

    header(out, format, &catalogue::COST_DOLLARS);
    for &operation in Operation::ALL {
        let dollars = registry.operation(operation).cost();
        sample(
            out,
            catalogue::COST_DOLLARS.name,
            "",
            &[("operation", operation.as_str())],
            Value::Float(dollars),
        );
    }

    // The streaming families appear per series on first use: most call sites never
    // stream or count audio seconds, and a series of zeros would only cost memory.
    header(out, format, &catalogue::TIME_TO_FIRST_BYTE_SECONDS);
    for (labels, calls) in used_calls(&providers) {
        let snapshot = calls.first_byte();
        if snapshot.count() > 0 {
            histogram(
                out,
                format,
                &catalogue::TIME_TO_FIRST_BYTE_SECONDS,
                &labels,
                &snapshot,
                calls.first_byte_exemplars(),
            );
        }
    }
    header(out, format, &catalogue::AUDIO_SECONDS_TOTAL);
    for (labels, calls) in used_calls(&providers) {
        let seconds = calls.audio_seconds();
        if seconds > 0.0 {
            let name = catalogue::AUDIO_SECONDS_TOTAL.name;
            sample(out, name, "", &labels, Value::Float(seconds));
        }
    }
    header(out, format, &catalogue::CHARACTERS_TOTAL);
    for (labels, calls) in used_calls(&providers) {
        let characters = calls.characters();
        if characters > 0 {
            let name = catalogue::CHARACTERS_TOTAL.name;
            sample(out, name, "", &labels, Value::Int(characters));
        }
    }

    header(out, format, &catalogue::CACHE_LOOKUPS_TOTAL);
    for &operation in Operation::ALL {
        let (hits, misses) = registry.operation(operation).lookups();
        for (result, count) in [("hit", hits), ("miss", misses)] {
            sample(
                out,
                catalogue::CACHE_LOOKUPS_TOTAL.name,
                "",
                &[("operation", operation.as_str()), ("result", result)],
                Value::Int(count),
            );
        }
    }

    header(out, format, &catalogue::HEALTH_CHECKS_TOTAL);
    for (series, _) in &providers {
        let (passed, failed) = series.health_checks();
        if passed + failed > 0 {
            for (result, count) in [("pass", passed), ("fail", failed)] {
                sample(
                    out,
                    catalogue::HEALTH_CHECKS_TOTAL.name,
                    "",
                    &[("provider", series.label()), ("result", result)],
                    Value::Int(count),
                );
            }
        }
    }

    header(out, format, &catalogue::PROVIDER_LABELS_FOLDED_TOTAL);
    sample(
        out,
        catalogue::PROVIDER_LABELS_FOLDED_TOTAL.name,
        "",
        &[],
        Value::Int(registry.folded_calls()),
    );

    for family in [
        &catalogue::COST_REJECTED_TOTAL,
        &catalogue::AUDIO_SECONDS_REJECTED_TOTAL,
    ] {
        header(out, format, family);
        for &operation in Operation::ALL {
            let cells = registry.operation(operation);
            let rejected = if family == &catalogue::COST_REJECTED_TOTAL {
                cells.rejected_costs()
            } else {
                cells.rejected_audio_seconds()
            };
            sample(
                out,
                family.name,
                "",
                &[("operation", operation.as_str())],
                Value::Int(rejected),
            );
        }
    }
}

/// The (operation, provider) call series that were used, providers in label order, with
/// their two labels.
fn used_calls<'a>(
    providers: &'a [(&'a ProviderSeries, usize)],
) -> impl Iterator<Item = ([(&'static str, &'a str); 2], &'a Striped<CallCells>)> + 'a {
    providers.iter().flat_map(|(series, _)| {
        Operation::ALL.iter().filter_map(|&operation| {
            let calls = series.calls_if_used(operation)?;
            let labels = [
                ("operation", operation.as_str()),
                ("provider", series.label()),
            ];
            Some((labels, calls))
        })
    })
}

/// Writes a family's metadata lines. OpenMetrics names a counter family without its
/// `_total` (its samples keep it) and gives units; the guide's `conduit_audio_cost_dollars`,
/// a counter without `_total`, is `unknown` there, so its samples keep the name PromQL
/// knows instead of gaining a `_total`.
pub(super) fn header(out: &mut String, format: ExpositionFormat, family: &Family) {
    let (name, kind) = match format {
        ExpositionFormat::Text => (family.name, family.kind.as_str()),
        ExpositionFormat::OpenMetrics => openmetrics_family(family.name, family.kind.as_str()),
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

enum Value {
    Int(u64),
    Signed(i64),
    Float(f64),
}

fn sample(out: &mut String, name: &str, suffix: &str, labels: &[(&str, &str)], value: Value) {
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
fn histogram(
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
            ExpositionFormat::Text => None,
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
