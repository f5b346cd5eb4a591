//! The Prometheus protobuf format: length-delimited `io.prometheus.client.MetricFamily`
//! messages (field numbers of client_model's `metrics.proto`), the only format that
//! carries native histograms. A family is written when its first series comes, since a
//! `MetricFamily` without metrics says nothing. Latency histograms carry their classic
//! buckets (with exemplars, which Prometheus 2.42 reads from them) and, beside them, their
//! native buckets as spans and deltas.

use super::formatting::Value;
use super::wire;
use super::writer::{FamilyWriter, HistogramSeries};
use crate::catalogue::{Family, FamilyType};
use crate::store::{Exemplar, ExemplarSlot, NativeSnapshot, ZERO_THRESHOLD};

/// `MetricType` of `metrics.proto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MetricType {
    Counter = 0,
    Gauge = 1,
    #[cfg_attr(not(feature = "recorder"), allow(dead_code))]
    Summary = 2,
    Untyped = 3,
    Histogram = 4,
}

impl MetricType {
    /// The type a text-format `# TYPE` word names.
    #[cfg_attr(not(feature = "recorder"), allow(dead_code))]
    pub(super) fn from_text(kind: &str) -> MetricType {
        match kind {
            "counter" => MetricType::Counter,
            "gauge" => MetricType::Gauge,
            "summary" => MetricType::Summary,
            "histogram" => MetricType::Histogram,
            _ => MetricType::Untyped,
        }
    }

    /// The `Metric` field its value goes in.
    fn value_field(self) -> u32 {
        match self {
            MetricType::Gauge => 2,
            MetricType::Counter => 3,
            MetricType::Summary => 4,
            MetricType::Untyped => 5,
            MetricType::Histogram => 7,
        }
    }
}

/// The protobuf body of a scrape.
pub(super) struct ProtobufWriter {
    out: Vec<u8>,
    /// The family started last: its metadata is written at its first series.
    pending: Option<(String, String)>,
    kind: MetricType,
    /// Where the open `MetricFamily` began, if one is open.
    open: Option<usize>,
}

/// A `Metric` being written: where it and its value message began.
pub(super) struct OpenMetric {
    metric: usize,
    value: usize,
}

impl ProtobufWriter {
    pub(super) fn new() -> Self {
        ProtobufWriter {
            out: Vec::with_capacity(16 * 1024),
            pending: None,
            kind: MetricType::Untyped,
            open: None,
        }
    }

    /// The body, every family closed.
    pub(super) fn into_bytes(mut self) -> Vec<u8> {
        self.close_family();
        self.out
    }

    /// Starts a family; nothing is written until its first series.
    pub(super) fn start_family(&mut self, name: &str, help: &str, kind: MetricType) {
        self.close_family();
        self.pending = Some((name.to_owned(), help.to_owned()));
        self.kind = kind;
    }

    fn close_family(&mut self) {
        self.pending = None;
        if let Some(start) = self.open.take() {
            wire::end(&mut self.out, start);
        }
    }

    /// Starts one `Metric` of the current family with its labels, and its value message
    /// (`Counter`, `Gauge`, `Histogram`...), which the caller fills through
    /// [`body`](Self::body) before [`end_metric`](Self::end_metric).
    pub(super) fn begin_metric(&mut self, labels: &[(&str, &str)]) -> OpenMetric {
        if let Some((name, help)) = self.pending.take() {
            let start = wire::begin_delimited(&mut self.out);
            wire::string(&mut self.out, 1, &name);
            wire::string(&mut self.out, 2, &help);
            wire::uint64(&mut self.out, 3, self.kind as u64);
            self.open = Some(start);
        }
        let metric = wire::begin(&mut self.out, 4);
        for (name, value) in labels {
            label_pair(&mut self.out, 1, name, value);
        }
        let value = wire::begin(&mut self.out, self.kind.value_field());
        OpenMetric { metric, value }
    }

    /// Where the open metric's value fields go.
    #[cfg_attr(not(feature = "recorder"), allow(dead_code))]
    pub(super) fn body(&mut self) -> &mut Vec<u8> {
        &mut self.out
    }

    pub(super) fn end_metric(&mut self, open: OpenMetric) {
        wire::end(&mut self.out, open.value);
        wire::end(&mut self.out, open.metric);
    }

    /// One counter, gauge or untyped series: its value is field 1 of each.
    pub(super) fn value(&mut self, labels: &[(&str, &str)], value: f64) {
        let metric = self.begin_metric(labels);
        wire::double(&mut self.out, 1, value);
        self.end_metric(metric);
    }
}

