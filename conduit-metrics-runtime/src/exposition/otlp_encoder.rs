//! The encoder of one OTLP `ExportMetricsServiceRequest` (the registry's audio families,
//! through `otlp`, then the facade's, through `otlp_facade`), written straight into the body with the field numbers of
//! opentelemetry-proto's `metrics/v1/metrics.proto` and `collector/metrics/v1/
//! metrics_service.proto` (no message structs, no `protoc`, as for the Prometheus
//! protobuf format).
//!
//! Cumulative temporality throughout: counters are monotonic sums, gauges gauges,
//! histograms keep the guide's bounds, and a latency histogram that has native buckets is
//! an exponential histogram (OTLP's scale is the native schema; OTLP's bucket `i` covers
//! `(base^i, base^(i+1)]`, Prometheus' key `k` covers `(base^(k-1), base^k]`, so `i = k - 1`).
//! Names drop `_total` (a receiver adds it back to a monotonic sum) and carry a UCUM unit
//! read off the name's suffix, so Prometheus' OTLP receiver gives back the exposition's
//! names.

use super::formatting::Value;
use super::wire;
use super::writer::HistogramSeries;
use crate::catalogue::{Family, FamilyType};
use crate::store::{Exemplar, ExemplarSlot, NativeSnapshot, ZERO_THRESHOLD};

/// `AGGREGATION_TEMPORALITY_CUMULATIVE`.
const CUMULATIVE: u64 = 2;

/// Who sent the metrics: the resource's attributes (`service.name`,
/// `service.instance.id`, and those of `OTEL_RESOURCE_ATTRIBUTES`) and the scope.
#[derive(Debug, Clone)]
pub(crate) struct OtlpSource {
    pub(crate) resource: Vec<(String, String)>,
    /// When the cumulative values started (the registry's creation), in Unix nanoseconds.
    pub(crate) start_unix_nanos: u64,
}

/// The kind of data a `Metric` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Data {
    Sum,
    Gauge,
    Histogram,
    Exponential,
    #[cfg_attr(not(feature = "recorder"), allow(dead_code))]
    Summary,
}

impl Data {
    /// The `Metric` field of this kind of data.
    fn field(self) -> u32 {
        match self {
            Data::Gauge => 5,
            Data::Sum => 7,
            Data::Histogram => 9,
            Data::Exponential => 10,
            Data::Summary => 11,
        }
    }
}

/// The metadata of the family started last, written at its first series.
struct Pending {
    name: String,
    help: String,
    unit: &'static str,
}

/// The open `Metric` and its data message.
struct Open {
    metric: usize,
    data: usize,
    kind: Data,
}

/// The body of one export.
pub(super) struct OtlpWriter {
    out: Vec<u8>,
    /// `ResourceMetrics` and `ScopeMetrics`, open until the body is taken.
    outer: [usize; 2],
    pending: Option<Pending>,
    /// The name of the family started last (a `Metric` may need to be opened again).
    current: Option<Pending>,
    open: Option<Open>,
    start: u64,
    now: u64,
}

impl OtlpWriter {
    pub(super) fn new(source: &OtlpSource, now_unix_nanos: u64) -> Self {
        let mut out = Vec::with_capacity(64 * 1024);
        let resource_metrics = wire::begin(&mut out, 1);
        let resource = wire::begin(&mut out, 1);
        for (key, value) in &source.resource {
            key_value(&mut out, 1, key, value);
        }
        wire::end(&mut out, resource);
        let scope_metrics = wire::begin(&mut out, 2);
        let scope = wire::begin(&mut out, 1);
        wire::string(&mut out, 1, env!("CARGO_PKG_NAME"));
        wire::string(&mut out, 2, env!("CARGO_PKG_VERSION"));
        wire::end(&mut out, scope);
        OtlpWriter {
            out,
            outer: [resource_metrics, scope_metrics],
            pending: None,
            current: None,
            open: None,
            start: source.start_unix_nanos.min(now_unix_nanos),
            now: now_unix_nanos,
        }
    }

    /// The encoded `ExportMetricsServiceRequest`.
    pub(super) fn into_bytes(mut self) -> Vec<u8> {
        self.close_metric();
        wire::end(&mut self.out, self.outer[1]);
        wire::end(&mut self.out, self.outer[0]);
        self.out
    }

    fn start_family(&mut self, name: &str, help: &str, counter: bool) {
        self.close_metric();
        let name = match name.strip_suffix("_total") {
            Some(stem) if counter => stem,
            _ => name,
        };
        let pending = Pending {
            name: name.to_owned(),
            help: help.to_owned(),
            unit: unit_of(name),
        };
        self.current = Some(Pending {
            name: pending.name.clone(),
            help: String::new(),
            unit: pending.unit,
        });
        self.pending = Some(pending);
    }

