//! The checked objectives (what `read` makes of an objective file) and the mistakes it
//! reports.

use std::fmt;

use conduit_metrics_runtime::catalogue::{self, Family};
use conduit_metrics_runtime::{Operation, Status};

/// The windows an objective may be measured over.
pub(crate) const OBJECTIVE_WINDOWS: [&str; 2] = ["28d", "30d"];
/// Bad events a burn-rate condition needs in its long window (the traffic guard).
pub(crate) const DEFAULT_MIN_BAD_EVENTS: u64 = 3;

/// A mistake in the objective file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// The line it is on (1-based).
    pub line: usize,
    /// The objective it is in, if any.
    pub objective: Option<String>,
    /// The field it is about, if any.
    pub field: Option<String>,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.line)?;
        if let Some(objective) = &self.objective {
            write!(f, "objective \"{objective}\": ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&self.message)
    }
}

/// What an objective measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sli {
    /// Good: `success`; bad: every other completed status but the excluded ones.
    Availability,
    /// Good: a call at or under the threshold (`request_duration_seconds`).
    Latency,
    /// Good: a stream whose first item came at or under the threshold.
    TimeToFirstByte,
    /// Good: a realtime turn at or under the threshold (`realtime_latency_seconds`).
    TurnLatency,
}

impl Sli {
    pub(crate) const NAMES: [&'static str; 4] = [
        "availability",
        "latency",
        "time_to_first_byte",
        "turn_latency",
    ];

    pub(crate) fn parse(text: &str) -> Option<Sli> {
        Some(match text {
            "availability" => Sli::Availability,
            "latency" => Sli::Latency,
            "time_to_first_byte" => Sli::TimeToFirstByte,
            "turn_latency" => Sli::TurnLatency,
            _ => return None,
        })
    }

    /// The family the SLI is read from.
    pub(crate) fn family(self) -> &'static Family {
        match self {
            Sli::Availability => &catalogue::REQUESTS_TOTAL,
            Sli::Latency => &catalogue::REQUEST_DURATION_SECONDS,
            Sli::TimeToFirstByte => &catalogue::TIME_TO_FIRST_BYTE_SECONDS,
            Sli::TurnLatency => &catalogue::REALTIME_LATENCY_SECONDS,
        }
    }
}

/// Which buckets a latency SLI reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HistogramForm {
    /// The guide's buckets (`_bucket{le=..}`): the threshold must be one of their bounds.
    Classic,
    /// Native buckets (`histogram_fraction`): any threshold, within the schema's error.
    Native,
}

/// One objective, checked.
#[derive(Debug, Clone)]
pub(crate) struct Objective {
    pub(crate) name: String,
    pub(crate) operation: Operation,
    pub(crate) sli: Sli,
    /// Percent of good events, 0 < target < 100.
    pub(crate) target: f64,
    /// As written: `28d` or `30d`.
    pub(crate) window: &'static str,
    pub(crate) by: Vec<String>,
    /// Latency SLIs: the duration a good event is at or under, in seconds (a bucket
    /// bound of the classic form).
    pub(crate) threshold: Option<f64>,
    /// Latency SLIs: the buckets the SLI reads.
    pub(crate) histogram: HistogramForm,
    /// Availability: statuses that are not events at all (besides `cancelled`).
    pub(crate) exclude_statuses: Vec<Status>,
    pub(crate) min_bad_events: u64,
    pub(crate) description: Option<String>,
}

/// The whole file, checked.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    pub(crate) service: String,
    pub(crate) objectives: Vec<Objective>,
}

/// Seconds as a short duration (`0.5s`, `5s`).
pub(crate) fn seconds_text(seconds: f64) -> String {
    format!("{seconds}s")
}
