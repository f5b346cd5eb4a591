//! The trace a call belongs to, for exemplars: the sampled OpenTelemetry span current
//! when the call starts (feature `opentelemetry`; `tracing-opentelemetry` makes a
//! `tracing` span's context current when the span is entered). Without the feature, no
//! call has a trace and nothing here costs anything.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

/// A sampled span: its trace and span ids.
#[cfg_attr(not(feature = "opentelemetry"), allow(dead_code))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TraceRef {
    pub(crate) trace_id: u128,
    pub(crate) span_id: u64,
}

static CAPTURE: AtomicBool = AtomicBool::new(true);

/// Turns the capture of trace ids for exemplars on (the default, with the
/// `opentelemetry` feature) or off. Off, a call never reads the OpenTelemetry context.
pub fn set_exemplar_capture(enabled: bool) {
    CAPTURE.store(enabled, Relaxed);
}

/// Whether calls capture trace ids for exemplars.
pub fn exemplar_capture() -> bool {
    cfg!(feature = "opentelemetry") && CAPTURE.load(Relaxed)
}

/// The sampled span current now, if any.
#[cfg(feature = "opentelemetry")]
#[inline]
pub(crate) fn current_trace() -> Option<TraceRef> {
    use opentelemetry::trace::TraceContextExt as _;
    if !CAPTURE.load(Relaxed) {
        return None;
    }
    opentelemetry::Context::map_current(|context| {
        let span = context.span();
        let span = span.span_context();
        (span.is_valid() && span.is_sampled()).then(|| TraceRef {
            trace_id: u128::from_be_bytes(span.trace_id().to_bytes()),
            span_id: u64::from_be_bytes(span.span_id().to_bytes()),
        })
    })
}

/// Without the `opentelemetry` feature no call has a trace.
#[cfg(not(feature = "opentelemetry"))]
#[allow(dead_code)]
#[inline(always)]
pub(crate) fn current_trace() -> Option<TraceRef> {
    None
}
