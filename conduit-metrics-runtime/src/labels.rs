//! Typed label values: the only strings that can appear in the `operation`, `status` and
//! `disconnect_reason` labels, and the rules that bound the free-form `provider` label.

use std::fmt;

pub use crate::limits::MAX_PROVIDER_LABEL_BYTES;

/// Defines a label enum whose variants map to fixed label strings, with `ALL`, `as_str`,
/// `index` and `FromStr`, so the catalogue can iterate and index series by it.
macro_rules! label_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($label:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in the order series are exported.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// How many values there are.
            pub const COUNT: usize = Self::ALL.len();

            /// The label value exactly as exported.
            pub const fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $text, )+ }
            }

            /// Dense index of this value, `0..COUNT`.
            pub const fn index(self) -> usize {
                self as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownLabelValue;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match text {
                    $( $text => Ok($name::$variant), )+
                    _ => Err(UnknownLabelValue {
                        label: $label,
                        value: text.to_owned(),
                        allowed: &[$($text),+],
                    }),
                }
            }
        }
    };
}

label_enum! {
    /// The kind of audio work a call does (label `operation`).
    ///
    /// ```
    /// use conduit_metrics_runtime::Operation;
    /// assert_eq!(Operation::Tts.as_str(), "tts");
    /// assert_eq!("realtime".parse::<Operation>().unwrap(), Operation::Realtime);
    /// ```
    pub enum Operation ("operation") {
        /// Speech to text.
        Transcription = "transcription",
        /// Text to speech.
        Tts = "tts",
        /// Speech or text translation.
        Translation = "translation",
        /// A realtime voice session.
        Realtime = "realtime",
    }
}

label_enum! {
    /// The outcome of one call (label `status`).
    ///
    /// The first five error values are what [`AudioStatus`] may return for an error;
    /// `Cancelled` and `Panic` are set by the runtime itself.
    pub enum Status ("status") {
        /// Returned `Ok(_)` or a non-`Result` value.
        Success = "success",
        /// An error with no more specific status.
        Error = "error",
        /// The provider did not answer in time.
        Timeout = "timeout",
        /// The provider refused the call because of a rate limit.
        RateLimited = "rate_limited",
        /// The request was rejected as invalid.
        InvalidRequest = "invalid_request",
        /// The provider could not be reached or is down.
        ProviderUnavailable = "provider_unavailable",
        /// The future was dropped before it completed.
        Cancelled = "cancelled",
        /// The body panicked.
        Panic = "panic",
    }
}

impl Status {
    /// Whether the call completed (ran to an end, successful or not). Cancelled calls did
    /// not: they count in neither side of the error rate and have no duration.
    pub const fn is_completed(self) -> bool {
        !matches!(self, Status::Cancelled)
    }

    /// Whether the call completed and failed (every completed status but `success`).
    pub const fn is_failure(self) -> bool {
        !matches!(self, Status::Success | Status::Cancelled)
    }
}

label_enum! {
    /// Why a realtime session ended (label `disconnect_reason`).
    pub enum DisconnectReason ("disconnect_reason") {
        /// The client closed the session.
        ClientDisconnect = "client_disconnect",
        /// The server closed the session.
        ServerClose = "server_close",
        /// The session timed out.
        Timeout = "timeout",
        /// The provider failed.
        ProviderError = "provider_error",
        /// Another error ended the session.
        Error = "error",
        /// The session guard was dropped without a reason (including panics).
        Dropped = "dropped",
    }
}

label_enum! {
    /// A stage of a realtime voice turn (label `stage` of
    /// `conduit_audio_turn_stage_seconds`), each ending at one mark of a [`Turn`](crate::Turn).
    pub enum TurnStage ("stage") {
        /// From the end of the user's speech to the end-of-turn decision.
        EndOfTurn = "end_of_turn",
        /// To the final transcript.
        Transcription = "transcription",
        /// To the response model's first output.
        Response = "response",
        /// To the first frame of the agent's audio.
        Synthesis = "synthesis",
    }
}

