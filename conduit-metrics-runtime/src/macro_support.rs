//! Support for the code `#[audio_metric]` and `#[derive(AudioStatus)]` generate: the
//! recording types they name, and helpers that give a user's closures and expressions
//! known types, so type errors point at the user's code. Not a public API.

pub use crate::labels::{AudioStatus, DisconnectReason, Operation, Status};
pub use crate::recording::{
    ActiveCall, CallOutcome, CallSite, StreamItem, StreamTally, instrument_future,
    instrument_stream,
};

use crate::labels::{UnknownDuration, error_status};

// The helpers below pass a user's closure through a signature that gives its
// parameter a known type (`&T`), so `|t| t.field` type-checks, and that fixes its
// return type, so a wrong type is reported at the closure.

/// Checks that a `cost` closure returns `f64` dollars.
#[inline]
pub fn cost_of<T: ?Sized>(value: &T, closure: impl FnOnce(&T) -> f64) -> f64 {
    closure(value)
}

/// Checks that a `status` closure takes the error and returns a `Status`; a status that
/// is not an error status (`success`, `cancelled`, `panic`) counts as `error`.
#[inline]
pub fn status_of<E: ?Sized>(error: &E, closure: impl FnOnce(&E) -> Status) -> Status {
    error_status(closure(error))
}

/// The status of the one field of an `#[audio_status(transparent)]` variant or struct.
#[inline]
pub fn transparent_status<E: AudioStatus + ?Sized>(field: &E) -> Status {
    error_status(field.audio_status())
}

/// Checks that a `cache_hit` closure returns `bool`.
#[inline]
pub fn cache_hit_of<T: ?Sized>(value: &T, closure: impl FnOnce(&T) -> bool) -> bool {
    closure(value)
}

/// Checks that a `disconnect_reason` closure returns a `DisconnectReason`.
#[inline]
pub fn disconnect_reason_of<T: ?Sized>(
    value: &T,
    closure: impl FnOnce(&T) -> DisconnectReason,
) -> DisconnectReason {
    closure(value)
}

/// Byte counts a `size` expression or closure may produce.
pub trait AudioSize {
    /// The size in bytes.
    fn audio_size(self) -> u64;
}

macro_rules! audio_size_from {
    ($($t:ty),*) => {$(
        impl AudioSize for $t {
            #[inline]
            fn audio_size(self) -> u64 {
                // usize and smaller fit in u64 on every supported target.
                self as u64
            }
        }
    )*};
}
audio_size_from!(usize, u64, u32, u16, u8);

/// A `size = expr` value in bytes.
#[inline]
pub fn size_of<S: AudioSize>(size: S) -> u64 {
    size.audio_size()
}

/// A `size = |v| ...` closure's value in bytes.
#[inline]
pub fn size_of_ok<T: ?Sized, S: AudioSize>(value: &T, closure: impl FnOnce(&T) -> S) -> u64 {
    closure(value).audio_size()
}

/// Durations an `audio_seconds` expression or closure may produce: seconds as `f64` or
/// `f32`, a `Duration`, or a `Result` of one whose error says why there is none (with the
/// `audio-duration` feature, what `audio_duration_secs` returns).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a duration of audio",
    label = "`audio_seconds` must give seconds as `f64` (or `f32`), a `std::time::Duration`, or a `Result` of one with an error that converts into `UnknownDuration`",
    note = "e.g. `audio_seconds = |chunk| chunk.samples.len() as f64 / 24_000.0`, or `audio_seconds = audio_duration_secs(&audio)`"
)]
pub trait AudioSeconds {
    /// The duration in seconds, or why it is unknown.
    fn audio_seconds(self) -> MeasuredSeconds;
}

/// Seconds of audio, or why a payload has none.
pub type MeasuredSeconds = Result<f64, UnknownDuration>;

impl AudioSeconds for f64 {
    #[inline]
    fn audio_seconds(self) -> MeasuredSeconds {
        Ok(self)
    }
}

impl AudioSeconds for f32 {
    #[inline]
    fn audio_seconds(self) -> MeasuredSeconds {
        Ok(f64::from(self))
    }
}

impl AudioSeconds for std::time::Duration {
    #[inline]
    fn audio_seconds(self) -> MeasuredSeconds {
        Ok(self.as_secs_f64())
    }
}

impl<S: AudioSeconds, E: Into<UnknownDuration>> AudioSeconds for Result<S, E> {
    #[inline]
    fn audio_seconds(self) -> MeasuredSeconds {
        self.map_err(Into::into)
            .and_then(AudioSeconds::audio_seconds)
    }
}

/// An `audio_seconds = expr` value in seconds.
#[inline]
pub fn audio_seconds<S: AudioSeconds>(seconds: S) -> MeasuredSeconds {
    seconds.audio_seconds()
}

/// An `audio_seconds = |v| ...` closure's value in seconds.
#[inline]
pub fn audio_seconds_of_ok<T: ?Sized, S: AudioSeconds>(
    value: &T,
    closure: impl FnOnce(&T) -> S,
) -> MeasuredSeconds {
    closure(value).audio_seconds()
}

/// Character counts a `characters = expr` may produce.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a count of characters",
    label = "`characters` must give an unsigned integer such as `usize`",
    note = "e.g. `characters = text.chars().count()`"
)]
pub trait CharacterCount {
    /// The count.
    fn character_count(self) -> u64;
}

macro_rules! character_count_from {
    ($($t:ty),*) => {$(
        impl CharacterCount for $t {
            #[inline]
            fn character_count(self) -> u64 {
                // usize and smaller fit in u64 on every supported target.
                self as u64
            }
        }
    )*};
}
character_count_from!(usize, u64, u32, u16, u8);

