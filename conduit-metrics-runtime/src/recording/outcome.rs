//! What a call ended with: its status, and what it measured (size, cost, audio seconds
//! or why there are none, the cache result, a realtime session's disconnect reason).

use crate::labels::{DisconnectReason, Status, UnknownDuration};

/// What a call ended with, plus its optional size, cost and cache result.
///
/// ```
/// use conduit_metrics_runtime::{CallOutcome, Status};
/// let outcome = CallOutcome::new(Status::Success).size(48_000).cost(0.006).cache_hit(false);
/// assert_eq!(outcome.status(), Status::Success);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[must_use]
pub struct CallOutcome {
    pub(super) status: Status,
    pub(super) size: Option<u64>,
    pub(super) cost: Option<f64>,
    pub(super) audio_seconds: Option<f64>,
    pub(super) audio_seconds_unknown: Option<UnknownDuration>,
    pub(super) cache_hit: Option<bool>,
    pub(super) disconnect_reason: Option<DisconnectReason>,
}

impl CallOutcome {
    /// An outcome with this status and nothing else.
    pub const fn new(status: Status) -> Self {
        CallOutcome {
            status,
            size: None,
            cost: None,
            audio_seconds: None,
            audio_seconds_unknown: None,
            cache_hit: None,
            disconnect_reason: None,
        }
    }

    /// Records `bytes` in `conduit_audio_request_size_bytes`.
    pub const fn size(mut self, bytes: u64) -> Self {
        self.size = Some(bytes);
        self
    }

    /// Adds `dollars` to `conduit_audio_cost_dollars` (rejected if negative or not finite).
    pub const fn cost(mut self, dollars: f64) -> Self {
        self.cost = Some(dollars);
        self
    }

    /// Adds `seconds` of audio processed or produced to
    /// `conduit_audio_audio_seconds_total` (rejected if negative or not finite).
    pub const fn audio_seconds(mut self, seconds: f64) -> Self {
        self.audio_seconds = Some(seconds);
        self
    }

    /// Says the payload's audio duration could not be read: the call adds nothing to
    /// `conduit_audio_audio_seconds_total` and counts once in
    /// `conduit_audio_audio_seconds_unknown_total{operation,reason}` (logged at the 1st,
    /// 2nd, 4th, 8th... such payload).
    pub const fn audio_seconds_unknown(mut self, reason: UnknownDuration) -> Self {
        self.audio_seconds_unknown = Some(reason);
        self
    }

    /// [`audio_seconds`](Self::audio_seconds) of an `Ok`, or
    /// [`audio_seconds_unknown`](Self::audio_seconds_unknown) of an `Err`: what the
    /// `audio_seconds` argument of `#[audio_metric]` calls, so that
    /// `audio_seconds = audio_duration_secs(&audio)` counts a payload it cannot read.
    ///
    /// ```
    /// use conduit_metrics_runtime::{CallOutcome, Status, UnknownDuration};
    /// let read: Result<f64, UnknownDuration> = Err(UnknownDuration::UnknownFormat);
    /// let outcome = CallOutcome::new(Status::Success).audio_duration(read);
    /// # let _ = outcome;
    /// ```
    pub fn audio_duration<E: Into<UnknownDuration>>(self, seconds: Result<f64, E>) -> Self {
        match seconds {
            Ok(seconds) => self.audio_seconds(seconds),
            Err(reason) => self.audio_seconds_unknown(reason.into()),
        }
    }

    /// Counts a cache lookup of the call's operation as a hit or a miss.
    pub const fn cache_hit(mut self, hit: bool) -> Self {
        self.cache_hit = Some(hit);
        self
    }

    /// Why the realtime session this call ran ended (realtime calls only; see
    /// [`CallSite::start_session`](crate::CallSite::start_session)).
    pub const fn disconnect_reason(mut self, reason: DisconnectReason) -> Self {
        self.disconnect_reason = Some(reason);
        self
    }

    /// The status.
    pub const fn status(&self) -> Status {
        self.status
    }

    /// The same outcome with another status (a streamed call's first error).
    pub(crate) const fn with_status(mut self, status: Status) -> Self {
        self.status = status;
        self
    }

    /// The bytes given so far, if any.
    pub(crate) const fn size_so_far(&self) -> Option<u64> {
        self.size
    }

    /// The dollars given so far, if any.
    pub(crate) const fn cost_so_far(&self) -> Option<f64> {
        self.cost
    }

    /// The audio seconds given so far, if any.
    pub(crate) const fn audio_seconds_so_far(&self) -> Option<f64> {
        self.audio_seconds
    }

    /// Whether a cache lookup was given.
    pub(crate) const fn has_cache_hit(&self) -> bool {
        self.cache_hit.is_some()
    }

    /// The disconnect reason of a realtime call: the one given, else what the status
    /// implies (success: the client left; a timeout: `timeout`; the provider down:
    /// `provider_error`; other errors: `error`; cancelled or panicked: `dropped`).
    pub const fn effective_disconnect_reason(&self) -> DisconnectReason {
        if let Some(reason) = self.disconnect_reason {
            return reason;
        }
        match self.status {
            Status::Success => DisconnectReason::ClientDisconnect,
            Status::Timeout => DisconnectReason::Timeout,
            Status::ProviderUnavailable => DisconnectReason::ProviderError,
            Status::Cancelled | Status::Panic => DisconnectReason::Dropped,
            Status::Error | Status::RateLimited | Status::InvalidRequest => DisconnectReason::Error,
        }
    }
}