impl FamilyWriter for ProtobufWriter {
    fn header(&mut self, family: &Family) {
        let kind = match family.kind {
            FamilyType::Counter => MetricType::Counter,
            FamilyType::Gauge => MetricType::Gauge,
            FamilyType::Histogram => MetricType::Histogram,
        };
        self.start_family(family.name, family.help, kind);
    }

    fn sample(&mut self, _family: &Family, labels: &[(&str, &str)], value: Value) {
        let value = match value {
            Value::Int(v) => v as f64,
            Value::Signed(v) => v as f64,
            Value::Float(v) => v,
        };
        self.value(labels, value);
    }

    fn histogram(&mut self, family: &Family, labels: &[(&str, &str)], series: HistogramSeries<'_>) {
        let metric = self.begin_metric(labels);
        let out = &mut self.out;
        let snapshot = series.snapshot;
        let native_count = series.native.as_ref().map_or(0, NativeSnapshot::count);
        // Native buckets are read first, so a concurrent observation can only make the
        // classic count the larger; the count is never below either.
        wire::uint64(out, 1, snapshot.count().max(native_count));
        wire::double(out, 2, snapshot.sum());
        let mut cumulative = 0;
        // The +Inf bucket is left out, as client_golang does: the count is its value.
        for (index, (&bound, &count)) in family.buckets.iter().zip(snapshot.buckets()).enumerate() {
            cumulative += count;
            let bucket = wire::begin(out, 3);
            wire::uint64(out, 1, cumulative);
            wire::double(out, 2, bound);
            let exemplar = series
                .exemplars
                .and_then(|slots| slots.get(index))
                .and_then(ExemplarSlot::read);
            if let Some(exemplar) = exemplar {
                write_exemplar(out, 3, &exemplar);
            }
            wire::end(out, bucket);
        }
        if let Some(native) = &series.native {
            write_native(out, native);
        }
        self.end_metric(metric);
    }

    fn serves_native(&self) -> bool {
        true
    }

    #[cfg(feature = "recorder")]
    fn facade_family(&mut self, family: &super::facade::FacadeFamily<'_>) {
        super::facade_protobuf::write_family(self, family);
    }
}

/// The native fields of a `Histogram`: schema, zero bucket, positive spans and deltas.
fn write_native(out: &mut Vec<u8>, native: &NativeSnapshot) {
    wire::sint(out, 5, i64::from(native.schema));
    // A zero threshold above 0 also marks the histogram as native for every Prometheus
    // version, before it has any bucket.
    wire::double(out, 6, ZERO_THRESHOLD);
    wire::uint64(out, 7, native.zero_count);
    let mut previous: Option<i32> = None;
    let mut spans: Vec<(i32, u32)> = Vec::new();
    for &(key, _) in &native.buckets {
        match (previous, spans.last_mut()) {
            (Some(last), Some(span)) if key == last + 1 => span.1 += 1,
            (Some(last), _) => spans.push((key - last - 1, 1)),
            (None, _) => spans.push((key, 1)),
        }
        previous = Some(key);
    }
    if spans.is_empty() {
        // No bucket yet: an empty span says "native" to versions that look for one.
        spans.push((0, 0));
    }
    for (offset, length) in spans {
        let span = wire::begin(out, 12);
        wire::sint(out, 1, i64::from(offset));
        wire::uint64(out, 2, u64::from(length));
        wire::end(out, span);
    }
    if !native.buckets.is_empty() {
        let mut last = 0i64;
        let deltas = native.buckets.iter().map(|&(_, count)| {
            let count = count as i64;
            let delta = count - last;
            last = count;
            delta
        });
        wire::packed_sint(out, 13, deltas);
    }
}

fn label_pair(out: &mut Vec<u8>, field: u32, name: &str, value: &str) {
    let pair = wire::begin(out, field);
    wire::string(out, 1, name);
    wire::string(out, 2, value);
    wire::end(out, pair);
}

/// An `Exemplar`: `trace_id` and `span_id` labels (as in OpenMetrics), value, timestamp.
fn write_exemplar(out: &mut Vec<u8>, field: u32, exemplar: &Exemplar) {
    let message = wire::begin(out, field);
    label_pair(
        out,
        1,
        "trace_id",
        &format!("{:032x}", exemplar.trace.trace_id),
    );
    label_pair(
        out,
        1,
        "span_id",
        &format!("{:016x}", exemplar.trace.span_id),
    );
    wire::double(out, 2, exemplar.value);
    let timestamp = wire::begin(out, 3);
    let seconds = exemplar.timestamp.floor();
    wire::int64(out, 1, seconds as i64);
    wire::int64(out, 2, ((exemplar.timestamp - seconds) * 1e9) as i64);
    wire::end(out, timestamp);
    wire::end(out, message);
}