/// A `characters = expr` value.
#[inline]
pub fn characters<C: CharacterCount>(count: C) -> u64 {
    count.character_count()
}

/// A per-chunk closure's value: the chunk passes through a signature that fixes its type
/// (`&C`), so `|chunk| chunk.len()` type-checks and a wrong return type is reported at
/// the closure. `size` chunks give bytes.
#[inline]
pub fn chunk_size<C: ?Sized, S: AudioSize>(chunk: &C, closure: impl FnOnce(&C) -> S) -> u64 {
    closure(chunk).audio_size()
}

/// What a returned value is, found at compile time by [`ReturnedValue`].
pub struct IsAFuture;
/// See [`IsAFuture`].
pub struct IsAStream;
/// See [`IsAFuture`].
pub struct IsAValue;

/// Kinds of value a function marked `#[audio_metric]` (without `stream`) may return.
#[diagnostic::on_unimplemented(
    message = "this function returns a future that `#[audio_metric]` cannot wait for",
    label = "the call would be counted when the future is created, not when it completes",
    note = "make it an `async fn`, or return `impl Future<Output = ..>` or `Pin<Box<dyn Future<Output = ..>>>` (those are timed until they complete)"
)]
pub trait NotAFuture {}

/// Kinds of value a function marked `#[audio_metric]` without `stream` may return.
#[diagnostic::on_unimplemented(
    message = "this function returns a stream: add `stream` to `#[audio_metric(..)]`",
    label = "without `stream`, the call would end when the stream is created, not when it ends",
    note = "`#[audio_metric(operation = \"tts\", stream)]` times the stream to its first item and to its end"
)]
pub trait NotAStream {}

impl NotAFuture for IsAValue {}
impl NotAStream for IsAValue {}
impl NotAFuture for IsAStream {}
impl NotAStream for IsAFuture {}

/// Fails to compile unless `kind` is [`IsAValue`], with the message of the trait it
/// lacks.
#[inline]
pub fn returns_a_plain_value<K: NotAFuture + NotAStream>(kind: K) {
    let _ = kind;
}

/// Probes a returned value: `(&&&ReturnedValue(&v)).kind()` picks the first impl whose
/// bounds hold (method resolution tries the receiver as written before dereferencing it),
/// so futures give [`IsAFuture`], streams [`IsAStream`] and the rest [`IsAValue`].
pub struct ReturnedValue<'a, T: ?Sized>(pub &'a T);

/// Chosen when the value is a future.
pub trait ProbeFuture {
    /// [`IsAFuture`].
    fn kind(&self) -> IsAFuture;
}

impl<T: std::future::Future + ?Sized> ProbeFuture for &&ReturnedValue<'_, T> {
    #[inline]
    fn kind(&self) -> IsAFuture {
        IsAFuture
    }
}

/// Chosen when the value is a stream.
pub trait ProbeStream {
    /// [`IsAStream`].
    fn kind(&self) -> IsAStream;
}

impl<T: futures_core::Stream + ?Sized> ProbeStream for &ReturnedValue<'_, T> {
    #[inline]
    fn kind(&self) -> IsAStream {
        IsAStream
    }
}

/// Chosen for every other value.
pub trait ProbeValue {
    /// [`IsAValue`].
    fn kind(&self) -> IsAValue;
}

impl<T: ?Sized> ProbeValue for ReturnedValue<'_, T> {
    #[inline]
    fn kind(&self) -> IsAValue {
        IsAValue
    }
}

/// Values a `provider = expr` may have: anything that is `AsRef<str>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as the provider label",
    label = "the provider must be text: any `AsRef<str>` such as `&str` or `String`",
    note = "convert it, e.g. `provider = self.id.to_string()`, or use a name field"
)]
pub trait ProviderName {
    /// The label text.
    fn provider_name(&self) -> &str;
}

impl<P: AsRef<str> + ?Sized> ProviderName for P {
    #[inline]
    fn provider_name(&self) -> &str {
        self.as_ref()
    }
}

/// The provider label text of a `provider = expr` value.
#[inline]
pub fn provider_str<P: ProviderName + ?Sized>(provider: &P) -> &str {
    provider.provider_name()
}

/// Values a `model = expr` may have: anything that is `AsRef<str>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as the model label",
    label = "the model must be text: any `AsRef<str>` such as `&str` or `String`",
    note = "convert it, e.g. `model = self.model.to_string()`, or use the model's name field"
)]
pub trait ModelName {
    /// The label text.
    fn model_name(&self) -> &str;
}

impl<M: AsRef<str> + ?Sized> ModelName for M {
    #[inline]
    fn model_name(&self) -> &str {
        self.as_ref()
    }
}

/// The model label text of a `model = expr` value.
#[inline]
pub fn model_str<M: ModelName + ?Sized>(model: &M) -> &str {
    model.model_name()
}

/// Wraps an error so `(&ErrorStatus(&e)).status()` picks the error's `AudioStatus`
/// impl when it has one and `error` otherwise (method resolution tries the by-value
/// receiver before the auto-referenced one).
pub struct ErrorStatus<'a, E: ?Sized>(pub &'a E);

/// Chosen when the error implements `AudioStatus`.
pub trait StatusFromImpl {
    /// The error's status.
    fn status(&self) -> Status;
}

impl<E: AudioStatus + ?Sized> StatusFromImpl for ErrorStatus<'_, E> {
    #[inline]
    fn status(&self) -> Status {
        error_status(self.0.audio_status())
    }
}

/// Chosen for errors without an `AudioStatus` impl.
pub trait StatusFallback {
    /// Always `error`.
    fn status(&self) -> Status;
}

impl<E: ?Sized> StatusFallback for &ErrorStatus<'_, E> {
    #[inline]
    fn status(&self) -> Status {
        Status::Error
    }
}
