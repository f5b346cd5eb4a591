//! The encoder of `io.prometheus.client.MetricFamily` messages, length-delimited (field
//! numbers of client_model's `metrics.proto`): a family is written at its first series,
//! since a `MetricFamily` without metrics says nothing. Both the audio families
//! (`protobuf`) and the facade's (`facade_protobuf`) are written through it.

use super::wire;

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

/// A `LabelPair` in field `field`.
pub(super) fn label_pair(out: &mut Vec<u8>, field: u32, name: &str, value: &str) {
    let pair = wire::begin(out, field);
    wire::string(out, 1, name);
    wire::string(out, 2, value);
    wire::end(out, pair);
}