label_enum! {
    /// How a realtime voice turn ended (label `outcome` of `conduit_audio_turns_total`).
    pub enum TurnOutcome ("outcome") {
        /// The agent's audio started.
        Answered = "answered",
        /// The user spoke over the agent's audio.
        Interrupted = "interrupted",
        /// The turn ended with no agent audio.
        Abandoned = "abandoned",
    }
}

/// A string that is not one of a label's allowed values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {label} value; expected one of: {}", allowed.join(", "))]
pub struct UnknownLabelValue {
    /// The label name.
    pub label: &'static str,
    /// The rejected text.
    pub value: String,
    /// The allowed values.
    pub allowed: &'static [&'static str],
}

/// Maps an error to the `status` label its call is counted under.
///
/// `#[derive(AudioStatus)]` implements it for error enums; an error type without an
/// implementation counts as [`Status::Error`] with no extra code.
///
/// ```
/// use conduit_metrics_runtime::{AudioStatus, Status};
///
/// enum ProviderError { Timeout, Http(u16) }
///
/// impl AudioStatus for ProviderError {
///     fn audio_status(&self) -> Status {
///         match self {
///             ProviderError::Timeout => Status::Timeout,
///             ProviderError::Http(429) => Status::RateLimited,
///             ProviderError::Http(_) => Status::Error,
///         }
///     }
/// }
/// assert_eq!(ProviderError::Http(429).audio_status(), Status::RateLimited);
/// ```
///
/// The runtime implements it for errors audio clients meet but do not own (see
/// [`foreign_errors`](crate::foreign_errors) and the status table of `docs/errors.md`):
/// `std::io::Error`, Tokio's `Elapsed`, and `reqwest::Error` with the `reqwest` feature.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no `AudioStatus`",
    label = "no status for this error type",
    note = "implement or derive `AudioStatus` for it, or give the call a `status = |e| ...` closure"
)]
pub trait AudioStatus {
    /// The status this error is counted under. Returning `Success`, `Cancelled` or
    /// `Panic` for an error is treated as `Error`.
    fn audio_status(&self) -> Status;
}

impl<T: AudioStatus + ?Sized> AudioStatus for &T {
    fn audio_status(&self) -> Status {
        (**self).audio_status()
    }
}

impl<T: AudioStatus + ?Sized> AudioStatus for std::sync::Arc<T> {
    fn audio_status(&self) -> Status {
        (**self).audio_status()
    }
}

impl<T: AudioStatus + ?Sized> AudioStatus for std::rc::Rc<T> {
    fn audio_status(&self) -> Status {
        (**self).audio_status()
    }
}

impl<T: AudioStatus + ?Sized> AudioStatus for Box<T> {
    fn audio_status(&self) -> Status {
        (**self).audio_status()
    }
}

/// The status an error is counted under: its own choice, restricted to error statuses.
pub(crate) fn error_status(chosen: Status) -> Status {
    match chosen {
        Status::Success | Status::Cancelled | Status::Panic => Status::Error,
        other => other,
    }
}

/// Value used for an empty provider name (an empty label value would mean "no label").
pub const EMPTY_PROVIDER_LABEL: &str = "unknown";

/// Value that providers beyond `MaxProviders` are folded into.
pub const OVERFLOW_PROVIDER_LABEL: &str = "other";

/// The label value stored for a provider name: control characters replaced by U+FFFD,
/// cut to [`MAX_PROVIDER_LABEL_BYTES`], and empty names replaced by `unknown`.
/// Quotes, backslashes and newlines are escaped later, when the exposition is written.
///
/// ```
/// use conduit_metrics_runtime::labels::provider_label;
/// assert_eq!(provider_label("openai"), "openai");
/// assert_eq!(provider_label(""), "unknown");
/// assert_eq!(provider_label("a\tb"), "a\u{FFFD}b");
/// assert_eq!(provider_label(&"x".repeat(100)).len(), 64);
/// ```
pub fn provider_label(name: &str) -> String {
    let mut label = String::with_capacity(name.len().min(MAX_PROVIDER_LABEL_BYTES));
    for ch in name.chars() {
        // Newlines are kept (they escape cleanly); other control characters are not.
        let ch = if ch.is_control() && ch != '\n' {
            char::REPLACEMENT_CHARACTER
        } else {
            ch
        };
        if label.len() + ch.len_utf8() > MAX_PROVIDER_LABEL_BYTES {
            break;
        }
        label.push(ch);
    }
    if label.is_empty() {
        label.push_str(EMPTY_PROVIDER_LABEL);
    }
    label
}