    fn close_metric(&mut self) {
        if let Some(open) = self.open.take() {
            wire::end(&mut self.out, open.data);
            wire::end(&mut self.out, open.metric);
        }
    }

    /// Where a data point of `kind` goes: the open `Metric`, or a new one (the family's
    /// first series, or a series of another kind than the one before it).
    fn data_points(&mut self, kind: Data) -> &mut Vec<u8> {
        if self.open.as_ref().is_some_and(|open| open.kind != kind) {
            self.close_metric();
            // The same family again, with the other kind of data.
            if let Some(current) = &self.current {
                self.pending = Some(Pending {
                    name: current.name.clone(),
                    help: String::new(),
                    unit: current.unit,
                });
            }
        }
        if self.open.is_none() {
            let pending = self.pending.take().unwrap_or(Pending {
                name: String::new(),
                help: String::new(),
                unit: "",
            });
            let metric = wire::begin(&mut self.out, 2);
            wire::string(&mut self.out, 1, &pending.name);
            if !pending.help.is_empty() {
                wire::string(&mut self.out, 2, &pending.help);
            }
            if !pending.unit.is_empty() {
                wire::string(&mut self.out, 3, pending.unit);
            }
            let data = wire::begin(&mut self.out, kind.field());
            match kind {
                Data::Sum => {
                    wire::uint64(&mut self.out, 2, CUMULATIVE);
                    wire::uint64(&mut self.out, 3, 1); // is_monotonic
                }
                Data::Histogram | Data::Exponential => wire::uint64(&mut self.out, 2, CUMULATIVE),
                Data::Gauge | Data::Summary => {}
            }
            self.open = Some(Open { metric, data, kind });
        }
        &mut self.out
    }

    /// One `NumberDataPoint` of a sum or gauge.
    fn number(&mut self, kind: Data, labels: &[(&str, &str)], value: Value) {
        let (start, now) = (self.start, self.now);
        let out = self.data_points(kind);
        let point = begin_point(out, 7, labels, (start, now));
        match value {
            Value::Int(v) => wire::fixed64(out, 6, v.min(i64::MAX as u64)),
            Value::Signed(v) => wire::fixed64(out, 6, v as u64),
            Value::Float(v) => wire::double(out, 4, v),
        }
        wire::end(out, point);
    }
}

/// The audio families' calls (`otlp` implements `FamilyWriter` on them).
impl OtlpWriter {
    /// Starts a family of the catalogue.
    pub(super) fn family(&mut self, family: &Family) {
        self.start_family(family.name, family.help, family.kind == FamilyType::Counter);
    }

    /// One counter or gauge series of the family started last.
    pub(super) fn sample_point(&mut self, family: &Family, labels: &[(&str, &str)], value: Value) {
        let kind = match family.kind {
            FamilyType::Counter => Data::Sum,
            _ => Data::Gauge,
        };
        self.number(kind, labels, value);
    }

    /// One audio histogram series: exponential when it has native buckets, else with
    /// the family's bounds.
    pub(super) fn histogram_point(
        &mut self,
        family: &Family,
        labels: &[(&str, &str)],
        series: HistogramSeries<'_>,
    ) {
        let (start, now) = (self.start, self.now);
        let snapshot = series.snapshot;
        let exemplars: Vec<Exemplar> = series
            .exemplars
            .into_iter()
            .flatten()
            .filter_map(ExemplarSlot::read)
            .collect();
        if let Some(native) = &series.native {
            let out = self.data_points(Data::Exponential);
            let point = begin_point(out, 1, labels, (start, now));
            // Native buckets are read first, so the classic count can only be the larger.
            wire::fixed64(out, 4, snapshot.count().max(native.count()));
            wire::double(out, 5, snapshot.sum());
            write_exponential(out, native);
            for exemplar in &exemplars {
                write_exemplar(out, 11, exemplar);
            }
            wire::end(out, point);
            return;
        }
        let out = self.data_points(Data::Histogram);
        let point = begin_point(out, 9, labels, (start, now));
        wire::fixed64(out, 4, snapshot.count());
        wire::double(out, 5, snapshot.sum());
        wire::packed_fixed64(out, 6, snapshot.buckets().iter().copied());
        wire::packed_double(out, 7, family.buckets.iter().copied());
        for exemplar in &exemplars {
            write_exemplar(out, 8, exemplar);
        }
        wire::end(out, point);
    }
}

/// The facade's families, read back from their text (see `facade_samples`).
#[cfg(feature = "recorder")]
impl OtlpWriter {
    pub(super) fn start_facade_family(&mut self, name: &str, help: &str, kind: &str) {
        self.start_family(name, help, kind == "counter");
    }

