//! Support for the code `#[audio_metric]` and `#[derive(AudioStatus)]` generate: the
//! recording types they name, and helpers that give a user's closures and expressions
//! known types, so type errors point at the user's code. Not a public API.

pub use crate::labels::{AudioStatus, DisconnectReason, Operation, Status};
pub use crate::recording::{ActiveCall, CallOutcome, CallSite};

use crate::labels::error_status;

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
