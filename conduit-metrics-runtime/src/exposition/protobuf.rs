//! The audio families in the Prometheus protobuf format, the only format that carries
//! native histograms (messages encoded by `protobuf_encoder`). Latency histograms carry their classic
//! buckets (with exemplars, which Prometheus 2.42 reads from them) and, beside them, their
//! native buckets as spans and deltas.

use super::formatting::Value;
use super::protobuf_encoder::{MetricType, ProtobufWriter, label_pair};
use super::wire;
use super::writer::{FamilyWriter, HistogramSeries};
use crate::catalogue::{Family, FamilyType};
use crate::store::{Exemplar, ExemplarSlot, NativeSnapshot, ZERO_THRESHOLD};

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
        let out = self.body();
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
    fn facade_family(&mut self, family: &super::facade_text::FacadeFamily<'_>) {
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
