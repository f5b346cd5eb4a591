//! The metric families: names, types, help text and bucket bounds, exactly as the guide
//! documents them. Everything that writes the exposition takes its names from here.

/// Prometheus metric type of a family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FamilyType {
    /// Only goes up.
    Counter,
    /// Goes up and down.
    Gauge,
    /// Cumulative `_bucket{le}`, `_sum` and `_count`.
    Histogram,
}

impl FamilyType {
    /// The word used on the `# TYPE` line.
    pub const fn as_str(self) -> &'static str {
        match self {
            FamilyType::Counter => "counter",
            FamilyType::Gauge => "gauge",
            FamilyType::Histogram => "histogram",
        }
    }
}

/// One metric family of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Family {
    /// Full metric name.
    pub name: &'static str,
    /// Counter, gauge or histogram.
    pub kind: FamilyType,
    /// Label names, in export order (`le` of histograms excluded).
    pub labels: &'static [&'static str],
    /// `# HELP` text.
    pub help: &'static str,
    /// Upper bounds of the finite buckets (histograms only); `+Inf` is implied.
    pub buckets: &'static [f64],
}

/// Bounds of `conduit_audio_request_duration_seconds`.
pub const REQUEST_DURATION_BUCKETS: [f64; 9] = [0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
/// Bounds of `conduit_audio_request_size_bytes` (1 KiB to 10 MiB).
pub const REQUEST_SIZE_BUCKETS: [f64; 5] = [1024.0, 10240.0, 102400.0, 1048576.0, 10485760.0];
/// Bounds of `conduit_audio_realtime_duration_seconds`.
pub const REALTIME_DURATION_BUCKETS: [f64; 10] = [
    1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
];
/// Bounds of `conduit_audio_realtime_latency_seconds`.
pub const REALTIME_LATENCY_BUCKETS: [f64; 9] = [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0];
/// Bounds of `conduit_audio_time_to_first_byte_seconds` (the realtime latency bounds:
/// both measure how long a listener waits for audio to start).
pub const TIME_TO_FIRST_BYTE_BUCKETS: [f64; 9] = REALTIME_LATENCY_BUCKETS;

macro_rules! families {
    ($( $(#[$doc:meta])* $ident:ident = $name:literal, $kind:ident, [$($label:literal),*], $buckets:expr, $help:literal; )+) => {
        $(
            $(#[$doc])*
            pub const $ident: Family = Family {
                name: $name,
                kind: FamilyType::$kind,
                labels: &[$($label),*],
                help: $help,
                buckets: $buckets,
            };
        )+
    };
}

families! {
    /// Calls by operation, provider and outcome.
    REQUESTS_TOTAL = "conduit_audio_requests_total", Counter, ["operation", "provider", "status"], &[],
        "Total number of audio requests, by operation, provider and outcome status.";
    /// Duration of completed calls.
    REQUEST_DURATION_SECONDS = "conduit_audio_request_duration_seconds", Histogram, ["operation", "provider"],
        &REQUEST_DURATION_BUCKETS,
        "Duration of completed audio requests in seconds (cancelled requests are not observed).";
    /// Audio payload sizes.
    REQUEST_SIZE_BYTES = "conduit_audio_request_size_bytes", Histogram, ["operation", "provider"],
        &REQUEST_SIZE_BUCKETS,
        "Size in bytes of the audio payload of a request or response.";
    /// Windowed cache hit ratio.
    CACHE_HIT_RATIO = "conduit_audio_cache_hit_ratio", Gauge, ["operation"], &[],
        "Cache hits divided by cache lookups over the metrics window.";
    /// Windowed provider error rate.
    PROVIDER_ERROR_RATE = "conduit_audio_provider_error_rate", Gauge, ["provider"], &[],
        "Failed calls divided by completed calls of the provider over the metrics window (cancelled calls count as neither).";
    /// Windowed provider uptime.
    PROVIDER_UPTIME_RATIO = "conduit_audio_provider_uptime_ratio", Gauge, ["provider"], &[],
        "Share of the provider's health checks that passed over the metrics window (falls back to its calls when it has no health checks).";
    /// In-flight calls by operation, and held resources by resource.
    ACTIVE_OPERATIONS = "conduit_audio_active_operations", Gauge, ["operation"], &[],
        "Audio operations in flight now (label operation), or resources held now (label resource).";
    /// Ended realtime sessions.
    REALTIME_SESSIONS_TOTAL = "conduit_audio_realtime_sessions_total", Counter, ["provider", "disconnect_reason"], &[],
        "Total number of ended realtime sessions, by provider and disconnect reason.";
    /// Realtime session lengths.
    REALTIME_DURATION_SECONDS = "conduit_audio_realtime_duration_seconds", Histogram, ["provider"],
        &REALTIME_DURATION_BUCKETS,
        "Length of realtime sessions in seconds.";
    /// Realtime per-turn latency.
    REALTIME_LATENCY_SECONDS = "conduit_audio_realtime_latency_seconds", Histogram, ["provider"],
        &REALTIME_LATENCY_BUCKETS,
        "Latency of realtime turns in seconds.";
    /// Stages of realtime voice turns.
    TURN_STAGE_SECONDS = "conduit_audio_turn_stage_seconds", Histogram, ["provider", "stage"],
        &REALTIME_LATENCY_BUCKETS,
        "Time in seconds of each stage of realtime voice turns: end_of_turn (end of speech to the end-of-turn decision), transcription (to the final transcript), response (to the response model's first output), synthesis (to the agent's first audio).";
    /// Realtime voice turns by outcome.
    TURNS_TOTAL = "conduit_audio_turns_total", Counter, ["provider", "outcome"], &[],
        "Total number of realtime voice turns by outcome: answered (the agent's audio started), interrupted (the user spoke over it), abandoned (ended with no agent audio).";
    /// Accumulated cost.
    COST_DOLLARS = "conduit_audio_cost_dollars", Counter, ["operation"], &[],
        "Cost of audio operations in US dollars.";
    /// Time from the start of a streamed call to its first item.
    TIME_TO_FIRST_BYTE_SECONDS = "conduit_audio_time_to_first_byte_seconds", Histogram, ["operation", "provider"],
        &TIME_TO_FIRST_BYTE_BUCKETS,
        "Time in seconds from the start of a streamed audio call to its first item (chunk or error).";
    /// Seconds of audio processed or produced.
    AUDIO_SECONDS_TOTAL = "conduit_audio_audio_seconds_total", Counter, ["operation", "provider"], &[],
        "Seconds of audio processed or produced by audio calls (the denominator of the real-time factor).";
    /// Characters sent to synthesis.
    CHARACTERS_TOTAL = "conduit_audio_characters_total", Counter, ["operation", "provider"], &[],
        "Characters of text sent to audio calls, the unit most text-to-speech APIs bill by.";
    /// Cache lookups by result (the counters behind the hit ratio).
    CACHE_LOOKUPS_TOTAL = "conduit_audio_cache_lookups_total", Counter, ["operation", "result"], &[],
        "Cache lookups by operation and result (hit or miss).";
    /// Health checks by result (the counters behind the uptime ratio).
    HEALTH_CHECKS_TOTAL = "conduit_audio_health_checks_total", Counter, ["provider", "result"], &[],
        "Provider health checks by result (pass or fail).";
    /// Calls whose provider label was folded into `other`.
    PROVIDER_LABELS_FOLDED_TOTAL = "conduit_audio_provider_labels_folded_total", Counter, [], &[],
        "Calls whose provider was folded into provider=\"other\" because MaxProviders distinct providers were already in use.";
    /// Cost amounts refused because they were negative or not finite.
    COST_REJECTED_TOTAL = "conduit_audio_cost_rejected_total", Counter, ["operation"], &[],
        "Cost amounts rejected because they were negative, NaN or infinite.";
    /// Audio durations refused because they were negative or not finite.
    AUDIO_SECONDS_REJECTED_TOTAL = "conduit_audio_audio_seconds_rejected_total", Counter, ["operation"], &[],
        "Audio durations rejected because they were negative, NaN or infinite.";
    /// Payloads whose audio duration could not be read.
    AUDIO_SECONDS_UNKNOWN_TOTAL = "conduit_audio_audio_seconds_unknown_total", Counter, ["operation", "reason"], &[],
        "Calls whose payload had no readable audio duration, so added nothing to conduit_audio_audio_seconds_total: unknown_format, unsupported or malformed.";
    /// The application's version and revision (`build_info!`), 1 while it runs.
    BUILD_INFO = "conduit_audio_build_info", Gauge, ["version", "revision"], &[],
        "The version and source revision of the application serving these metrics: 1 for the build that runs, so a new version on a graph marks a deploy.";
}

/// Series recorded through the `metrics` facade that a render left out. Written after the
/// audio families when `install` serves the facade's metrics; not part of
/// [`SUPPORT_FAMILIES`], which the registry writes itself.
pub const FACADE_SERIES_DROPPED_TOTAL: Family = Family {
    name: "conduit_audio_facade_series_dropped_total",
    kind: FamilyType::Counter,
    labels: &[],
    help: "Series recorded through the metrics facade left out of a render because their name is taken by an audio family or by a facade metric of another type (added at each render).",
    buckets: &[],
};

/// Calls whose model was folded into `other` past `MaxModels`. Written after
/// [`PROVIDER_LABELS_FOLDED_TOTAL`], and only when `ModelLabel` is on (off, the scrape is
/// exactly what it is without the option); not part of [`SUPPORT_FAMILIES`].
pub const MODEL_LABELS_FOLDED_TOTAL: Family = Family {
    name: "conduit_audio_model_labels_folded_total",
    kind: FamilyType::Counter,
    labels: &[],
    help: "Calls and voice turns whose model was recorded as model=\"other\" because more distinct models than MaxModels were seen (ModelLabel on).",
    buckets: &[],
};

/// Exports that failed, by exporter (`otlp`) and reason (`unreachable`, `rejected`,
/// `retries_exhausted`). Written after the supporting families, and only while an exporter
/// runs; not part of [`SUPPORT_FAMILIES`].
pub const EXPORT_FAILURES_TOTAL: Family = Family {
    name: "conduit_audio_export_failures_total",
    kind: FamilyType::Counter,
    labels: &["exporter", "reason"],
    help: "Exports of the registry that failed, by exporter and reason: unreachable (no answer in time), rejected (a status not worth retrying), retries_exhausted (429 or 5xx until the retries ran out). Values are cumulative, so the next export that succeeds carries what a failed one had.",
    buckets: &[],
};

/// The families that carry a `model` label, after `provider`, when `ModelLabel` is on:
/// the per-call families and the voice-turn families.
pub const MODEL_LABELLED_FAMILIES: [Family; 8] = [
    REQUESTS_TOTAL,
    REQUEST_DURATION_SECONDS,
    REQUEST_SIZE_BYTES,
    TIME_TO_FIRST_BYTE_SECONDS,
    AUDIO_SECONDS_TOTAL,
    CHARACTERS_TOTAL,
    TURN_STAGE_SECONDS,
    TURNS_TOTAL,
];

/// The eleven families of the guide, in export order.
pub const GUIDE_FAMILIES: [Family; 11] = [
    REQUESTS_TOTAL,
    REQUEST_DURATION_SECONDS,
    REQUEST_SIZE_BYTES,
    CACHE_HIT_RATIO,
    PROVIDER_ERROR_RATE,
    PROVIDER_UPTIME_RATIO,
    ACTIVE_OPERATIONS,
    REALTIME_SESSIONS_TOTAL,
    REALTIME_DURATION_SECONDS,
    REALTIME_LATENCY_SECONDS,
    COST_DOLLARS,
];

/// The families of streamed and synthesized audio, the three figures voice frameworks
/// report for every TTS call: time to first byte (`stream` calls), audio seconds
/// (`audio_seconds`) and characters (`characters`). Their series appear on first use.
pub const STREAMING_FAMILIES: [Family; 3] = [
    TIME_TO_FIRST_BYTE_SECONDS,
    AUDIO_SECONDS_TOTAL,
    CHARACTERS_TOTAL,
];

/// The families of realtime voice turns: each stage's time, and turns by outcome (the
/// whole turn is the guide's `realtime_latency_seconds`). Their series appear on first use.
pub const VOICE_TURN_FAMILIES: [Family; 2] = [TURN_STAGE_SECONDS, TURNS_TOTAL];

/// The supporting families: raw counters behind the ratios, the runtime's own
/// self-monitoring, and the application's build.
pub const SUPPORT_FAMILIES: [Family; 6] = [
    CACHE_LOOKUPS_TOTAL,
    HEALTH_CHECKS_TOTAL,
    PROVIDER_LABELS_FOLDED_TOTAL,
    COST_REJECTED_TOTAL,
    AUDIO_SECONDS_REJECTED_TOTAL,
    BUILD_INFO,
];

const REGISTRY_FAMILY_COUNT: usize = GUIDE_FAMILIES.len()
    + STREAMING_FAMILIES.len()
    + VOICE_TURN_FAMILIES.len()
    + SUPPORT_FAMILIES.len();

/// Every family `install` may write: the guide's, the streaming ones, the voice turns',
/// the supporting ones, [`AUDIO_SECONDS_UNKNOWN_TOTAL`] (once a payload had no duration),
/// [`EXPORT_FAILURES_TOTAL`] (while an exporter runs),
/// [`MODEL_LABELS_FOLDED_TOTAL`] (with `ModelLabel` on) and
/// [`FACADE_SERIES_DROPPED_TOTAL`], built from those lists so none can be forgotten.
pub const ALL_FAMILIES: [Family; REGISTRY_FAMILY_COUNT + 4] = {
    let mut all = [FACADE_SERIES_DROPPED_TOTAL; REGISTRY_FAMILY_COUNT + 4];
    let lists: [&[Family]; 7] = [
        &GUIDE_FAMILIES,
        &STREAMING_FAMILIES,
        &VOICE_TURN_FAMILIES,
        &SUPPORT_FAMILIES,
        &[AUDIO_SECONDS_UNKNOWN_TOTAL],
        &[EXPORT_FAILURES_TOTAL],
        &[MODEL_LABELS_FOLDED_TOTAL],
    ];
    let mut i = 0;
    let mut list = 0;
    while list < lists.len() {
        let mut j = 0;
        while j < lists[list].len() {
            all[i] = lists[list][j];
            i += 1;
            j += 1;
        }
        list += 1;
    }
    all
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_bounds_increase_strictly() {
        for family in &ALL_FAMILIES {
            assert_eq!(
                family.kind == FamilyType::Histogram,
                !family.buckets.is_empty(),
                "{}",
                family.name
            );
            assert!(
                family.buckets.windows(2).all(|w| w[0] < w[1]),
                "{}",
                family.name
            );
        }
    }

    #[test]
    fn counters_end_in_total_except_the_guides_cost_counter() {
        for family in &ALL_FAMILIES {
            if family.kind == FamilyType::Counter && family.name != COST_DOLLARS.name {
                assert!(family.name.ends_with("_total"), "{}", family.name);
            }
        }
    }
}