/// Why an export failed: the `reason` of `conduit_audio_export_failures_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExportFailure {
    /// No answer: the receiver could not be reached, or did not answer in time.
    Unreachable,
    /// The receiver refused the export with a status not worth retrying (400, 401, ...).
    Rejected,
    /// The receiver kept answering 429, 502, 503 or 504 until the retries ran out.
    RetriesExhausted,
}

impl ExportFailure {
    pub(crate) const COUNT: usize = 3;
    pub(crate) const ALL: [ExportFailure; Self::COUNT] = [
        ExportFailure::Unreachable,
        ExportFailure::Rejected,
        ExportFailure::RetriesExhausted,
    ];

    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            ExportFailure::Unreachable => "unreachable",
            ExportFailure::Rejected => "rejected",
            ExportFailure::RetriesExhausted => "retries_exhausted",
        }
    }

    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

/// Why a payload's audio duration is unknown: the `reason` of
/// `conduit_audio_audio_seconds_unknown_total`, given with
/// [`CallOutcome::audio_seconds_unknown`](crate::CallOutcome::audio_seconds_unknown) or by an
/// `audio_seconds` expression that returned an error (with the `audio-duration` feature,
/// [`AudioDurationError::reason`](crate::audio_duration::AudioDurationError::reason)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UnknownDuration {
    /// Not audio in a format the reader knows (or empty).
    UnknownFormat,
    /// A known container holding what the reader does not time (a compressed WAV without a
    /// sample count, a file with no audio track).
    Unsupported,
    /// A known container that is broken: a zero sample rate, a header cut short, no packets.
    Malformed,
}

impl UnknownDuration {
    /// How many reasons there are.
    pub const COUNT: usize = 3;
    /// Every reason, in the order they are exported.
    pub const ALL: [UnknownDuration; Self::COUNT] = [
        UnknownDuration::UnknownFormat,
        UnknownDuration::Unsupported,
        UnknownDuration::Malformed,
    ];

    /// The label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            UnknownDuration::UnknownFormat => "unknown_format",
            UnknownDuration::Unsupported => "unsupported",
            UnknownDuration::Malformed => "malformed",
        }
    }

    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_strings_are_the_contracts() {
        let ops: Vec<_> = Operation::ALL.iter().map(|o| o.as_str()).collect();
        assert_eq!(ops, ["transcription", "tts", "translation", "realtime"]);
        let statuses: Vec<_> = Status::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            statuses,
            [
                "success",
                "error",
                "timeout",
                "rate_limited",
                "invalid_request",
                "provider_unavailable",
                "cancelled",
                "panic"
            ]
        );
        let unknown: Vec<_> = UnknownDuration::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(unknown, ["unknown_format", "unsupported", "malformed"]);
        let reasons: Vec<_> = DisconnectReason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(
            reasons,
            [
                "client_disconnect",
                "server_close",
                "timeout",
                "provider_error",
                "error",
                "dropped"
            ]
        );
    }

    #[test]
    fn parsing_rejects_unknown_values_and_lists_allowed_ones() {
        let err = "transcribe".parse::<Operation>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "`transcribe` is not a valid operation value; expected one of: transcription, tts, translation, realtime"
        );
        assert_eq!("timeout".parse::<Status>(), Ok(Status::Timeout));
    }

    #[test]
    fn error_statuses_cannot_claim_success() {
        assert_eq!(error_status(Status::Success), Status::Error);
        assert_eq!(error_status(Status::Panic), Status::Error);
        assert_eq!(error_status(Status::Timeout), Status::Timeout);
    }

    #[test]
    fn provider_labels_are_bounded_and_clean() {
        assert_eq!(provider_label("é".repeat(40).as_str()).len(), 64);
        assert_eq!(provider_label("a\"b\\c\nd"), "a\"b\\c\nd");
        assert_eq!(provider_label("\u{0}\u{7f}"), "\u{FFFD}\u{FFFD}");
    }
}