    pub(super) fn facade_number(&mut self, kind: &str, labels: &[(&str, &str)], value: f64) {
        let data = if kind == "counter" {
            Data::Sum
        } else {
            Data::Gauge
        };
        self.number(data, labels, Value::Float(value));
    }

    /// A facade histogram: `points` are its cumulative `(le, count)` buckets.
    pub(super) fn facade_histogram(
        &mut self,
        labels: &[(&str, &str)],
        points: &[(f64, f64)],
        sum: f64,
        count: f64,
    ) {
        let (start, now) = (self.start, self.now);
        let out = self.data_points(Data::Histogram);
        let point = begin_point(out, 9, labels, (start, now));
        wire::fixed64(out, 4, count as u64);
        wire::double(out, 5, sum);
        let finite: Vec<(f64, f64)> = points.iter().copied().filter(|p| p.0.is_finite()).collect();
        let mut below = 0.0;
        let mut counts: Vec<u64> = Vec::with_capacity(finite.len() + 1);
        for &(_, cumulative) in &finite {
            counts.push((cumulative - below).max(0.0) as u64);
            below = cumulative;
        }
        counts.push((count - below).max(0.0) as u64);
        wire::packed_fixed64(out, 6, counts.into_iter());
        wire::packed_double(out, 7, finite.iter().map(|p| p.0));
        wire::end(out, point);
    }

    /// A facade summary: `quantiles` are its `(quantile, value)` pairs.
    pub(super) fn facade_summary(
        &mut self,
        labels: &[(&str, &str)],
        quantiles: &[(f64, f64)],
        sum: f64,
        count: f64,
    ) {
        let (start, now) = (self.start, self.now);
        let out = self.data_points(Data::Summary);
        let point = begin_point(out, 7, labels, (start, now));
        wire::fixed64(out, 4, count as u64);
        wire::double(out, 5, sum);
        for &(quantile, value) in quantiles {
            let entry = wire::begin(out, 6);
            wire::double(out, 1, quantile);
            wire::double(out, 2, value);
            wire::end(out, entry);
        }
        wire::end(out, point);
    }
}

/// Starts a data point (field 1 of its data message, in every kind): its labels as
/// attributes (in `attributes_field`, which differs between kinds), then its start and
/// current time. Close it with `wire::end`.
fn begin_point(
    out: &mut Vec<u8>,
    attributes_field: u32,
    labels: &[(&str, &str)],
    (start, now): (u64, u64),
) -> usize {
    let point = wire::begin(out, 1);
    for (key, value) in labels {
        key_value(out, attributes_field, key, value);
    }
    wire::fixed64(out, 2, start);
    wire::fixed64(out, 3, now);
    point
}

/// The scale, zero bucket and positive buckets of an `ExponentialHistogramDataPoint`.
fn write_exponential(out: &mut Vec<u8>, native: &NativeSnapshot) {
    wire::sint(out, 6, i64::from(native.schema));
    wire::fixed64(out, 7, native.zero_count);
    if let (Some(&(first, _)), Some(&(last, _))) = (native.buckets.first(), native.buckets.last()) {
        let positive = wire::begin(out, 8);
        wire::sint(out, 1, i64::from(first) - 1);
        let mut dense = vec![0u64; (last - first) as usize + 1];
        for &(key, count) in &native.buckets {
            dense[(key - first) as usize] = count;
        }
        wire::packed_uint64(out, 2, dense.into_iter());
        wire::end(out, positive);
    }
    wire::double(out, 14, ZERO_THRESHOLD);
}

/// An `Exemplar`: when, the value, and the span and trace it came from.
fn write_exemplar(out: &mut Vec<u8>, field: u32, exemplar: &Exemplar) {
    let message = wire::begin(out, field);
    wire::fixed64(out, 2, (exemplar.timestamp * 1e9) as u64);
    wire::double(out, 3, exemplar.value);
    wire::bytes(out, 4, &exemplar.trace.span_id.to_be_bytes());
    wire::bytes(out, 5, &exemplar.trace.trace_id.to_be_bytes());
    wire::end(out, message);
}

/// A `KeyValue` with a string value.
fn key_value(out: &mut Vec<u8>, field: u32, key: &str, value: &str) {
    let pair = wire::begin(out, field);
    wire::string(out, 1, key);
    let any = wire::begin(out, 2);
    wire::string(out, 1, value);
    wire::end(out, any);
    wire::end(out, pair);
}

/// The UCUM unit a name's suffix says (`_seconds` s, `_bytes` By, `_ratio` 1), so a
/// receiver that appends units (Prometheus' OTLP receiver) finds the suffix already there.
fn unit_of(name: &str) -> &'static str {
    if name.ends_with("_seconds") {
        "s"
    } else if name.ends_with("_bytes") {
        "By"
    } else if name.ends_with("_ratio") {
        "1"
    } else {
        ""
    }
}
